package main

import (
	"fmt"

	"github.com/flowtrace/flowtrace/chains/crosschain"
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/chains/evm/bridges"
)

func init() {
	for _, proto := range []bridges.Protocol{bridges.Across, bridges.Stargate} {
		registerPairer(kindEVM, kindEVM, string(proto), evmBridgeInto(proto))
	}
}

// evmBridgeInto makes the factory of protocol's pairer into a linked EVM
// chain: deposits made on any chain of the trace (the traced one, or
// another linked one on a trace A -> B -> C) are paired with the fills read
// on that chain's node. A bridge contract labelled as one counts as known.
func evmBridgeInto(protocol bridges.Protocol) pairerFactory {
	return func(_ string, to *linkedChain) (crosschain.Pairer, error) {
		src, ok := to.own.(*evm.Source)
		if !ok {
			return nil, fmt.Errorf("%s: %s was not opened as an EVM chain", protocol, to.name)
		}
		return crosschain.NewEVMBridge(protocol, to.chain.Name, src, to.chain.Clock,
			crosschain.EVMBridgeOptions{Labels: to.chain.Labels, WrappedNatives: to.wrappedNatives})
	}
}
