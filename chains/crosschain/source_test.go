package crosschain

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/tracer"
)

// Fakes of pure logic: a chain whose block n has time base + n*step, a
// Source serving fixed transfers, and a Pairer answering fixed pairings.

type linearClock struct {
	base, step int64
	head       uint64
	asked      int
}

func (c *linearClock) BlockTime(_ context.Context, n uint64) (int64, error) {
	c.asked++
	if n > c.head {
		return 0, fmt.Errorf("block %d after the head %d", n, c.head)
	}
	return c.base + int64(n)*c.step, nil
}

func (c *linearClock) Head(context.Context) (uint64, error) { return c.head, nil }

type fakeSource struct {
	transfers []tracer.Transfer
	asked     [][]tracer.Address
	described []tracer.Address
}

func (f *fakeSource) Transfers(_ context.Context, q tracer.TransferQuery) ([]tracer.Transfer, error) {
	f.asked = append(f.asked, q.Addresses)
	var out []tracer.Transfer
	for _, t := range f.transfers {
		side := t.From
		if q.Direction == tracer.Incoming {
			side = t.To
		}
		if slices.Contains(q.Addresses, side) && t.BlockNumber >= q.Window.From && t.BlockNumber <= q.Window.To {
			out = append(out, t)
		}
	}
	return out, nil
}

func (f *fakeSource) Describe(_ context.Context, accounts, _ []tracer.Address) (tracer.Descriptions, error) {
	f.described = append(f.described, accounts...)
	d := tracer.Descriptions{Accounts: map[tracer.Address]tracer.Account{}, Tokens: map[tracer.Address]tracer.Token{}}
	for _, a := range accounts {
		d.Accounts[a] = tracer.Account{}
	}
	return d, nil
}

type fakePairer struct {
	answer Pairing
	asked  int
	ends   []uint64
}

func (p *fakePairer) Bridge() string          { return "thorchain" }
func (p *fakePairer) Chain() string           { return "bitcoin" }
func (p *fakePairer) MaxDelay() time.Duration { return time.Hour }
func (p *fakePairer) Swap(d Deposit) string {
	return strings.ToUpper(strings.TrimPrefix(d.Transfer.TxHash, "0x"))
}
func (p *fakePairer) Pair(_ context.Context, deps []Deposit, end uint64) ([]Pairing, error) {
	p.asked += len(deps)
	p.ends = append(p.ends, end)
	out := make([]Pairing, len(deps))
	for i := range deps {
		out[i] = p.answer
	}
	return out, nil
}

type labelMap map[string]tracer.Label

func (m labelMap) Lookup(chain string, a tracer.Address) (tracer.Label, bool) {
	l, ok := m[chain+"/"+string(a)]
	return l, ok
}

func xfer(chain string, block uint64, hash string, from, to tracer.Address, n int64) tracer.Transfer {
	return tracer.Transfer{Chain: chain, TxHash: hash, BlockNumber: block, LogIndex: -1, Kind: tracer.KindNative,
		From: from, To: to, Asset: tracer.NativeAsset, Amount: big.NewInt(n), TxFrom: from}
}

const depHash = "0xabcdef0000000000000000000000000000000000000000000000000000000001"

// story: the thief receives 100 (block 10) and deposits 80 into the
// router for BTC (block 20); on Bitcoin, r (a refund address) spends on to s.
func story(p *fakePairer) (*Source, *fakeSource, *fakeSource, *linearClock) {
	dep := xfer("ethereum", 20, depHash, "thief", "router", 80)
	dep.Annotations = map[string]string{tracer.AnnBridge: "thorchain", tracer.AnnDestChain: "bitcoin", tracer.AnnDestAddress: "dest"}
	eth := &fakeSource{transfers: []tracer.Transfer{xfer("ethereum", 10, "0x01", "victim", "thief", 100), dep}}
	btc := &fakeSource{transfers: []tracer.Transfer{xfer("", 7, "btc1", "r", "s", 900)}}
	// Ethereum: a block every 12 s from 1,000,000; Bitcoin: every 600 s from 1,000,000 - 3,600.
	btcClock := &linearClock{base: 1_000_000 - 3_600, step: 600, head: 50}
	src, err := New(Chain{Name: "ethereum", Source: eth, Clock: &linearClock{base: 1_000_000, step: 12, head: 100}},
		[]Chain{{Name: "bitcoin", Source: btc, Clock: btcClock, Coin: tracer.Token{Symbol: "BTC", Decimals: 8}}}, p)
	if err != nil {
		panic(err)
	}
	return src, eth, btc, btcClock
}

