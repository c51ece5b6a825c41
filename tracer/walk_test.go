package tracer

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"testing"
)

// fakeSource serves a fixed list of transfers (a unit-test fake of pure logic).
type fakeSource struct {
	transfers []Transfer
	contracts map[Address]bool
	kinds     map[Address]Category // Account.Category
	tokens    map[Address]Token
	failAt    int // fail the n-th outgoing query (1-based); 0 never
	queries   int
}

func (f *fakeSource) Transfers(_ context.Context, q TransferQuery) ([]Transfer, error) {
	if q.Direction == Outgoing {
		f.queries++
		if f.failAt > 0 && f.queries == f.failAt {
			return nil, fmt.Errorf("fake: %w", ErrRateLimited)
		}
	}
	var out []Transfer
	for _, t := range f.transfers {
		side := t.From
		if q.Direction == Incoming {
			side = t.To
		}
		if slices.Contains(q.Addresses, side) && t.BlockNumber >= q.Window.From && t.BlockNumber <= q.Window.To {
			out = append(out, t)
		}
	}
	return out, nil
}

func (f *fakeSource) Describe(_ context.Context, accounts, tokens []Address) (Descriptions, error) {
	d := Descriptions{Accounts: map[Address]Account{}, Tokens: map[Address]Token{}}
	for _, a := range accounts {
		d.Accounts[a] = Account{IsContract: f.contracts[a], Category: f.kinds[a]}
	}
	for _, a := range tokens {
		if t, ok := f.tokens[a]; ok {
			d.Tokens[a] = t
		}
	}
	return d, nil
}

type labelMap map[Address]Label

func (m labelMap) Lookup(_ string, a Address) (Label, bool) { l, ok := m[a]; return l, ok }

var txn int

// eth builds a native transfer of n ETH-units (plain integers keep tests readable).
func eth(block uint64, from, to Address, n int64) Transfer {
	txn++
	return Transfer{TxHash: fmt.Sprintf("0x%04x", txn), BlockNumber: block, LogIndex: -1, Kind: KindNative,
		From: from, To: to, Asset: NativeAsset, Amount: big.NewInt(n), TxFrom: from}
}

func token(block uint64, tok Address, from, to Address, n int64, signer Address) Transfer {
	txn++
	return Transfer{TxHash: fmt.Sprintf("0x%04x", txn), BlockNumber: block, LogIndex: 0, Seq: 1_000_000, Kind: KindERC20,
		From: from, To: to, Asset: Asset(tok), Amount: big.NewInt(n), TxFrom: signer}
}

