package graph

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/tracer"
)

// TestPeelChainThroughTransactions: on a UTXO chain each hop is address ->
// transaction -> (side payment, next address); the peel chain runs over
// the transactions and lists the addresses between them.
func TestPeelChainThroughTransactions(t *testing.T) {
	seed := addr(0x5eed)
	b := newTraceBuilder(seed)
	b.nodes[seed].Received[tracer.NativeAsset] = eth(100)
	from, left := seed, int64(100)
	var want []tracer.Address
	for i := range 3 {
		tx := b.node(addr(0x100+i), tracer.CategoryTransaction, 2*i+1).Address
		side := b.node(addr(0x200+i), tracer.CategoryEOA, 2*i+2).Address
		next := b.node(addr(0x300+i), tracer.CategoryEOA, 2*i+2).Address
		b.pay(uint64(10+i), from, tx, eth(left), nil)
		left -= 5
		b.pay(uint64(10+i), tx, side, eth(5), nil)
		b.pay(uint64(10+i), tx, next, eth(left), nil)
		want = append(want, tx, next)
		from = next
	}
	f := b.build(t)
	var peels []Pattern
	for _, p := range f.Patterns {
		if p.Kind == KindPeelChain {
			peels = append(peels, p)
		}
	}
	if len(peels) != 1 {
		t.Fatalf("%d peel chains, want one: %+v", len(peels), f.Patterns)
	}
	if p := peels[0]; !slices.Equal(p.Addresses, want) || p.Detail["length"] != "3" || p.Detail["rest_at"] != string(from) {
		t.Errorf("peel chain %v %v, want %v ending at %s", p.Addresses, p.Detail, want, from)
	}
}

// TestDOTStylesTransactionAndFees: transactions are diamonds, the fee sink
// an inverted house, each in the legend.
func TestDOTStylesTransactionAndFees(t *testing.T) {
	seed := addr(0x5eed)
	b := newTraceBuilder(seed)
	b.nodes[seed].Received[tracer.NativeAsset] = eth(100)
	tx := b.node(addr(0x100), tracer.CategoryTransaction, 1).Address
	out := b.node(addr(0x200), tracer.CategoryEOA, 2).Address
	fees := b.node(addr(0x300), tracer.CategoryFees, 2).Address
	b.pay(10, seed, tx, eth(100), nil)
	b.pay(10, tx, out, eth(99), nil)
	b.pay(10, tx, fees, eth(1), nil)
	var buf bytes.Buffer
	if err := WriteDOT(&buf, b.build(t), DOTOptions{}); err != nil {
		t.Fatal(err)
	}
	dot := buf.String()
	for _, want := range []string{`shape="diamond"`, `shape="invhouse"`, `label="transaction"`, `label="fees"`} {
		if !strings.Contains(dot, want) {
			t.Errorf("graph.dot lacks %s:\n%s", want, dot)
		}
	}
}
