package graph

import (
	"bytes"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/tracer"
)

// patternTrace plants one of each pattern in a small hand-made trace (pure
// logic: the detectors only read the trace).
type traceBuilder struct {
	t     *tracer.Trace
	nodes map[tracer.Address]*tracer.Node
	tx    int
}

func newTraceBuilder(seed tracer.Address) *traceBuilder {
	b := &traceBuilder{t: &tracer.Trace{Chain: "ethereum", Seeds: []tracer.Address{seed}, Window: tracer.BlockRange{From: 1, To: 500},
		Tokens: map[tracer.Address]tracer.Token{}}, nodes: map[tracer.Address]*tracer.Node{}}
	b.node(seed, tracer.CategorySeed, 0)
	return b
}

func (b *traceBuilder) node(a tracer.Address, c tracer.Category, depth int, labels ...tracer.Label) *tracer.Node {
	if n := b.nodes[a]; n != nil {
		return n
	}
	n := node(a, c, depth, 1, tracer.NodeFollowed, labels...)
	if c == tracer.CategoryExchange || c == tracer.CategoryBridge || c == tracer.CategoryMixer || c == tracer.CategoryDEX {
		n.Stop = tracer.NodeTerminal
	}
	b.nodes[a] = &n
	return &n
}

// pay records a transfer of v ETH (tainted in full) in block, its own tx.
func (b *traceBuilder) pay(block uint64, from, to tracer.Address, v *big.Int, ann map[string]string) string {
	b.tx++
	h := txh(b.tx)
	b.payIn(h, block, from, to, tracer.NativeAsset, v, ann)
	return h
}

func (b *traceBuilder) payIn(h string, block uint64, from, to tracer.Address, asset tracer.Asset, v *big.Int, ann map[string]string) {
	tr := native(h, block, 0, from, to, v)
	tr.Seq = len(b.t.Transfers)
	tr.LogIndex = -1
	tr.TraceAddress = []int{tr.Seq}
	tr.Asset = asset
	tr.Annotations = ann
	b.t.Transfers = append(b.t.Transfers, tr)
	recv := b.nodes[to].Received
	if recv[asset] == nil {
		recv[asset] = new(big.Int)
	}
	recv[asset].Add(recv[asset], v)
}

