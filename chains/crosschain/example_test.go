package crosschain_test

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/bitcoin"
	"github.com/flowtrace/flowtrace/chains/crosschain"
	"github.com/flowtrace/flowtrace/chains/evm"
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
