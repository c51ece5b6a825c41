package bitcoin

import (
	"context"
	"errors"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/chains/bitcoin/utxo"
	"github.com/flowtrace/flowtrace/tracer"
)

// walkView is what a test compares of a walk: the addresses reached (hubs
// and sinks apart) and the accounting per bucket.
type walkView struct {
	Taint     string
	Addresses []string          // wallets the stolen value reached, seeds included
	Hubs      []string          // txids of the transactions it went through
	Terminals map[string]string // node -> category, for terminal nodes
	Buckets   map[string]string // the summary's buckets (native asset), in sats
	Stolen    string
}

// walkSource runs tracer.Walk on src from seed over w under model and
// checks the invariants every Bitcoin walk keeps: no unaccounted transfer,
// the buckets add up to the stolen value.
func walkSource(ctx context.Context, t *testing.T, src *Source, seed string, w tracer.BlockRange, model tracer.TaintModel) (*tracer.Trace, walkView) {
	t.Helper()
	tr, err := tracer.Walk(ctx, src, tracer.Options{
		Chain: "bitcoin", Seeds: []tracer.Address{tracer.Address(seed)}, Window: w, Taint: model, Labels: src.Labels(),
	})
	if errors.Is(err, tracer.ErrUnaccounted) {
		t.Fatalf("%s: %v", model.Name(), err)
	}
	if err != nil {
		t.Fatalf("%s: %v", model.Name(), err)
	}
	if tr.Stats.StopReason != tracer.StopComplete {
		t.Errorf("%s: the walk stopped with %s: %s", model.Name(), tr.Stats.StopReason, tr.Stats.StopDetail)
	}
	v := walkView{Taint: model.Name(), Terminals: map[string]string{}, Buckets: map[string]string{}}
	for _, n := range tr.Nodes {
		a := string(n.Address)
		switch {
		case strings.HasPrefix(a, TxPrefix):
			v.Hubs = append(v.Hubs, strings.TrimPrefix(a, TxPrefix))
		case n.Address != FeeAddress:
			v.Addresses = append(v.Addresses, a)
		}
		if n.Stop == tracer.NodeTerminal {
			v.Terminals[a] = string(n.Category)
		}
	}
	if len(tr.Summary.Assets) != 1 || tr.Summary.Assets[0].Asset != tracer.NativeAsset {
		t.Fatalf("%s: summary %+v, want one native asset", model.Name(), tr.Summary.Assets)
	}
	as := tr.Summary.Assets[0]
	v.Stolen = as.Stolen.String()
	sum := new(big.Int)
	for b, x := range as.Buckets {
		v.Buckets[b] = x.String()
		sum.Add(sum, x)
	}
	if sum.Cmp(as.Stolen) != 0 {
		t.Errorf("%s: buckets %v add to %s, stolen %s", model.Name(), as.Buckets, sum, as.Stolen)
	}
	t.Logf("%s: %d addresses, %d hubs, terminals %v, buckets %v of %s", v.Taint, len(v.Addresses), len(v.Hubs), v.Terminals, v.Buckets, v.Stolen)
	return tr, v
}

// flowOf is the harness's truth: the addresses paid, directly or through
// further spends, by transactions spending from seed, except through the
// transaction stop (a CoinJoin: a terminal); and every other address of txs.
func flowOf(txs []utxo.Tx, seed, stop string) (flow, noise []string) {
	reached := map[string]bool{seed: true}
	for changed := true; changed; {
		changed = false
		for _, tx := range txs {
			if tx.TxID == stop || !slices.ContainsFunc(tx.Inputs, func(in utxo.Input) bool { return reached[in.Address] }) {
				continue
			}
			for _, o := range tx.Outputs {
				if o.Address != "" && !reached[o.Address] {
					reached[o.Address], changed = true, true
				}
			}
		}
	}
	all := map[string]bool{}
	for _, tx := range txs {
		for _, in := range tx.Inputs {
			all[in.Address] = true
		}
		for _, o := range tx.Outputs {
			if o.Address != "" {
				all[o.Address] = true
			}
		}
	}
	for a := range all {
		if !reached[a] {
			noise = append(noise, a)
		}
	}
	slices.Sort(noise)
	return slices.Sorted(maps.Keys(reached)), noise
}

