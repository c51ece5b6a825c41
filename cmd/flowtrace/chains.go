package main

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/flowtrace/flowtrace/chains/networks"
)

// chainSpec is a chain flowtrace knows by name: a row of chains/networks.
type chainSpec = networks.Network

// lookupChain finds --chain by name or alias.
func lookupChain(name string) (chainSpec, bool) {
	return networks.Lookup(name)
}

func chainNames() string {
	return strings.Join(networks.Names(), ", ")
}

// checkChain refuses a node that serves another chain than c: another chain
// id, or (where c names one) another genesis block. genesis "" is a node
// that did not say.
func checkChain(c chainSpec, id *big.Int, genesis string) error {
	if id != nil && id.Cmp(big.NewInt(c.ChainID)) != 0 {
		if other, ok := networks.ByChainID(id); ok {
			return fmt.Errorf("the node serves %s (chain id %s), not %s: pass --chain %s or point --rpc at a %s node", other.Name, id, c.Name, other.Name, c.Name)
		}
		return fmt.Errorf("the node serves chain id %s, not %s (chain id %d): point --rpc at a %s node", id, c.Name, c.ChainID, c.Name)
	}
	if c.GenesisHash != "" && genesis != "" && !strings.EqualFold(genesis, c.GenesisHash) {
		return fmt.Errorf("the node serves chain id %d but its genesis block is %s, not %s's %s: it is a fork or a local copy of %s; point --rpc at a %s node, pass --chain dev for a local chain, or --skip-genesis-check for a local network playing %s",
			c.ChainID, genesis, c.Name, c.GenesisHash, c.Name, c.Name, c.Name)
	}
	return nil
}

// reorgBufferHelp names each chain's reorg buffer, for --reorg-buffer's help.
func reorgBufferHelp() string {
	var s []string
	for _, n := range mustNetworks() {
		s = append(s, fmt.Sprintf("%d on %s", n.ReorgBuffer, n.Name))
	}
	return strings.Join(s, ", ")
}

// mustNetworks lists the bundled networks (read and checked by their tests).
func mustNetworks() []networks.Network {
	all, _ := networks.All()
	return all
}
