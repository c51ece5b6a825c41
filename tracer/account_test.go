package tracer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func skipsOf(tr *Trace, to Address) []string {
	var out []string
	for _, s := range tr.Skipped {
		if s.Address == to {
			out = append(out, s.Reason)
		}
	}
	return out
}

// The seed's stolen balance is spent by its first outflow: the second (as
// large, early in the window) carried nothing. It used to vanish from the
// trace; now it is skipped with its reason, and the seed is stated as
// paying out more than it was seen to receive.
func TestSpentBalanceTransferIsSkippedAndStated(t *testing.T) {
	spent := eth(7, "seed", "b", 10_000)
	src := &fakeSource{transfers: []Transfer{
		eth(5, "victim", "seed", 10_000),
		eth(6, "seed", "a", 10_000),
		spent,
		eth(8, "victim", "seed", 1),
		eth(9, "seed", "d", 1),
		eth(7, "d", "early", 1), // read with a's window (from block 6), before stolen value reached d
	}}
	tr := walk(t, src, Options{})
	if got := skipsOf(tr, "b"); len(got) != 1 || !strings.Contains(got[0], "already spent") {
		t.Errorf("skipped for b = %q, want the spent-balance reason", got)
	}
	if got := skipsOf(tr, "early"); len(got) != 1 || !strings.Contains(got[0], "before stolen value arrived") {
		t.Errorf("skipped for early = %q, want the before-the-theft reason", got)
	}
	if u := tr.Unexplained; len(u) != 2 || u[1].Address != "seed" || u[1].Amount.Int64() != 10_000 || u[1].TxHash != spent.TxHash || u[0].Address != "d" {
		t.Errorf("unexplained = %+v, want the seed's 10000 sent beyond its known inflows (first at b's tx), and d's 1", u)
	}
	if tr.Read != 6 {
		t.Errorf("read = %d, want 6 (2 credits, 4 outflows)", tr.Read)
	}
}

// The invariant itself fails when a read transfer is left out.
func TestCheckAccountedCatchesADroppedTransfer(t *testing.T) {
	w := newWalker(&fakeSource{}, Options{})
	dropped := eth(6, "seed", "b", 1)
	w.read[dropped.ID()] = true
	if err := w.checkAccounted(&Trace{}); err == nil || !strings.Contains(err.Error(), dropped.ID()) {
		t.Fatalf("checkAccounted = %v, want it to name %s", err, dropped.ID())
	}
	if err := w.checkAccounted(&Trace{Skipped: []Skip{skipOf(dropped, "zero-value transfer")}}); err != nil {
		t.Fatalf("checkAccounted with the transfer skipped = %v", err)
	}
}

// fakeRegistry recognises a fixed set of tokens; any other token whose
// symbol is one of theirs impersonates it.
type fakeRegistry map[Address]string

func (r fakeRegistry) Recognised(_ string, tok Address) bool { _, ok := r[tok]; return ok }

func (r fakeRegistry) Impersonates(_ string, tok Address, meta Token) (Address, bool) {
	if _, ok := r[tok]; ok {
		return "", false
	}
	for real, sym := range r {
		if strings.EqualFold(sym, meta.Symbol) {
			return real, true
		}
	}
	return "", false
}

