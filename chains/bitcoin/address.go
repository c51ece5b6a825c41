package bitcoin

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

var evmAddress = regexp.MustCompile(`^0[xX][0-9a-fA-F]{40}$`)

// knownNets are the networks an address may be written for, in the order
// their names are tried for a message.
var knownNets = []*chaincfg.Params{
	&chaincfg.MainNetParams, &chaincfg.TestNet3Params, &chaincfg.TestNet4Params,
	&chaincfg.SigNetParams, &chaincfg.RegressionNetParams, &chaincfg.SimNetParams,
}

// ErrNotBitcoin is an address of another chain given for Bitcoin.
var ErrNotBitcoin = errors.New("not a Bitcoin address")

// ParseAddress checks a Bitcoin address typed by a user: its base58check or
// bech32/bech32m checksum, and that it is written for net (the node's
// chain). It returns the address in its canonical form (bech32 lower case).
// Messages quote the input and say what is wrong with it in one line.
func ParseAddress(s string, net *chaincfg.Params) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: the address is empty", ErrNotBitcoin)
	case evmAddress.MatchString(s):
		return "", fmt.Errorf("%w: %q is an Ethereum (EVM) address; give it for the ethereum chain", ErrNotBitcoin, s)
	}
	a, err := address.DecodeAddress(s, net)
	if err != nil {
		for _, other := range knownNets {
			if o, err2 := address.DecodeAddress(s, other); err2 == nil && o.IsForNet(other) {
				return "", fmt.Errorf("%q is a %s address, but the node serves %s", s, netName(other), netName(net))
			}
		}
		if hrp, ok := bech32Prefix(s); ok {
			return "", fmt.Errorf("%q is not a valid bech32 address for %s (%v): a typo?", s, hrp, err)
		}
		return "", fmt.Errorf("%q is not a valid Bitcoin address (%v): a typo?", s, err)
	}
	if !a.IsForNet(net) {
		for _, other := range knownNets {
			if a.IsForNet(other) {
				return "", fmt.Errorf("%q is a %s address, but the node serves %s", s, netName(other), netName(net))
			}
		}
		return "", fmt.Errorf("%q is not an address of %s, the node's chain", s, netName(net))
	}
	return a.EncodeAddress(), nil
}

// bech32Prefix reports the human-readable part of a bech32-looking string
// with a known prefix.
func bech32Prefix(s string) (string, bool) {
	l := strings.ToLower(s)
	for _, p := range knownNets {
		if strings.HasPrefix(l, p.Bech32HRPSegwit+"1") {
			return p.Bech32HRPSegwit, true
		}
	}
	return "", false
}

// netName names a network for messages. Testnet, testnet4 and signet share
// their prefixes; so do base58 regtest addresses.
func netName(p *chaincfg.Params) string {
	switch p.Name {
	case "mainnet":
		return "mainnet"
	case "testnet3", "testnet4", "signet":
		return "testnet/signet"
	}
	return p.Name
}

// LooksLikeAddress reports whether s has the shape of a Bitcoin address of
// any network (so that a command given it for another chain can say so).
func LooksLikeAddress(s string) bool {
	s = strings.TrimSpace(s)
	for _, p := range knownNets {
		if _, err := address.DecodeAddress(s, p); err == nil {
			return true
		}
	}
	return false
}
