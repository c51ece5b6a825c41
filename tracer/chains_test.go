package tracer

import (
	"context"
	"math/big"
	"slices"
	"strings"
	"testing"
)

// multiSource is a fake Source spanning two chains: its transfers carry
// their chain, the hubs of bridge swaps ("thorchain:...") answer their
// payouts whatever the window (as a composite answers from its pairings),
// and ChainWindow gives each other chain's window.
type multiSource struct {
	fakeSource
	windows map[string]BlockRange
	asked   map[string]int // ChainWindow calls per chain
	queries []TransferQuery
}

func (m *multiSource) Transfers(ctx context.Context, q TransferQuery) ([]Transfer, error) {
	m.queries = append(m.queries, q)
	out, err := m.fakeSource.Transfers(ctx, q)
	if err != nil || q.Direction != Outgoing {
		return out, err
	}
	for _, t := range m.transfers {
		if strings.HasPrefix(string(t.From), "thorchain:") && slices.Contains(q.Addresses, t.From) &&
			(t.BlockNumber < q.Window.From || t.BlockNumber > q.Window.To) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (m *multiSource) ChainWindow(_ context.Context, chain string, _ BlockRange) (BlockRange, error) {
	m.asked[chain]++
	return m.windows[chain], nil
}

var _ ChainWindows = (*multiSource)(nil)

const (
	theftHash = "0x1111111111111111111111111111111111111111111111111111111111111111"
	hub       = Address("thorchain:AAAA")
	btcCoin   = Asset("bitcoin:native")
)

// twoChainFlow: the seed holds 50 clean ETH (block 1) and 100 stolen (block
// 2), sends 30 to y (block 3) and deposits 120 into a THORChain swap (block
// 4), paid out as 3000 sats to d on Bitcoin (block 500), who sends 1000 to
// e and 2000 to f. Noise on Bitcoin: an unrelated payment.
func twoChainFlow(payout string) *multiSource {
	clean := eth(1, "payroll", "seed", 50)
	theft := eth(2, "victim", "seed", 100)
	theft.TxHash = theftHash
	dep := eth(4, "seed", hub, 120)
	out := []Transfer{clean, theft, eth(3, "seed", "y", 30), dep}
	for i := range out {
		out[i].Chain = "ethereum"
	}
	btc := func(block uint64, from, to Address, n int64) Transfer {
		t := eth(block, from, to, n)
		t.Chain, t.Asset = "bitcoin", btcCoin
		return t
	}
	pay := btc(500, hub, "bitcoin:d", 3000)
	pay.TxHash = "bbbb"
	pay.Annotations = map[string]string{AnnConverts: dep.ID(), AnnConversion: payout}
	if payout == ConversionRefunded {
		pay = eth(40, hub, "refund", 110)
		pay.Chain = "ethereum"
		pay.Annotations = map[string]string{AnnConverts: dep.ID(), AnnConversion: payout}
	}
	out = append(out, pay,
		btc(501, "bitcoin:d", "bitcoin:e", 1000),
		btc(502, "bitcoin:d", "bitcoin:f", 2000),
		btc(503, "bitcoin:noise", "bitcoin:g", 5000),
	)
	return &multiSource{
		fakeSource: fakeSource{transfers: out, tokens: map[Address]Token{Address(btcCoin): {Symbol: "BTC", Decimals: 8}}},
		windows:    map[string]BlockRange{"bitcoin": {From: 400, To: 600}},
		asked:      map[string]int{},
	}
}

func twoChainWalk(t *testing.T, src *multiSource, m TaintModel) *Trace {
	t.Helper()
	return walk(t, src, Options{Chain: "ethereum", Taint: m, TheftTxs: []string{theftHash},
		Labels: labelMap{hub: {Name: "THORChain swap", Category: CategoryBridgeSwap}}})
}

func summaryOf(t *testing.T, tr *Trace, asset Asset) AssetSummary {
	t.Helper()
	for _, s := range tr.Summary.Assets {
		if s.Asset == asset {
			return s
		}
	}
	t.Fatalf("no accounting of %s in %+v", asset, tr.Summary.Assets)
	return AssetSummary{}
}

func bucket(s AssetSummary, b string) int64 {
	if v := s.Buckets[b]; v != nil {
		return v.Int64()
	}
	return 0
}

// The payout carries the deposit's stolen share at the executed rate under
// every taint model, the walk goes on on Bitcoin with Bitcoin's window, and
// each asset's accounting adds up to 100%.
func TestBridgePayoutConvertsAtTheExecutedRate(t *testing.T) {
	for _, c := range []struct {
		model                 TaintModel
		y, deposit, payout, e int64
	}{
		// poison: y takes 30 stolen; the deposit 70 of 120; 3000*70/120 = 1750 sats; e gets 1000 of them.
		{Poison{}, 30, 70, 1750, 1000},
		// haircut: 2/3 of every outflow; 80 of 120 -> 2000 sats; e 1000 * 2/3.
		{Haircut{}, 20, 80, 2000, 666},
		// fifo: the clean 50 came first: y 0, the deposit 20 clean + 100 stolen -> 2500 sats, one lot of 3000: e 1000 * 5/6.
		{FIFO{}, 0, 100, 2500, 833},
	} {
		t.Run(c.model.Name(), func(t *testing.T) {
			src := twoChainFlow(ConversionBridged)
			tr := twoChainWalk(t, src, c.model)
			checkConservation(t, tr)
			want := []Address{"bitcoin:d", "bitcoin:e", "bitcoin:f", "seed", hub, "y"}
			if c.y == 0 {
				want = slices.DeleteFunc(want, func(a Address) bool { return a == "y" })
			}
			if got := nodeSet(tr); !slices.Equal(got, want) {
				t.Fatalf("nodes = %v, want %v", got, want)
			}
			ethSum, btcSum := summaryOf(t, tr, NativeAsset), summaryOf(t, tr, btcCoin)
			if ethSum.Stolen.Int64() != 100 || bucket(ethSum, BucketBridged) != c.deposit || bucket(ethSum, BucketDormant) != c.y {
				t.Errorf("ETH: stolen %v buckets %v, want %d bridged and %d dormant", ethSum.Stolen, ethSum.Buckets, c.deposit, c.y)
			}
			if btcSum.Stolen.Sign() != 0 || btcSum.BridgedIn.Int64() != c.payout || btcSum.Symbol != "BTC" || btcSum.Decimal != 8 {
				t.Errorf("BTC: stolen %v bridged in %v (%s, %d decimals), want 0 and %d BTC with 8", btcSum.Stolen, btcSum.BridgedIn, btcSum.Symbol, btcSum.Decimal, c.payout)
			}
			if n := node(tr, "bitcoin:e"); n.Received[btcCoin].Int64() != c.e {
				t.Errorf("e received %v, want %d", n.Received, c.e)
			}
			if n := node(tr, "bitcoin:d"); n.Depth != 2 || n.FirstSeenBlock != 500 {
				t.Errorf("d: depth %d first block %d, want 2 and 500", n.Depth, n.FirstSeenBlock)
			}
			for _, n := range tr.Nodes {
				if n.Received[NativeAsset] != nil && strings.HasPrefix(string(n.Address), "bitcoin:") {
					t.Errorf("%s received ETH %v: chains mixed", n.Address, n.Received)
				}
			}
			// One read of d's outflows, on Bitcoin from its first inflow to the end of Bitcoin's window.
			var btcReads []BlockRange
			for _, q := range src.queries {
				if q.Direction == Outgoing && slices.Contains(q.Addresses, "bitcoin:d") {
					btcReads = append(btcReads, q.Window)
					if slices.ContainsFunc(q.Addresses, func(a Address) bool { return !strings.HasPrefix(string(a), "bitcoin:") }) {
						t.Errorf("a Bitcoin read asks for other chains' addresses: %v", q.Addresses)
					}
				}
			}
			if !slices.Equal(btcReads, []BlockRange{{500, 600}}) || src.asked["bitcoin"] != 1 {
				t.Errorf("d read over %v (window asked %d times), want once over [500,600]", btcReads, src.asked["bitcoin"])
			}
		})
	}
}

// A refund comes back on the deposit's own chain: the deposit's stolen value
// is booked as refunded, and the refund carries it on at the refund's rate.
func TestBridgeRefundIsBookedAndFollowed(t *testing.T) {
	tr := twoChainWalk(t, twoChainFlow(ConversionRefunded), Poison{})
	checkConservation(t, tr)
	s := summaryOf(t, tr, NativeAsset)
	// 70 stolen in the deposit of 120, 110 paid back: 110*70/120 = 64.
	if bucket(s, BucketRefunded) != 70 || s.BridgedIn.Int64() != 64 || bucket(s, BucketDormant) != 30+64 {
		t.Errorf("ETH: buckets %v bridged in %v, want 70 refunded, 64 paid back and 94 dormant", s.Buckets, s.BridgedIn)
	}
	if n := node(tr, "refund"); n == nil || n.Held[NativeAsset].Int64() != 64 {
		t.Errorf("refund address: %+v, want a node holding 64", n)
	}
}

// A deposit whose payout was not found stays at the bridge: bridged, not
// arrived, and nothing appears on the other chain.
func TestUnpairedDepositStaysAtTheBridge(t *testing.T) {
	src := twoChainFlow(ConversionBridged)
	src.transfers = slices.DeleteFunc(src.transfers, func(t Transfer) bool { return t.Chain == "bitcoin" })
	tr := walk(t, src, Options{Chain: "ethereum", TheftTxs: []string{theftHash},
		Labels: labelMap{hub: {Name: "THORChain router (deposit not paired)", Category: CategoryBridge}}})
	checkConservation(t, tr)
	s := summaryOf(t, tr, NativeAsset)
	if bucket(s, BucketBridge) != 70 || bucket(s, BucketBridged) != 0 || s.BridgedIn != nil || len(tr.Summary.Assets) != 1 {
		t.Errorf("accounting %+v, want 70 ETH at the bridge and no other asset", tr.Summary.Assets)
	}
	if src.asked["bitcoin"] != 0 {
		t.Errorf("the Bitcoin window was asked for with nothing to read there")
	}
}

// A payout of a deposit the walk did not trace carries nothing and takes
// nothing from its hub's balance.
func TestPayoutOfUntracedDepositCarriesNothing(t *testing.T) {
	l := newLedger(Poison{}, "ethereum")
	pay := Transfer{Chain: "bitcoin", TxHash: "bbbb", LogIndex: -1, From: hub, To: "bitcoin:d", Asset: btcCoin, Amount: big.NewInt(3000),
		Annotations: map[string]string{AnnConverts: "0xdead/call:"}}
	l.addOutflow(pay, pay.ID())
	l.propagate(func(Transfer) bool { return true })
	if x := l.taint(pay.ID()); x == nil || x.Sign() != 0 || len(l.unexplainedList()) != 0 {
		t.Errorf("tainted %v, unexplained %v; want 0 and none", x, l.unexplainedList())
	}
}

// Thresholds hold per chain and asset: a share of the stolen ETH for ETH,
// of the BTC the bridge paid out for BTC.
func TestThresholdsPerChainAndAsset(t *testing.T) {
	th, err := ParseThreshold("50%")
	if err != nil {
		t.Fatal(err)
	}
	tr := walk(t, twoChainFlow(ConversionBridged), Options{Chain: "ethereum", TheftTxs: []string{theftHash}, MinValue: th,
		Labels: labelMap{hub: {Name: "THORChain swap", Category: CategoryBridgeSwap}}})
	checkConservation(t, tr)
	// ETH: 50 of 100; y's 30 is below it, the deposit's 70 is not.
	// BTC: 50% of the 1750 paid out is 875; e's 1000 is kept, f's 750 is not.
	if got, want := nodeSet(tr), []Address{"bitcoin:d", "bitcoin:e", "seed", hub}; !slices.Equal(got, want) {
		t.Errorf("nodes %v, want %v", got, want)
	}
	if s := summaryOf(t, tr, btcCoin); bucket(s, BucketBelowThreshold) != 750 || bucket(s, BucketDormant) != 1000 {
		t.Errorf("BTC buckets %v, want 750 below the threshold, 1000 dormant", s.Buckets)
	}
	if s := summaryOf(t, tr, NativeAsset); bucket(s, BucketBelowThreshold) != 30 || bucket(s, BucketBridged) != 70 {
		t.Errorf("ETH buckets %v, want 30 below the threshold, 70 bridged", s.Buckets)
	}
}

// The other models' accounting of the same two-chain walk adds up too.
func TestAlternativesAddUpAcrossChains(t *testing.T) {
	tr := walk(t, twoChainFlow(ConversionBridged), Options{Chain: "ethereum", TheftTxs: []string{theftHash},
		CompareTaint: []TaintModel{Haircut{}, FIFO{}}, Labels: labelMap{hub: {Name: "THORChain swap", Category: CategoryBridgeSwap}}})
	wantIn := map[string]int64{"haircut": 2000, "fifo": 2500}
	for _, alt := range tr.Alternatives {
		for _, s := range alt.Summary.Assets {
			sum := new(big.Int)
			for _, v := range s.Buckets {
				sum.Add(sum, v)
			}
			if sum.Cmp(s.Accounted()) != 0 {
				t.Errorf("%s %s: buckets %v add to %s, want %s", alt.Taint, s.Asset, s.Buckets, sum, s.Accounted())
			}
			if s.Asset == btcCoin && s.BridgedIn.Int64() != wantIn[alt.Taint] {
				t.Errorf("%s: %v BTC bridged in, want %d", alt.Taint, s.BridgedIn, wantIn[alt.Taint])
			}
		}
	}
	if len(tr.Alternatives) != 2 {
		t.Fatalf("%d alternatives, want 2", len(tr.Alternatives))
	}
}

// The traced transfers are listed in CompareTransfers order over both
// chains, though the ledger replays the chain reached later after the
// walk's own: here the Bitcoin payout's blocks come before a later ETH hop.
func TestTransfersListedInChainOrderAcrossChains(t *testing.T) {
	src := twoChainFlow(ConversionBridged)
	for i, x := range src.transfers {
		if x.Chain == "bitcoin" {
			src.transfers[i].BlockNumber -= 490 // 500.. -> 10..
		}
	}
	src.windows["bitcoin"] = BlockRange{From: 5, To: 20}
	later := eth(50, "y", "z", 10)
	later.Chain = "ethereum"
	src.transfers = append(src.transfers, later)
	tr := twoChainWalk(t, src, Poison{})
	checkConservation(t, tr)
	var blocks []uint64
	for _, x := range tr.Transfers {
		blocks = append(blocks, x.BlockNumber)
	}
	if want := []uint64{3, 4, 10, 11, 12, 50}; !slices.Equal(blocks, want) {
		t.Errorf("transfers at blocks %v, want %v", blocks, want)
	}
	// The payout still carries the deposit's stolen share (70 of 120).
	if s := summaryOf(t, tr, btcCoin); s.BridgedIn == nil || s.BridgedIn.Int64() != 1750 {
		t.Errorf("BTC bridged in %v, want 1750", s.BridgedIn)
	}
}
