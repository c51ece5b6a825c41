package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flowtrace/flowtrace/chains/bitcoin"
	"github.com/flowtrace/flowtrace/chains/crosschain"
	"github.com/flowtrace/flowtrace/tracer"
)

func init() {
	chainOpeners[kindBitcoin] = openBitcoinLinked
	registerPairer(kindEVM, kindBitcoin, "thorchain", thorchainToBitcoin)
}

// bridgedBitcoin is the name the bridges give every Bitcoin network
// (THORChain's BTC): the chain of its nodes and edges in the outputs.
const bridgedBitcoin = "bitcoin"

// openBitcoinLinked opens a Bitcoin node beside the traced chain: the probe
// must find the network name says, and a node that can serve the walk.
func openBitcoinLinked(ctx context.Context, o *traceOptions, name string, via chainIO) (*linkedChain, error) {
	net, _ := lookupBitcoin(name)
	if len(via.urls) > 1 {
		return nil, usageErr("--rpc %s=URL: a Bitcoin chain takes one node for now: give one URL", name)
	}
	c, err := bitcoin.Dial(via.urls[0], bitcoin.Options{
		Transport: via.transport, RequestsPerSecond: o.rps, MaxConcurrent: o.maxConcurrent, BatchSize: o.batchSize, Timeout: o.timeout,
	})
	if err != nil {
		return nil, usageErr("--rpc %s=URL: %v", name, err)
	}
	p, err := c.ProbeNode(ctx)
	if err != nil {
		if errors.Is(err, tracer.ErrUnsupported) {
			return nil, usageErr("%s: %v: point --rpc %s=URL at Bitcoin Core (-txindex) or btcd (--txindex --addrindex)", name, err, name)
		}
		return nil, withCode(exitError, fmt.Errorf("%s: %v; check that the node is up and --rpc %s=URL (or %s) is right", name, err, name, bitcoinRPCEnv))
	}
	if p.Params.Name != net.params.Name {
		other := p.Chain
		for _, c := range bitcoinChains {
			if c.params.Name == p.Params.Name {
				other = c.name
			}
		}
		return nil, usageErr("the node given for %s serves %s (getblockchaininfo chain %q): give it as --rpc %s=URL, or point --rpc %s=URL at a %s node",
			name, other, p.Chain, other, name, name)
	}
	probeRequests, _ := c.Usage()
	src := bitcoin.NewSource(c, p, bitcoin.SourceOptions{Chain: bridgedBitcoin})
	method, why := src.Method()
	l := &linkedChain{
		name: net.name, kind: kindBitcoin, own: src, save: via.save, close: func() {}, feeSink: tracer.Qualify(bridgedBitcoin, bitcoin.FeeAddress),
		chain: crosschain.Chain{Name: bridgedBitcoin, Source: probed{src, probeRequests}, Clock: crosschain.BitcoinClock{C: c},
			Coin: tracer.Token{Symbol: bitcoinSymbol, Name: "Bitcoin", Decimals: bitcoinDecimals}, Labels: src.Labels()},
		node: fmt.Sprintf("Bitcoin %s; spends found by %s: %s; no hop cache on Bitcoin yet: every block comes from the node", p.Chain, method, why),
	}
	if method == bitcoin.SpendsByBlockScan {
		l.maxBlocks = func(w tracer.BlockRange) error {
			if n := w.Len(); n > o.maxBlocks {
				return usageErr("the %s window [%d,%d] needs a scan of %d blocks (roughly %s at ~2 blocks/s on a full node); narrow the window with --to-block, raise --max-blocks, or use btcd with --addrindex",
					name, w.From, w.To, n, (time.Duration(n/2) * time.Second).String())
			}
			return nil
		}
	}
	return l, nil
}

// thorchainToBitcoin pairs THORChain router deposits on an EVM chain with
// the vault's OUT: payouts on Bitcoin, read through the chain's scanner.
func thorchainToBitcoin(_ string, to *linkedChain) (crosschain.Pairer, error) {
	src, ok := to.own.(*bitcoin.Source)
	if !ok {
		return nil, fmt.Errorf("thorchain: %s was not opened as a Bitcoin chain", to.name)
	}
	return crosschain.NewTHORChain(to.chain.Name, src.Scanner(), to.chain.Clock, 0), nil
}
