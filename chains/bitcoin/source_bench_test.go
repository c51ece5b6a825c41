package bitcoin

import (
	"context"
	"fmt"
	"testing"

	"github.com/flowtrace/flowtrace/chains/bitcoin/utxo"
	"github.com/flowtrace/flowtrace/tracer"
)

// peelWindow builds blocks blocks of noise txs (2 inputs, 2 outputs, fresh
// addresses) with a peel chain from "seed" running through them: one hop
// per block, each peeling 1% to a side address. Synthetic, for speed only.
func peelWindow(blocks, noise int) []*Block {
	out := make([]*Block, blocks)
	value, holder := int64(1e10), "seed"
	for h := range blocks {
		b := &Block{Height: uint64(h + 1)}
		for k := range noise {
			id := fmt.Sprintf("n%d-%d", h, k)
			b.Txs = append(b.Txs, pay(id, b.Height, k, []utxo.Input{
				{Address: id + "i0", Value: 5e5}, {Address: id + "i1", Value: 5e5},
			}, utxo.Output{Address: id + "o0", Value: 6e5}, utxo.Output{Address: id + "o1", Value: 399_000}))
		}
		if h == 0 {
			b.Txs = append(b.Txs, pay("theft", 1, noise, []utxo.Input{{Address: "victim", Value: value + 1000}},
				utxo.Output{Address: "seed", Value: value}))
		} else {
			next, side := fmt.Sprintf("peel%d", h), fmt.Sprintf("side%d", h)
			peel := value / 100
			b.Txs = append(b.Txs, pay(fmt.Sprintf("p%d", h), b.Height, noise, []utxo.Input{{Address: holder, Value: value}},
				utxo.Output{Address: side, Value: peel}, utxo.Output{Address: next, Value: value - peel - 500}))
			value, holder = value-peel-500, next
		}
		out[h] = b
	}
	return out
}

// BenchmarkSourceWalkPeel walks a 100-hop peel chain through 100 blocks of
// 1,000 noise transactions each, answered from the kept block scan.
func BenchmarkSourceWalkPeel(b *testing.B) {
	blocks := peelWindow(100, 1000)
	b.ReportAllocs()
	for b.Loop() {
		s := preloaded(b, blocks...)
		tr, err := tracer.Walk(context.Background(), s, tracer.Options{
			Chain: "bitcoin", Seeds: []tracer.Address{"seed"}, Window: tracer.BlockRange{From: 1, To: 100},
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(tr.Nodes) != 1+99*3+1 { // seed, a hub, a side and a peel per hop, fee:miners
			b.Fatalf("the walk reached %d nodes", len(tr.Nodes))
		}
	}
}
