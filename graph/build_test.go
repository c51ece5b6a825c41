package graph

import (
	"math/big"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/tracer"
)

func TestBuildFoldsPerAsset(t *testing.T) {
	f, err := Build(sampleTrace(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.Nodes()); got != 8 {
		t.Errorf("%d nodes, want 8", got)
	}
	if got := len(f.Edges()); got != 10 {
		t.Errorf("%d edges (per from, to, asset), want 10", got)
	}
	if got := len(f.Transfers()); got != 11 {
		t.Errorf("%d transfers, want 11", got)
	}
	for i := 1; i < len(f.Nodes()); i++ {
		if f.Nodes()[i-1].ID >= f.Nodes()[i].ID {
			t.Errorf("nodes not sorted at %d", i)
		}
	}
	for i := 1; i < len(f.Transfers()); i++ {
		if f.Transfers()[i].Before(f.Transfers()[i-1].Transfer) {
			t.Errorf("transfers not in chain order at %d", i)
		}
	}

	a, ex, d := NodeID("ethereum", addr(0xa)), NodeID("ethereum", addr(0xe1)), NodeID("ethereum", addr(0xd))
	out := f.Out(a)
	if len(out) != 4+1 { // d (ETH, USDT), bridge, contract, exchange
		t.Fatalf("Out(a) has %d edges, want 5", len(out))
	}
	var toEx *Edge
	for _, e := range out {
		if e.To.ID == ex {
			toEx = e
		}
	}
	if toEx == nil || toEx.Amount.Cmp(eth(4)) != 0 || toEx.Tainted.Cmp(eth(4)) != 0 || len(toEx.Transfers) != 2 {
		t.Fatalf("a -> exchange = %+v, want 4 ETH over 2 transfers", toEx)
	}
	if len(f.In(ex)) != 1 || f.In(ex)[0] != toEx {
		t.Errorf("In(exchange) = %v, want the a -> exchange edge", f.In(ex))
	}

	// The dominikbraun graph holds one edge per (from, to) listing the asset folds.
	ge, err := f.Graph().Edge(a, d)
	if err != nil {
		t.Fatal(err)
	}
	folds, ok := ge.Properties.Data.([]*Edge)
	if !ok || len(folds) != 2 || folds[0].Asset != tracer.NativeAsset || folds[1].Asset != tracer.Asset(usdt) {
		t.Fatalf("edge data a -> d = %#v, want native then USDT folds", ge.Properties.Data)
	}
	if folds[1].Amount.String() != "500000000" || folds[1].Tainted.String() != "400000000" {
		t.Errorf("USDT fold amount %s tainted %s, want 500000000 and 400000000", folds[1].Amount, folds[1].Tainted)
	}
	if size, _ := f.Graph().Size(); size != 8 {
		t.Errorf("graph has %d (from, to) edges, want 8", size)
	}
	if n, _ := f.Graph().Order(); n != 8 {
		t.Errorf("graph has %d vertices, want 8", n)
	}
	if len(f.Patterns) != 0 || f.Patterns == nil {
		t.Errorf("Patterns = %#v, want empty and non-nil", f.Patterns)
	}
}

func TestBuildMinTainted(t *testing.T) {
	f, err := Build(sampleTrace(), Options{MinTainted: eth(2)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range f.Transfers() {
		if tr.Tainted.Cmp(eth(2)) < 0 {
			t.Errorf("kept transfer %s with tainted %s below the minimum", tr.ID(), tr.Tainted)
		}
	}
	// 10, 5, 3, 3 and 2 ETH; the USDT transfers are ~1e9 base units.
	if got := len(f.Transfers()); got != 5 {
		t.Errorf("%d transfers kept, want 5", got)
	}
	if got := len(f.Nodes()); got != 8 {
		t.Errorf("%d nodes, want all 8 kept", got)
	}
}

func TestBuildNativeSymbol(t *testing.T) {
	tr := sampleTrace()
	tr.Summary.Assets[0].Symbol = "" // USDT, listed first in the trace
	f, err := Build(tr, Options{Native: tracer.Token{Symbol: "BTC", Decimals: 8}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Summary[1].Asset != tracer.Asset(usdt) || f.Summary[1].Symbol != "USDT" || tr.Summary.Assets[0].Symbol != "" {
		t.Errorf("summary %+v: want USDT second with its symbol filled in, the trace untouched", f.Summary)
	}
	if got := f.Symbol(tracer.NativeAsset); got != "BTC" {
		t.Errorf("native symbol %q, want BTC", got)
	}
	if got := f.Symbol(tracer.Asset(addr(0x77))); got != "0x0000…0077" {
		t.Errorf("unknown token symbol %q, want the short address", got)
	}
}

func TestBuildRejectsBrokenTraces(t *testing.T) {
	cases := map[string]func(*tracer.Trace){
		"duplicate node": func(t *tracer.Trace) { t.Nodes = append(t.Nodes, t.Nodes[0]) },
		"duplicate transfer": func(t *tracer.Trace) {
			t.Transfers = append(t.Transfers, t.Transfers[3])
		},
		"missing endpoint": func(t *tracer.Trace) { t.Transfers[0].To = addr(0x404) },
		"nil amount":       func(t *tracer.Trace) { t.Transfers[0].Amount = nil },
		"nil tainted":      func(t *tracer.Trace) { t.Transfers[0].Tainted = nil },
		"negative":         func(t *tracer.Trace) { t.Transfers[0].Tainted = big.NewInt(-1) },
		"tainted over amount": func(t *tracer.Trace) {
			t.Transfers[0].Tainted = new(big.Int).Add(t.Transfers[0].Amount, big.NewInt(1))
		},
	}
	for name, breakIt := range cases {
		t.Run(name, func(t *testing.T) {
			tr := sampleTrace()
			breakIt(tr)
			f, err := Build(tr, Options{})
			if err == nil || f != nil {
				t.Fatalf("Build = %v, %v; want an error", f, err)
			}
			if !strings.HasPrefix(err.Error(), "graph: build: ") {
				t.Errorf("error %q lacks the graph: build: prefix", err)
			}
		})
	}
	if _, err := Build(nil, Options{}); err == nil {
		t.Error("Build(nil) succeeded")
	}
}

func TestBuildEmptyTrace(t *testing.T) {
	f, err := Build(&tracer.Trace{Chain: "ethereum"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, w := range []func() error{
		func() error { return WriteJSON(&b, f, Meta{}) },
		func() error { return WriteDOT(&b, f, DOTOptions{}) },
		func() error { return WriteCSV(&b, f) },
		func() error { return WriteReport(&b, f, Meta{}) },
	} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(b.String(), `"nodes": []`) || !strings.Contains(b.String(), `"methods": []`) {
		t.Errorf("empty flow JSON should hold empty lists, not null:\n%s", b.String())
	}
}

func TestPrimaryLabel(t *testing.T) {
	n := &Node{Node: tracer.Node{Category: tracer.CategoryExchange, Labels: []tracer.Label{
		{Name: "x", Category: tracer.CategoryOther}, {Name: "Binance", Category: tracer.CategoryExchange},
	}}}
	if l, ok := n.PrimaryLabel(); !ok || l.Name != "Binance" {
		t.Errorf("PrimaryLabel = %v, %v; want Binance", l, ok)
	}
	n.Category = tracer.CategoryEOA
	if l, ok := n.PrimaryLabel(); !ok || l.Name != "x" {
		t.Errorf("PrimaryLabel = %v, %v; want the first label", l, ok)
	}
	n.Labels = nil
	if _, ok := n.PrimaryLabel(); ok {
		t.Error("PrimaryLabel of an unlabelled node is ok")
	}
}