func TestTrustModel(t *testing.T) {
	const usdt, fake, junk = Address("usdt"), Address("fake-usdt"), Address("junk")
	src := &fakeSource{
		tokens:    map[Address]Token{usdt: {Symbol: "USDT", Decimals: 6}, fake: {Symbol: "USDT", Decimals: 6}, junk: {Symbol: "JUNK"}},
		contracts: map[Address]bool{"resolver": true},
		transfers: []Transfer{
			token(5, usdt, "victim", "seed", 1000, "seed"),
			token(5, fake, "airdropper", "seed", 401_346_768, "airdropper"), // an impersonating airdrop
			token(5, junk, ZeroAddress, "seed", 7, "spammer"),               // a spam mint
			token(5, junk, "victim", "seed", 3, "victim"),                   // the victim's own transfer counts
			token(6, usdt, "seed", "hop", 600, "resolver"),                  // an aggregator's transferFrom pull
			token(6, fake, "seed", "look-alike", 1000, "poisoner"),          // fake token's spoofed Transfer
			token(7, usdt, "seed", "hop2", 400, "seed"),
		},
	}
	tr := walk(t, src, Options{Tokens: fakeRegistry{usdt: "USDT"}})
	if nodes := nodeSet(tr); !slices.Contains(nodes, "hop") || slices.Contains(nodes, "look-alike") {
		t.Errorf("nodes = %v: want the pull of a recognised token followed, not the fake token", nodes)
	}
	if s := tr.Summary.Assets; len(s) != 2 || s[0].Asset != Asset(junk) || s[0].Stolen.Int64() != 3 || s[1].Asset != Asset(usdt) || s[1].Stolen.Int64() != 1000 {
		t.Errorf("summary = %+v, want the genuine USDT and the victim's own JUNK transfer credited", tr.Summary.Assets)
	}
	if got := skipsOf(tr, "seed"); len(got) != 2 || !strings.Contains(strings.Join(got, "|"), "impersonat") || !strings.Contains(strings.Join(got, "|"), "airdrop") {
		t.Errorf("seed inflows skipped = %q, want the impersonating and the spam token", got)
	}
	if got := skipsOf(tr, "look-alike"); len(got) != 1 || !strings.Contains(got[0], "impersonat") {
		t.Errorf("look-alike = %q, want impersonating", got)
	}
	if !strings.Contains(tr.StolenBasis, "recognised") {
		t.Errorf("basis = %q", tr.StolenBasis)
	}
}

func TestTheftTxsCreditExactlyTheTheft(t *testing.T) {
	theft := eth(5, "victim", "seed", 100)
	src := &fakeSource{transfers: []Transfer{eth(4, "cex", "seed", 30), theft, eth(8, "seed", "a", 130)}}
	tr := walk(t, src, Options{TheftTxs: []string{strings.ToUpper(theft.TxHash[2:]) + "x", theft.TxHash}})
	if s := tr.Summary.Assets[0]; s.Stolen.Int64() != 100 {
		t.Errorf("stolen = %s, want 100", s.Stolen)
	}
	if a := node(tr, "a"); a == nil || a.Received[NativeAsset].Int64() != 100 {
		t.Errorf("a = %+v, want 100 stolen received", a)
	}
	if len(tr.Unexplained) != 0 {
		t.Errorf("unexplained = %+v: the clean inflow is a known one", tr.Unexplained)
	}
	if !strings.Contains(tr.StolenBasis, theft.TxHash) || !strings.Contains(tr.StolenBasis, "moved nothing") {
		t.Errorf("basis = %q", tr.StolenBasis)
	}
}

// Stolen ETH wrapped to WETH, sent on and unwrapped keeps its full taint
// under every model (a 1:1 conversion, booked like a trade).
func TestWrapSendUnwrapKeepsFullTaint(t *testing.T) {
	const weth = Address("weth")
	for _, m := range TaintModels() {
		t.Run(m.Name(), func(t *testing.T) {
			deposit := eth(6, "seed", weth, 100)
			minted := token(6, weth, weth, "seed", 100, "seed")
			minted.TxHash = deposit.TxHash
			send := token(7, weth, "seed", "mule", 100, "seed")
			burn := token(8, weth, "mule", weth, 100, "mule")
			paid := eth(8, weth, "mule", 100)
			paid.TxHash, paid.Kind, paid.TxFrom = burn.TxHash, KindInternal, "mule"
			src := &fakeSource{
				tokens:    map[Address]Token{weth: {Symbol: "WETH", Decimals: 18}},
				contracts: map[Address]bool{weth: true},
				transfers: []Transfer{
					eth(2, "other", weth, 1000), // WETH's own balance of others' ETH
					eth(5, "victim", "seed", 100), deposit, minted, send, burn, paid,
					eth(9, "mule", "out", 100),
				},
			}
			tr := walk(t, src, Options{Taint: m, Tokens: fakeRegistry{weth: "WETH"}})
			if n := node(tr, "out"); n == nil || n.Received[NativeAsset].Int64() != 100 {
				t.Fatalf("out = %+v, want all 100 stolen ETH after the unwrap", n)
			}
			checkConservation(t, tr)
		})
	}
}