// walkCase walks the case from its first address under every taint model,
// by the probe's method (the address index) and by a block scan, checks
// each walk against what the harness sent, and returns the indexed walks.
func walkCase(ctx context.Context, t *testing.T, c *Client, fc fixtureCase) []walkView {
	t.Helper()
	p, err := c.ProbeNode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seed := fc.Addresses[0]
	flow, noise := flowOf(fc.Want.Txs, seed, fc.CoinJoin)
	if len(flow) < 8 || len(noise) < 8 || fc.CoinJoin == "" {
		t.Fatalf("the case's flow %v, noise %v and CoinJoin %q are too small to test", flow, noise, fc.CoinJoin)
	}
	var stolen int64
	for _, tx := range fc.Want.Txs {
		for _, o := range tx.Outputs {
			if o.Address == seed && !slices.ContainsFunc(tx.Inputs, func(in utxo.Input) bool { return in.Address == seed }) {
				stolen += o.Value
			}
		}
	}
	w := tracer.BlockRange{From: fc.From, To: fc.To}
	mixer := string(TxAddress(fc.CoinJoin))
	var indexed []walkView
	for _, method := range []SpendMethod{p.Spends, SpendsByBlockScan} {
		src := NewSource(c, p, SourceOptions{Spends: method})
		if got, _ := src.Method(); got != method {
			t.Fatalf("asked for %s, the source uses %s", method, got)
		}
		for i, m := range tracer.TaintModels() {
			tr, v := walkSource(ctx, t, src, seed, w, m)
			checkFlow(t, v, flow, noise)
			if v.Stolen != strconv.FormatInt(stolen, 10) {
				t.Errorf("%s %s: stolen %s, the harness paid the seed %d", method, m.Name(), v.Stolen, stolen)
			}
			if v.Terminals[mixer] != string(tracer.CategoryMixer) || v.Buckets[tracer.BucketMixer] == "" {
				t.Errorf("%s %s: the CoinJoin %s is not a mixer terminal holding value: terminals %v, buckets %v", method, m.Name(), fc.CoinJoin, v.Terminals, v.Buckets)
			}
			checkHubs(t, tr, mixer)
			if method == p.Spends {
				indexed = append(indexed, v)
			} else if d := cmp.Diff(indexed[i], v); d != "" {
				t.Errorf("%s: the block scan's walk differs from the address index's (-index +scan):\n%s", m.Name(), d)
			}
		}
		if method == SpendsByBlockScan {
			if n := src.scanner.Reads(); n != int(w.Len()) {
				t.Errorf("the walks read %d blocks for a window of %d", n, w.Len())
			}
		}
	}
	return indexed
}

// checkHubs checks that every hub the walk went through passed on the
// stolen value it took in, fee included, and that the transfers into the
// CoinJoin carry its evidence.
func checkHubs(t *testing.T, tr *tracer.Trace, mixer string) {
	t.Helper()
	in, out := map[tracer.Address]*big.Int{}, map[tracer.Address]*big.Int{}
	evidence := 0
	for _, x := range tr.Transfers {
		if strings.HasPrefix(string(x.To), TxPrefix) {
			add(in, x.To, x.Tainted)
		}
		if strings.HasPrefix(string(x.From), TxPrefix) {
			add(out, x.From, x.Tainted)
		}
		if string(x.To) == mixer {
			if x.Annotations[tracer.AnnMixer] != "coinjoin:whirlpool" || x.Annotations[AnnCoinJoinEvidence] == "" {
				t.Errorf("%s: transfer into the CoinJoin without evidence: %v", tr.Taint, x.Annotations)
			}
			evidence++
		}
	}
	if evidence == 0 {
		t.Errorf("%s: no traced transfer into the CoinJoin %s", tr.Taint, mixer)
	}
	for h, x := range in {
		if string(h) == mixer {
			if out[h] != nil {
				t.Errorf("%s: the walk went through the CoinJoin", tr.Taint)
			}
			continue
		}
		if out[h] == nil || out[h].Cmp(x) != 0 {
			t.Errorf("%s: hub %s took in %s stolen sats, passed on %v", tr.Taint, h, x, out[h])
		}
	}
}

func add(m map[tracer.Address]*big.Int, a tracer.Address, x *big.Int) {
	if m[a] == nil {
		m[a] = new(big.Int)
	}
	m[a].Add(m[a], x)
}

// checkFlow compares a walk with the harness's truth.
func checkFlow(t *testing.T, v walkView, flow, noise []string) {
	t.Helper()
	if d := cmp.Diff(flow, v.Addresses); d != "" {
		t.Errorf("%s: addresses reached (-sent +walked):\n%s", v.Taint, d)
	}
	for _, a := range noise {
		if slices.Contains(v.Addresses, a) {
			t.Errorf("%s: unrelated address %s reached", v.Taint, a)
		}
	}
}
