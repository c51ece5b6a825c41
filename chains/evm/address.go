package evm

import (
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/flowtrace/flowtrace/tracer"
)

// ParseAddress reads an EVM address typed by a user: 0x and 40 hex digits,
// all lower case, all upper case, or mixed case with a valid EIP-55
// checksum (a mixed-case typo or look-alike fails). It returns the EIP-55
// form. Messages quote the input and say what is wrong with it.
func ParseAddress(s string) (tracer.Address, error) {
	s = strings.TrimSpace(s)
	hex, ok := strings.CutPrefix(s, "0x")
	if !ok {
		hex, ok = strings.CutPrefix(s, "0X")
	}
	if !ok {
		return "", fmt.Errorf("%q is not an address: want 0x followed by 40 hex digits", s)
	}
	if len(hex) != 40 {
		return "", fmt.Errorf("%q has %d hex digits, an address has 40", s, len(hex))
	}
	if !common.IsHexAddress(s) {
		return "", fmt.Errorf("%q has characters that are not hex digits", s)
	}
	want := common.HexToAddress(s).Hex()
	if hex != strings.ToLower(hex) && hex != strings.ToUpper(hex) && hex != want[2:] {
		return "", fmt.Errorf("%q fails its EIP-55 checksum (a typo, or a look-alike?): the checksummed form of these digits is %s", s, want)
	}
	return tracer.Address(want), nil
}