func (b *traceBuilder) build(t *testing.T) *Flow {
	t.Helper()
	// Held = received - sent, per asset.
	for _, n := range b.nodes {
		for a, v := range n.Received {
			n.Held[a] = new(big.Int).Set(v)
		}
	}
	for _, tr := range b.t.Transfers {
		if n := b.nodes[tr.From]; n.Held[tr.Asset] != nil {
			n.Held[tr.Asset].Sub(n.Held[tr.Asset], tr.Tainted)
		}
	}
	for _, n := range b.nodes {
		b.t.Nodes = append(b.t.Nodes, *n)
	}
	f, err := Build(b.t, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.Detect(DetectOptions{})
	return f
}

// planted names the addresses of plantedFlow.
type planted struct {
	seed, ex, router, pool, gas, sink, dep, amm tracer.Address
	lots, hops                                  []tracer.Address
	depositTx                                   string
}

// plantedFlow is a hand-made trace with one of each pattern, detected.
func plantedFlow(t *testing.T) (*Flow, planted) {
	t.Helper()
	seed := addr(0x5eed)
	b := newTraceBuilder(seed)
	b.nodes[seed].Received[tracer.NativeAsset] = eth(1_000_000)
	ex := b.node(addr(0xe0), tracer.CategoryExchange, 3, tracer.Label{Name: "Hot Wallet", Category: tracer.CategoryExchange, Source: "t"}).Address
	router := b.node(addr(0x7c), tracer.CategoryBridge, 3, tracer.Label{Name: "THORChain Router", Category: tracer.CategoryBridge, Source: "t"}).Address
	pool := b.node(addr(0x70), tracer.CategoryMixer, 3, tracer.Label{Name: "Tornado 100", Category: tracer.CategoryMixer, Source: "t"}).Address

	// fan-out: 5 x 100,000 ETH and 1 ETH for gas
	var lots []tracer.Address
	for i := range 5 {
		lots = append(lots, b.node(addr(0x100+i), tracer.CategoryEOA, 1).Address)
		b.pay(10, seed, lots[i], eth(100_000), nil)
	}
	gas := b.node(addr(0x1ff), tracer.CategoryEOA, 1).Address
	b.pay(11, seed, gas, eth(1), nil)

	// peel chain from lots[0]: 4 hops, each peels 5,000 aside
	hops := []tracer.Address{lots[0]}
	rest := eth(100_000)
	for i := range 4 {
		next := b.node(addr(0x200+i), tracer.CategoryEOA, 2+i).Address
		side := b.node(addr(0x300+i), tracer.CategoryEOA, 2+i).Address
		rest = new(big.Int).Sub(rest, eth(5_000))
		b.pay(uint64(20+i), hops[i], side, eth(5_000), nil)
		b.pay(uint64(20+i), hops[i], next, rest, nil)
		hops = append(hops, next)
	}

	// fan-in: lots[1..3] pay one sink
	sink := b.node(addr(0x400), tracer.CategoryEOA, 2).Address
	for _, l := range lots[1:4] {
		b.pay(40, l, sink, eth(100_000), nil)
	}

	// exchange deposit address: lots[4] -> deposit (50,000) -> hot wallet (all of it)
	dep := b.node(addr(0x500), tracer.CategoryEOA, 2).Address
	b.pay(50, lots[4], dep, eth(50_000), nil)
	b.pay(51, dep, ex, eth(50_000), nil)

	// THORChain deposit from the sink, with the memo decoded
	b.pay(60, sink, router, eth(100_000), map[string]string{
		tracer.AnnBridge: "thorchain", tracer.AnnMemo: "=:BTC.BTC:bc1qdest:5e6/1/0:t:10", tracer.AnnDestChain: "bitcoin",
		tracer.AnnDestAsset: "BTC.BTC", tracer.AnnDestAddress: "bc1qdest", tracer.AnnDestLimit: "500000000", tracer.AnnDestDecimals: "8"})

	// Tornado deposit from lots[4] with two later withdrawals of the pool
	dh := b.pay(70, lots[4], pool, eth(100), map[string]string{tracer.AnnMixer: "tornado", tracer.AnnCommitment: "0xc0",
		tracer.AnnWithdrawals: "80/" + txh(900) + "/" + string(addr(0x901)) + " 81/" + txh(901) + "/" + string(addr(0x902))})

	// a swap: sink's neighbour sells ETH to a pool contract and gets a token back
	amm := b.node(addr(0x600), tracer.CategoryContract, 3).Address
	b.nodes[amm].IsContract = true
	lst := addr(0x15f)
	b.t.Tokens[lst] = tracer.Token{Symbol: "LST", Decimals: 18}
	b.tx++
	sh := txh(b.tx)
	b.payIn(sh, 90, lots[2], amm, tracer.NativeAsset, eth(10), nil)
	b.payIn(sh, 90, amm, lots[2], tracer.Asset(lst), eth(9), nil)

	b.t.Summary.Assets = []tracer.AssetSummary{{Asset: tracer.NativeAsset, Symbol: "ETH", Decimal: 18, Stolen: eth(1_000_000),
		Buckets: map[string]*big.Int{tracer.BucketBridge: eth(100_000), tracer.BucketDormant: eth(900_000)}}}
	return b.build(t), planted{seed, ex, router, pool, gas, sink, dep, amm, lots, hops, dh}
}

func TestDetect(t *testing.T) {
	f, pl := plantedFlow(t)
	seed, ex, router, pool, gas, sink, dep, amm, lots, hops, dh := pl.seed, pl.ex, pl.router, pl.pool, pl.gas, pl.sink, pl.dep, pl.amm, pl.lots, pl.hops, pl.depositTx
	want := map[string][][]tracer.Address{
		KindFanOut:          {append([]tracer.Address{seed}, lots...)},
		KindPeelChain:       {hops},
		KindFanIn:           {{lots[1], lots[2], lots[3], sink}},
		KindExchangeDeposit: {{dep, ex}},
		KindBridge:          {{sink, router, "bc1qdest"}},
		KindMixer:           {{lots[4], pool}},
		KindMixerLead:       {{pool, addr(0x901)}, {pool, addr(0x902)}},
		KindSwap:            {{lots[2], amm}},
		// gas and the peels' side wallets keep all they got, the rest at the chain's end, the sink
		// 2/3 of its inflow, lots[2] the token it swapped for; the swap pool is left out
		KindDormant: {{gas}, {addr(0x203)}, {addr(0x300)}, {addr(0x301)}, {addr(0x302)}, {addr(0x303)}, {sink}, {lots[2]}},
	}
	got := map[string][][]tracer.Address{}
	for _, p := range f.Patterns {
		got[p.Kind] = append(got[p.Kind], p.Addresses)
		if len(p.Evidence) == 0 {
			t.Errorf("%s %v: no evidence", p.Kind, p.Addresses)
		}
		if p.Confidence <= 0 || p.Confidence > 1 {
			t.Errorf("%s: confidence %v", p.Kind, p.Confidence)
		}
	}
	for kind, w := range want {
		g := got[kind]
		slices.SortFunc(g, slices.Compare)
		slices.SortFunc(w, slices.Compare)
		if !slices.EqualFunc(g, w, slices.Equal) {
			t.Errorf("%s:\n got %v\nwant %v", kind, g, w)
		}
	}
	for kind := range got {
		if _, ok := want[kind]; !ok {
			t.Errorf("unexpected %s: %v", kind, got[kind])
		}
	}
	for _, p := range f.Patterns {
		switch p.Kind {
		case KindFanOut:
			if p.Detail["equal_lots"] != "5 x 100,000 ETH" || p.Detail["round_lots"] != "true" || p.Detail["other_recipients"] != "1" {
				t.Errorf("fan-out detail %v", p.Detail)
			}
		case KindPeelChain:
			if p.Detail["length"] != "4" || !strings.Contains(p.Detail["peels"], "5,000 ETH (5.00%)") {
				t.Errorf("peel detail %v", p.Detail)
			}
		case KindBridge:
			if p.Detail["expected_min"] != "5 BTC.BTC" || p.Detail[tracer.AnnDestChain] != "bitcoin" {
				t.Errorf("bridge detail %v", p.Detail)
			}
		case KindExchangeDeposit:
			if p.Detail["via"] != "deposit address" {
				t.Errorf("exchange detail %v", p.Detail)
			}
		case KindMixerLead:
			if p.Confidence > 0.3 || p.Detail["deposit_tx"] != dh {
				t.Errorf("lead %v %v", p.Confidence, p.Detail)
			}
		}
	}
	hand := f.Node(NodeID("bitcoin", "bc1qdest"))
	if hand == nil || hand.Category != CategoryCrossChain || hand.Received[tracer.NativeAsset].Cmp(eth(100_000)) != 0 {
		t.Fatalf("hand-off node = %+v", hand)
	}
	if len(f.In(hand.ID)) != 1 || f.In(hand.ID)[0].From.Address != router {
		t.Errorf("hand-off edge = %v", f.In(hand.ID))
	}
	if got := f.BridgedTo(tracer.NativeAsset)["bitcoin"]; got == nil || got.Cmp(eth(100_000)) != 0 {
		t.Errorf("bridged to bitcoin = %v", got)
	}
}

// TestDetectNothingOnPlainHops: a plain chain of hops (no side peels), one
// payment each, no labels: no pattern but the dormant remainder.
// TestPatternsGolden keeps the DOT and the report of the planted flow as
// golden files (the DOT one is also laid out by Graphviz in render_test.go).
func TestPatternsGolden(t *testing.T) {
	f, _ := plantedFlow(t)
	var dotOut, md bytes.Buffer
	if err := WriteDOT(&dotOut, f, DOTOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(&md, f, sampleMeta); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"patterns.dot": dotOut.Bytes(), "patterns.md": md.Bytes()} {
		path := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (run go test ./graph -update):\n%s", name, path, cmp.Diff(string(want), string(got)))
		}
	}
	for _, s := range []string{"## Patterns", "### Peel chains", "bridge to bitcoin", "expected\\_min: 5 BTC.BTC"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("report lacks %q", s)
		}
	}
	for _, s := range []string{"cluster_", "fan-out: 5 x 100,000 ETH (round lots)", `penwidth="3"`, "bitcoin: bc1qdest"} {
		if !strings.Contains(dotOut.String(), s) {
			t.Errorf("dot lacks %q", s)
		}
	}
}

