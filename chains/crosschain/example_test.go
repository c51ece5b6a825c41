package crosschain_test

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/bitcoin"
	"github.com/flowtrace/flowtrace/chains/crosschain"
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/tracer"
)

// A trace that starts on Ethereum and goes on on Bitcoin where THORChain
// paid a swap out (compiled, not run: it needs both nodes).
func ExampleNew() {
	ctx := context.Background()
	es, err := evm.Dial(ctx, "http://127.0.0.1:8545", evm.Options{Chain: "ethereum"})
	if err != nil {
		panic(err)
	}
	es.DecodeEvents() // THORChain router deposits carry their memo
	rc, err := rpc.Dial("http://127.0.0.1:8545")
	if err != nil {
		panic(err)
	}
	bc, err := bitcoin.Dial("http://user:pass@127.0.0.1:8332", bitcoin.Options{})
	if err != nil {
		panic(err)
	}
	probe, err := bc.ProbeNode(ctx)
	if err != nil {
		panic(err)
	}
	bs := bitcoin.NewSource(bc, probe, bitcoin.SourceOptions{Chain: "bitcoin"})
	btcClock := crosschain.BitcoinClock{C: bc}
	src, err := crosschain.New(
		crosschain.Chain{Name: "ethereum", Source: es, Clock: crosschain.EVMClock{C: rc}},
		[]crosschain.Chain{{Name: "bitcoin", Source: bs, Clock: btcClock, Coin: tracer.Token{Symbol: "BTC", Decimals: 8}, Labels: bs.Labels()}},
		crosschain.NewTHORChain("bitcoin", bs.Scanner(), btcClock, 0),
	)
	if err != nil {
		panic(err)
	}
	tr, err := tracer.Walk(ctx, src, tracer.Options{Chain: "ethereum", Seeds: []tracer.Address{"0x..."},
		Window: tracer.BlockRange{From: 21_895_000, To: 21_900_000}, Labels: src.Labels(nil)})
	if err != nil {
		panic(err)
	}
	for _, s := range tr.Summary.Assets {
		fmt.Println(s.Asset, s.Buckets[tracer.BucketBridged], s.BridgedIn)
	}
}

// A trace that starts on Ethereum and goes on on Arbitrum and Base where
// Across and Stargate filled the deposits (compiled, not run: it needs the
// nodes).
func ExampleEVMBridgesInto() {
	ctx := context.Background()
	reg, err := labels.Bundled()
	if err != nil {
		panic(err)
	}
	chain := func(name, url string) (crosschain.Chain, *evm.Source) {
		es, err := evm.Dial(ctx, url, evm.Options{Chain: name})
		if err != nil {
			panic(err)
		}
		es.DecodeBridges() // Across and Stargate deposits carry their events
		rc, err := rpc.Dial(url)
		if err != nil {
			panic(err)
		}
		return crosschain.Chain{Name: name, Source: es, Clock: crosschain.EVMClock{C: rc}, Coin: tracer.Token{Symbol: "ETH", Decimals: 18}}, es
	}
	eth, _ := chain("ethereum", "http://127.0.0.1:8545")
	arb, arbSrc := chain("arbitrum", "http://127.0.0.1:8547")
	base, baseSrc := chain("base", "http://127.0.0.1:8549")
	var pairers []crosschain.Pairer
	for _, dest := range []struct {
		c   crosschain.Chain
		src *evm.Source
	}{{arb, arbSrc}, {base, baseSrc}} {
		ps, err := crosschain.EVMBridgesInto(dest.c.Name, dest.src, dest.c.Clock,
			crosschain.EVMBridgeOptions{Labels: reg, WrappedNatives: reg.WrappedNatives(dest.c.Name)})
		if err != nil {
			panic(err)
		}
		pairers = append(pairers, ps...)
	}
	src, err := crosschain.New(eth, []crosschain.Chain{arb, base}, pairers...)
	if err != nil {
		panic(err)
	}
	tr, err := tracer.Walk(ctx, src, tracer.Options{Chain: "ethereum", Seeds: []tracer.Address{"0x..."},
		Window: tracer.BlockRange{From: 21_895_000, To: 21_900_000}, Labels: src.Labels(reg)})
	if err != nil {
		panic(err)
	}
	for _, b := range crosschain.Summarize(tr) {
		fmt.Println(b.Bridge, b.From, b.To, b.Status, b.Stolen, b.Arrived)
	}
}