// randomFlow builds a random theft: a seed drained in a few inflows, then a
// random graph of native and token transfers among a pool of addresses, with
// clean inflows, poisoning (zero value, spoofed, impersonating tokens),
// swaps at a pool and outflows before the theft.
func randomFlow(r *rand.Rand) (*fakeSource, Options) {
	const tok, fake, pool = Address("tok"), Address("fake"), Address("pool")
	n := 5 + r.IntN(40)
	addr := func() Address {
		if r.IntN(10) == 0 {
			return pool
		}
		return Address(fmt.Sprintf("w%02d", r.IntN(n)))
	}
	src := &fakeSource{
		tokens:    map[Address]Token{tok: {Symbol: "TOK", Decimals: 6}, fake: {Symbol: "TOK", Decimals: 6}},
		contracts: map[Address]bool{pool: true},
	}
	add := func(t Transfer) { src.transfers = append(src.transfers, t) }
	for range 1 + r.IntN(3) {
		add(eth(uint64(5+r.IntN(5)), "victim", "seed", int64(1+r.IntN(1000))))
	}
	add(token(6, tok, "victim", "seed", int64(1+r.IntN(1000)), "seed"))
	for range 20 + r.IntN(200) {
		from, to := addr(), addr()
		if r.IntN(5) == 0 {
			from = "seed"
		}
		b := uint64(1 + r.IntN(60))
		amt := int64(r.IntN(400))
		switch r.IntN(8) {
		case 0:
			add(token(b, tok, from, to, amt, from))
		case 1:
			add(token(b, fake, from, to, amt, "poisoner"))
		case 2:
			add(token(b, tok, from, to, amt, "poisoner")) // spoofed unless from is a contract
		case 3: // a swap at the pool: ETH in, TOK back
			in := eth(b, from, pool, amt)
			back := token(b, tok, pool, from, int64(r.IntN(500)), from)
			back.TxHash = in.TxHash
			add(in)
			add(back)
		case 4:
			add(eth(b, "funder", to, amt)) // clean money from outside
		default:
			add(eth(b, from, to, amt))
		}
	}
	opts := Options{Window: BlockRange{From: 1, To: 60}}
	if r.IntN(3) == 0 {
		opts.MaxDepth = 1 + r.IntN(4)
	}
	if r.IntN(4) == 0 {
		opts.MaxAddresses = 2 + r.IntN(n)
	}
	if r.IntN(3) == 0 {
		opts.MinValue, _ = ParseThreshold(fmt.Sprintf("%d", r.IntN(50)))
	}
	if r.IntN(2) == 0 {
		opts.Tokens = fakeRegistry{tok: "TOK"}
	}
	if r.IntN(4) == 0 {
		opts.StopAtContracts = true
	}
	return src, opts
}

// Over many random flows and every model: every transfer read is traced,
// credited or skipped (Walk checks it and fails otherwise); value is
// conserved; no transfer carries more than its amount; and no transfer
// carries stolen value sent before stolen value reached its sender.
func TestWalkInvariantsOnRandomFlows(t *testing.T) {
	const flows = 300
	for i := range flows {
		r := rand.New(rand.NewPCG(uint64(i), 11))
		src, opts := randomFlow(r)
		opts.Seeds = []Address{"seed"}
		for _, m := range TaintModels() {
			opts.Taint = m
			w := newWalker(src, opts)
			if err := w.start(context.Background()); err != nil {
				t.Fatalf("flow %d, %s: %v", i, m.Name(), err)
			}
			w.run(context.Background())
			tr := w.result()
			if err := w.checkAccounted(tr); err != nil {
				t.Fatalf("flow %d, %s: %v", i, m.Name(), err)
			}
			checkConservation(t, tr)
			w.ledger.outflowEvents(func(e *event) {
				x, o, id := w.ledger.tainted[e.n], e.t, e.id
				if x == nil {
					return
				}
				if x.Sign() < 0 || x.Cmp(o.Amount) > 0 {
					t.Fatalf("flow %d, %s: %s carries %s of %s", i, m.Name(), id, x, o.Amount)
				}
				if b, ok := w.ledger.firstInflow(o.From); x.Sign() > 0 && (!ok || o.BlockNumber < b) {
					t.Fatalf("flow %d, %s: %s at block %d from %s carries %s, stolen value reached it at %d", i, m.Name(), id, o.BlockNumber, o.From, x, b)
				}
			})
			if tr.Read == 0 {
				t.Fatalf("flow %d: nothing read", i)
			}
			if t.Failed() {
				t.Fatalf("flow %d, %s failed", i, m.Name())
			}
		}
	}
}