func TestDetectNothingOnPlainHops(t *testing.T) {
	seed := addr(0x5eed)
	b := newTraceBuilder(seed)
	b.nodes[seed].Received[tracer.NativeAsset] = eth(100)
	prev := seed
	for i := range 5 {
		next := b.node(addr(0x10+i), tracer.CategoryEOA, i+1).Address
		b.pay(uint64(10+i), prev, next, eth(int64(99-i)), nil)
		prev = next
	}
	f := b.build(t)
	for _, p := range f.Patterns {
		if p.Kind != KindDormant || !slices.Equal(p.Addresses, []tracer.Address{prev}) {
			t.Errorf("unexpected %s %v %v", p.Kind, p.Addresses, p.Detail)
		}
	}
	if len(f.Patterns) != 1 {
		t.Errorf("%d patterns, want the dormant end", len(f.Patterns))
	}
}

func TestRound(t *testing.T) {
	for v, want := range map[string]bool{"10000": true, "25": true, "1": true, "250": true, "9873": false, "0": false, "125": false} {
		x := new(big.Int).Mul(amt(v), amt(ether))
		if got := round(x, 18); got != want {
			t.Errorf("round(%s) = %v", v, got)
		}
	}
	if round(new(big.Int).Add(eth(10), big.NewInt(1)), 18) {
		t.Error("10 ETH + 1 wei is round")
	}
}

func TestBucketSharesAddUp(t *testing.T) {
	whole := big.NewInt(801 + 66)
	b := map[string]*big.Int{"bridge": big.NewInt(60), "dormant": big.NewInt(665), "exchange": big.NewInt(140), "mixer": big.NewInt(2)}
	got := BucketShares(b, whole)
	sum := 0
	for _, s := range got {
		var whole, frac int
		if _, err := fmt.Sscanf(s, "%d.%d%%", &whole, &frac); err != nil {
			t.Fatal(err)
		}
		sum += whole*100 + frac
	}
	if sum != 10000 {
		t.Errorf("shares %v add up to %d hundredths", got, sum)
	}
	if got["dormant"] != "76.70%" || got["mixer"] != "0.23%" {
		t.Errorf("shares = %v", got)
	}
}
