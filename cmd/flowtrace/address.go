package main

import (
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/flowtrace/flowtrace/tracer"
)

// parseAddress reads an EVM address: 0x and 40 hex digits, all lower case,
// all upper case, or mixed case with a valid EIP-55 checksum. It returns the
// EIP-55 form.
func parseAddress(s string) (tracer.Address, error) {
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
	if hex != strings.ToLower(hex) && hex != strings.ToUpper(hex) && s[2:] != want[2:] {
		return "", fmt.Errorf("%q fails its EIP-55 checksum (a typo, or a look-alike?): the checksummed form of these digits is %s", s, want)
	}
	return tracer.Address(want), nil
}
