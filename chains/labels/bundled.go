package labels

import (
	"bytes"
	_ "embed"
	"fmt"
)

// registryCSV is the bundled registry: public entities on Ethereum and the
// other EVM chains of chains/networks
// (Tornado Cash pools, THORChain/MAYAChain routers, Chainflip, bridges, DEX
// routers, exchange hot wallets, OFAC/FBI-attributed Lazarus Group addresses),
// each row with the source it was verified against.
//
//go:embed registry.csv
var registryCSV []byte

// tokensCSV is the bundled token registry: major tokens and the wrapped
// native coin of each chain, each row with its source (see tokens.go).
//
//go:embed tokens.csv
var tokensCSV []byte

// Bundled returns a new registry holding the bundled labels.
func Bundled() (*Registry, error) {
	r := New()
	if err := r.ReadCSV(bytes.NewReader(registryCSV)); err != nil {
		return nil, fmt.Errorf("labels: bundled registry: %w", err)
	}
	if err := r.ReadCSV(bytes.NewReader(tokensCSV)); err != nil {
		return nil, fmt.Errorf("labels: bundled tokens: %w", err)
	}
	r.Conflicts = nil // the bundled file has no duplicates (tested); keep the list for user files
	return r, nil
}