func trace(t *testing.T, src *Source) *tracer.Trace {
	t.Helper()
	tr, err := tracer.Walk(context.Background(), src, tracer.Options{Chain: "ethereum", Seeds: []tracer.Address{"thief"},
		Window: tracer.BlockRange{From: 1, To: 100},
		Labels: src.Labels(labelMap{"ethereum/router": {Name: "THORChain router", Category: tracer.CategoryBridge}})})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func transferOf(tr *tracer.Trace, hash string) *tracer.TracedTransfer {
	for i := range tr.Transfers {
		if tr.Transfers[i].TxHash == hash {
			return &tr.Transfers[i]
		}
	}
	return nil
}

func TestBlockSearchByTime(t *testing.T) {
	c := &linearClock{base: 1000, step: 10, head: 9} // blocks 0..9 at 1000..1090
	ctx := context.Background()
	for _, x := range []struct {
		at          int64
		first, last uint64
	}{{0, 0, 0}, {1000, 0, 0}, {1001, 1, 0}, {1050, 5, 5}, {1055, 6, 5}, {1090, 9, 9}, {5000, 10, 9}} {
		first, err := FirstAtOrAfter(ctx, c, x.at)
		if err != nil {
			t.Fatal(err)
		}
		last, err := LastAtOrBefore(ctx, c, x.at)
		if err != nil {
			t.Fatal(err)
		}
		if first != x.first || last != x.last {
			t.Errorf("time %d: first at or after %d, last at or before %d; want %d and %d", x.at, first, last, x.first, x.last)
		}
	}
}

// The Bitcoin window covers the Ethereum window's time span, from two
// hours (the block-time skew) before it to the bridge's bound after it.
func TestChainWindowMapsByBlockTime(t *testing.T) {
	src, _, _, _ := story(&fakePairer{})
	w, err := src.ChainWindow(context.Background(), "bitcoin", tracer.BlockRange{From: 1, To: 100})
	if err != nil {
		t.Fatal(err)
	}
	// Ethereum [1,100] spans 1,000,012 .. 1,001,200; Bitcoin block n is at 996,400 + 600n.
	// From: first block at or after 1,000,012 - 7,200 = 992,812 -> 0; to: last at or before 1,001,200 + 3,600 + 7,200 = 1,012,000 -> 26.
	if w != (tracer.BlockRange{From: 0, To: 26}) {
		t.Errorf("bitcoin window %v, want [0,26]", w)
	}
	if own, _ := src.ChainWindow(context.Background(), "ethereum", tracer.BlockRange{From: 5, To: 9}); own != (tracer.BlockRange{From: 5, To: 9}) {
		t.Errorf("the primary's window changed to %v", own)
	}
}

// A deposit whose payout is not found stays at the router, annotated with
// what was searched, and counts as bridged, not arrived.
func TestNotFoundDepositStaysABridgeTerminal(t *testing.T) {
	p := &fakePairer{answer: Pairing{Status: StatusNotFound, Detail: "no OUT:ABCDEF... in blocks 0-26"}}
	src, _, btc, _ := story(p)
	tr := trace(t, src)
	dep := transferOf(tr, depHash)
	if dep == nil || dep.To != "router" || dep.Annotations[tracer.AnnPairing] != StatusNotFound || dep.Annotations[tracer.AnnPairingDetail] != p.answer.Detail {
		t.Fatalf("deposit %+v: want it at the router, not_found with the search's detail", dep)
	}
	if p.asked != 1 || !slices.Equal(p.ends, []uint64{26}) {
		t.Errorf("pairer asked for %d deposits up to %v, want 1 up to block 26", p.asked, p.ends)
	}
	if s := tr.Summary.Assets; len(s) != 1 || s[0].Buckets[tracer.BucketBridge].Int64() != 80 {
		t.Errorf("accounting %+v, want 80 at the bridge", s)
	}
	if len(btc.asked) != 0 {
		t.Errorf("bitcoin asked for %v with nothing traced there", btc.asked)
	}
}

// A refund paid on a traced chain is followed there, booked as refunded.
func TestRefundIsFollowedOnItsChain(t *testing.T) {
	p := &fakePairer{answer: Pairing{Status: StatusRefunded, Detail: "REFUND:ABCDEF... in btcr",
		Legs: []Leg{{TxID: "btcr", Block: 5, To: "r", Amount: big.NewInt(1000), Vault: "vault", Memo: "REFUND:ABCDEF", Delay: 600}}}}
	src, _, btc, _ := story(p)
	tr := trace(t, src)
	hub := tracer.Address("thorchain:" + strings.ToUpper(strings.TrimPrefix(depHash, "0x")))
	pay := transferOf(tr, "btcr")
	if pay == nil || pay.From != hub || pay.To != "bitcoin:r" || pay.Tainted.Int64() != 1000 || pay.Annotations[tracer.AnnConversion] != tracer.ConversionRefunded ||
		pay.Annotations[tracer.AnnInboundTx] != depHash || pay.Annotations[tracer.AnnOutboundTx] != "btcr" {
		t.Fatalf("refund %+v: want the hub paying bitcoin:r 1000 stolen, both hashes in evidence", pay)
	}
	if on := transferOf(tr, "btc1"); on == nil || on.From != "bitcoin:r" || on.To != "bitcoin:s" || on.Tainted.Int64() != 900 || on.Asset != "bitcoin:native" {
		t.Errorf("onward %+v: want r -> s carrying 900 stolen bitcoin:native", on)
	}
	eth, coin := tr.Summary.Assets[1], tr.Summary.Assets[0]
	if eth.Asset != tracer.NativeAsset || eth.Buckets[tracer.BucketRefunded].Int64() != 80 || coin.BridgedIn.Int64() != 1000 || coin.Symbol != "BTC" {
		t.Errorf("accounting %+v / %+v: want 80 ETH refunded and 1000 BTC paid back", eth, coin)
	}
	if !slices.ContainsFunc(btc.asked, func(as []tracer.Address) bool { return slices.Equal(as, []tracer.Address{"r"}) }) {
		t.Errorf("bitcoin asked for %v, want r unqualified", btc.asked)
	}
	if n := nodeOf(tr, hub); n == nil || n.Category != tracer.CategoryBridgeSwap || !strings.Contains(n.Labels[0].Name, "refunded") {
		t.Errorf("hub %+v: want a bridge_swap node labelled with its pairing", n)
	}
}

func nodeOf(tr *tracer.Trace, a tracer.Address) *tracer.Node {
	for i := range tr.Nodes {
		if tr.Nodes[i].Address == a {
			return &tr.Nodes[i]
		}
	}
	return nil
}

// Other chains' addresses are asked of their chain unqualified, and their
// labels looked up with their own chain.
func TestAddressesRouteToTheirChain(t *testing.T) {
	src, eth, btc, _ := story(&fakePairer{})
	d, err := src.Describe(context.Background(), []tracer.Address{"bitcoin:r", "thief", "thorchain:AB"}, []tracer.Address{"bitcoin:native"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(btc.described, []tracer.Address{"r"}) || !slices.Equal(eth.described, []tracer.Address{"thief"}) {
		t.Errorf("described bitcoin %v, ethereum %v; want r and thief", btc.described, eth.described)
	}
	if _, ok := d.Accounts["bitcoin:r"]; !ok || !d.Accounts["thorchain:AB"].IsContract || d.Tokens["bitcoin:native"].Symbol != "BTC" {
		t.Errorf("descriptions %+v: want bitcoin:r, the hub as a contract, BTC's metadata", d)
	}
	l := src.Labels(labelMap{"bitcoin/r": {Name: "exchange", Category: tracer.CategoryExchange}})
	if got, ok := l.Lookup("ethereum", "bitcoin:r"); !ok || got.Name != "exchange" {
		t.Errorf("label of bitcoin:r = %v, %v; want the bitcoin label of r", got, ok)
	}
	if _, ok := l.Lookup("ethereum", "r"); ok {
		t.Error("an Ethereum address got a Bitcoin label")
	}
}