func walk(t *testing.T, src Source, opts Options) *Trace {
	t.Helper()
	if opts.Window == (BlockRange{}) {
		opts.Window = BlockRange{From: 1, To: 100}
	}
	if len(opts.Seeds) == 0 {
		opts.Seeds = []Address{"seed"}
	}
	tr, err := Walk(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return tr
}

func nodeSet(tr *Trace) []Address {
	var out []Address
	for _, n := range tr.Nodes {
		out = append(out, n.Address)
	}
	return out
}

func node(tr *Trace, a Address) *Node {
	for i := range tr.Nodes {
		if tr.Nodes[i].Address == a {
			return &tr.Nodes[i]
		}
	}
	return nil
}

// checkConservation asserts that every bucket adds up to what was stolen.
func checkConservation(t *testing.T, tr *Trace) {
	t.Helper()
	for _, s := range tr.Summary.Assets {
		sum := new(big.Int)
		for _, v := range s.Buckets {
			sum.Add(sum, v)
		}
		if want := s.Accounted(); sum.Cmp(want) != 0 {
			t.Errorf("asset %s: buckets add to %s, stolen %s + swapped in %v + bridged in %v (%v)", s.Asset, sum, s.Stolen, s.SwappedIn, s.BridgedIn, s.Buckets)
		}
	}
}

func TestWalkFollowsSplitsAndHops(t *testing.T) {
	src := &fakeSource{transfers: []Transfer{
		eth(5, "victim", "seed", 100),
		eth(6, "seed", "a", 60),
		eth(6, "seed", "b", 40),
		eth(8, "a", "c", 60),
		eth(9, "x", "y", 7), // unrelated
	}}
	tr := walk(t, src, Options{})
	if got, want := nodeSet(tr), []Address{"a", "b", "c", "seed"}; !slices.Equal(got, want) {
		t.Fatalf("nodes = %v, want %v", got, want)
	}
	if len(tr.Transfers) != 3 {
		t.Errorf("kept %d transfers, want 3", len(tr.Transfers))
	}
	if n := node(tr, "c"); n.Depth != 2 || n.Held[NativeAsset].Int64() != 60 {
		t.Errorf("c: depth %d held %v, want depth 2 held 60", n.Depth, n.Held)
	}
	if tr.Stats.StopReason != StopComplete {
		t.Errorf("stop = %q, want complete", tr.Stats.StopReason)
	}
	if b := tr.Summary.Assets[0].Buckets[BucketDormant]; b.Int64() != 100 {
		t.Errorf("dormant = %v, want 100", b)
	}
	checkConservation(t, tr)
}

func TestWalkIsCausalAndPoisonFirst(t *testing.T) {
	src := &fakeSource{transfers: []Transfer{
		eth(2, "funder", "a", 5), // clean money first
		eth(3, "a", "early", 5),  // spent before any stolen value arrived
		eth(4, "funder", "a", 5), // more clean money
		eth(5, "victim", "seed", 10),
		eth(6, "seed", "a", 10),
		eth(7, "a", "late", 12), // carries all 10 tainted, 2 clean
	}}
	tr := walk(t, src, Options{})
	if slices.Contains(nodeSet(tr), "early") {
		t.Errorf("a transfer sent before the stolen value arrived was followed")
	}
	late := node(tr, "late")
	if late == nil || late.Received[NativeAsset].Int64() != 10 {
		t.Fatalf("late received %v, want 10 tainted", late)
	}
	checkConservation(t, tr)
}

func TestWalkSkipsPoisoning(t *testing.T) {
	const tok, fake = Address("tok"), Address("fake")
	src := &fakeSource{
		tokens: map[Address]Token{tok: {Symbol: "TOK", Decimals: 6}, fake: {Symbol: "TOK", Decimals: 6}},
		transfers: []Transfer{
			token(5, tok, "victim", "seed", 1000, "seed"), // drained with an approval the thief uses
			token(6, tok, "seed", "hop", 1000, "seed"),
			token(7, tok, "seed", "look-alike-1", 0, "poisoner"),      // zero-value transferFrom
			token(7, fake, "seed", "look-alike-2", 10000, "poisoner"), // fake token, spoofed sender
			token(8, tok, "hop", "look-alike-3", 500, "poisoner"),     // real token, event claims hop signed
		},
	}
	tr := walk(t, src, Options{})
	for _, a := range []Address{"look-alike-1", "look-alike-2", "look-alike-3"} {
		if slices.Contains(nodeSet(tr), a) {
			t.Errorf("poisoning address %s was followed", a)
		}
	}
	if !slices.Contains(nodeSet(tr), "hop") {
		t.Errorf("the real token hop was not followed")
	}
	var reasons []string
	for _, s := range tr.Skipped {
		reasons = append(reasons, string(s.Address)+": "+s.Reason)
	}
	if len(tr.Skipped) != 3 {
		t.Errorf("skipped = %q, want the 3 poisoning transfers listed", reasons)
	}
	checkConservation(t, tr)
}

func TestWalkStopsAtTerminalsAndBuckets(t *testing.T) {
	src := &fakeSource{transfers: []Transfer{
		eth(5, "victim", "seed", 100),
		eth(6, "seed", "cex", 70),
		eth(6, "seed", "hop", 30),
		eth(7, "cex", "customer", 70), // exchange withdrawals are not the thief's
	}}
	labels := labelMap{"cex": {Name: "Exchange 1", Category: CategoryExchange, Source: "test"}}
	tr := walk(t, src, Options{Labels: labels})
	if slices.Contains(nodeSet(tr), "customer") {
		t.Errorf("the walk went through an exchange")
	}
	if n := node(tr, "cex"); n.Stop != NodeTerminal || n.Category != CategoryExchange {
		t.Errorf("cex = %+v, want a terminal exchange", n)
	}
	b := tr.Summary.Assets[0].Buckets
	if b[BucketExchange].Int64() != 70 || b[BucketDormant].Int64() != 30 {
		t.Errorf("buckets = %v, want exchange 70 dormant 30", b)
	}
	checkConservation(t, tr)
}

func TestWalkThresholdShare(t *testing.T) {
	src := &fakeSource{transfers: []Transfer{
		eth(5, "victim", "seed", 1000),
		eth(6, "seed", "big", 995),
		eth(6, "seed", "dust", 5),
	}}
	th, err := ParseThreshold("1%")
	if err != nil {
		t.Fatal(err)
	}
	tr := walk(t, src, Options{MinValue: th})
	if slices.Contains(nodeSet(tr), "dust") || !slices.Contains(nodeSet(tr), "big") {
		t.Errorf("nodes = %v, want big but not dust", nodeSet(tr))
	}
	if b := tr.Summary.Assets[0].Buckets[BucketBelowThreshold]; b == nil || b.Int64() != 5 {
		t.Errorf("below threshold = %v, want 5", b)
	}
	checkConservation(t, tr)
}

func TestWalkBudgetsAndDepth(t *testing.T) {
	chain := []Transfer{eth(5, "victim", "seed", 100)}
	prev := Address("seed")
	for i := range 6 {
		next := Address(fmt.Sprintf("h%d", i))
		chain = append(chain, eth(uint64(6+i), prev, next, 100))
		prev = next
	}
	t.Run("depth", func(t *testing.T) {
		tr := walk(t, &fakeSource{transfers: chain}, Options{MaxDepth: 2})
		if got := len(tr.Nodes); got != 3 {
			t.Errorf("nodes = %v, want seed + 2 hops", nodeSet(tr))
		}
		if tr.Stats.StopReason != StopDepth || node(tr, "h1").Stop != NodeDepth {
			t.Errorf("stop = %q, h1 stop %q; want depth limit", tr.Stats.StopReason, node(tr, "h1").Stop)
		}
		if b := tr.Summary.Assets[0].Buckets[BucketDepth]; b == nil || b.Int64() != 100 || tr.Summary.Assets[0].Buckets[BucketDormant] != nil {
			t.Errorf("buckets = %v, want 100 not followed (depth limit) and nothing dormant", tr.Summary.Assets[0].Buckets)
		}
	})
	t.Run("expand past depth", func(t *testing.T) {
		tr := walk(t, &fakeSource{transfers: chain}, Options{MaxDepth: 2, Expand: []Address{"h1", "h2"}})
		if got := len(tr.Nodes); got != 5 {
			t.Errorf("nodes = %v, want seed + 2 hops + h2 (expanded h1) + h3 (expanded h2)", nodeSet(tr))
		}
		if node(tr, "h1").Stop == NodeDepth || node(tr, "h3").Stop != NodeDepth {
			t.Errorf("h1 stop %q, h3 stop %q; want h1 followed and h3 at the depth limit", node(tr, "h1").Stop, node(tr, "h3").Stop)
		}
		checkConservation(t, tr)
	})
	t.Run("addresses", func(t *testing.T) {
		tr := walk(t, &fakeSource{transfers: chain}, Options{MaxAddresses: 4})
		if len(tr.Nodes) != 4 || tr.Stats.StopReason != StopAddresses {
			t.Errorf("nodes = %v stop %q, want 4 nodes and the address budget", nodeSet(tr), tr.Stats.StopReason)
		}
		// The value sits at an address the budget kept out: not followed, not below threshold.
		if b := tr.Summary.Assets[0].Buckets; b[BucketBudget] == nil || b[BucketBudget].Int64() != 100 || b[BucketBelowThreshold] != nil {
			t.Errorf("buckets = %v, want 100 not followed (budget)", b)
		}
		checkConservation(t, tr)
	})
	t.Run("hop failure", func(t *testing.T) {
		tr := walk(t, &fakeSource{transfers: chain, failAt: 3}, Options{})
		if tr.Stats.StopReason != StopHopFailed || node(tr, "h1").Stop != NodeHopFailed {
			t.Errorf("stop = %q, want hop failed at h1", tr.Stats.StopReason)
		}
		if tr.Stats.StopDetail == "" {
			t.Errorf("stop detail is empty")
		}
		checkConservation(t, tr)
	})
}

func TestWalkRevisitsConsolidationWithEarlierValue(t *testing.T) {
	// "c" is reached at depth 1 with value at block 20, then at depth 2 with
	// value that arrived earlier (block 8); c's outflow at block 10 must be
	// found by re-reading c from block 8.
	src := &fakeSource{transfers: []Transfer{
		eth(5, "victim", "seed", 100),
		eth(6, "seed", "a", 50),
		eth(20, "seed", "c", 50),
		eth(8, "a", "c", 50),
		eth(10, "c", "out", 50),
	}}
	tr := walk(t, src, Options{})
	if !slices.Contains(nodeSet(tr), "out") {
		t.Fatalf("nodes = %v: the early outflow of a revisited node was missed", nodeSet(tr))
	}
	if n := node(tr, "out"); n.Received[NativeAsset].Int64() != 50 {
		t.Errorf("out received %v, want 50", n.Received)
	}
	checkConservation(t, tr)
}

func TestWalkNeedsStolenValue(t *testing.T) {
	_, err := Walk(context.Background(), &fakeSource{}, Options{Seeds: []Address{"seed"}, Window: BlockRange{From: 1, To: 9}})
	if !errors.Is(err, ErrNoStolenValue) {
		t.Fatalf("err = %v, want ErrNoStolenValue", err)
	}
}

func TestParseThreshold(t *testing.T) {
	for _, tc := range []struct {
		in       string
		decimals uint8
		stolen   int64
		want     string
	}{
		{"0", 18, 100, "0"},
		{"1.5", 6, 0, "1500000"},
		{"0.1%", 18, 1000, "1"},
		{"0.1%", 18, 1001, "2"}, // rounded up
		{"100%", 0, 7, "7"},
	} {
		th, err := ParseThreshold(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if got := th.Amount(tc.decimals, big.NewInt(tc.stolen)).String(); got != tc.want {
			t.Errorf("%q with %d decimals of %d: %s, want %s", tc.in, tc.decimals, tc.stolen, got, tc.want)
		}
	}
	for _, bad := range []string{"", "-1", "abc", "1e3", "101%", "1/2"} {
		if _, err := ParseThreshold(bad); err == nil {
			t.Errorf("ParseThreshold(%q) accepted", bad)
		}
	}
}

// TestWalkTheftFromAddressReachedLater: the named theft transaction's
// inflow stays stolen value when its sender is reached later in the same
// block (the thief pays the victim back), so the sender's outflows read
// include the theft; it is not re-read as that sender's outflow, which
// carried no taint and would make the theft vanish.
func TestWalkTheftFromAddressReachedLater(t *testing.T) {
	theft, back, on := eth(5, "victim", "seed", 100), eth(5, "seed", "victim", 10), eth(5, "seed", "b", 90)
	back.TxIndex, on.TxIndex = 1, 2
	src := &fakeSource{transfers: []Transfer{theft, back, on}}
	tr := walk(t, src, Options{TheftTxs: []string{theft.TxHash}})
	if len(tr.Summary.Assets) != 1 || tr.Summary.Assets[0].Stolen.Int64() != 100 {
		t.Fatalf("summary = %+v, want 100 stolen", tr.Summary.Assets)
	}
	if n := node(tr, "b"); n == nil || n.Received[NativeAsset].Int64() != 90 {
		t.Errorf("b = %+v, want 90 received", n)
	}
	if n := node(tr, "victim"); n == nil || n.Received[NativeAsset].Int64() != 10 {
		t.Errorf("victim = %+v, want 10 received back", n)
	}
	checkConservation(t, tr)
}

// The same without theft transactions: the seed's inflow from an address
// the walk reaches later stays credited, whatever the sender carried.
func TestWalkCreditFromAddressReachedLater(t *testing.T) {
	theft, back, on := eth(5, "victim", "seed", 100), eth(5, "seed", "victim", 10), eth(5, "seed", "b", 90)
	back.TxIndex, on.TxIndex = 1, 2
	src := &fakeSource{transfers: []Transfer{theft, back, on}}
	tr := walk(t, src, Options{})
	if len(tr.Summary.Assets) != 1 || tr.Summary.Assets[0].Stolen.Int64() != 100 {
		t.Fatalf("summary = %+v, want 100 stolen", tr.Summary.Assets)
	}
	if n := node(tr, "b"); n == nil || n.Received[NativeAsset].Int64() != 90 {
		t.Errorf("b = %+v, want 90 received", n)
	}
	checkConservation(t, tr)
}
