package main

import (
	"fmt"
	"math/big"
	"strings"
)

// chainSpec is a chain flowtrace knows by name.
type chainSpec struct {
	name    string
	chainID int64 // 0: any (dev chains)
}

// chains are the names --chain takes.
var chains = []chainSpec{
	{name: "ethereum", chainID: 1},
	{name: "sepolia", chainID: 11155111},
	{name: "holesky", chainID: 17000},
	{name: "dev", chainID: 1337}, // geth --dev and the in-process dev node
}

func lookupChain(name string) (chainSpec, bool) {
	for _, c := range chains {
		if c.name == strings.ToLower(name) {
			return c, true
		}
	}
	return chainSpec{}, false
}

func chainNames() string {
	var s []string
	for _, c := range chains {
		s = append(s, c.name)
	}
	return strings.Join(s, ", ")
}

// check refuses a node that serves another chain than the one asked for.
func (c chainSpec) check(id *big.Int) error {
	if id == nil || id.Cmp(big.NewInt(c.chainID)) == 0 {
		return nil
	}
	for _, other := range chains {
		if id.Cmp(big.NewInt(other.chainID)) == 0 {
			return fmt.Errorf("the node serves %s (chain id %s), not %s: pass --chain %s or point --rpc at a %s node", other.name, id, c.name, other.name, c.name)
		}
	}
	return fmt.Errorf("the node serves chain id %s, not %s (chain id %d): point --rpc at a %s node", id, c.name, c.chainID, c.name)
}
