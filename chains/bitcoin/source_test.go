package bitcoin

import (
	"context"
	"errors"
	"maps"
	"math/big"
	"slices"
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
	Addresses []string            // wallets the stolen value reached, seeds included
	Hubs      []string            // txids of the transactions it went through
	Terminals map[string]string   // node -> category, for terminal nodes
	Buckets   map[string]*big.Int // the summary's buckets (native asset)
	Stolen    *big.Int
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
	v := walkView{Taint: model.Name(), Terminals: map[string]string{}, Buckets: map[string]*big.Int{}}
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
	v.Stolen = as.Stolen
	sum := new(big.Int)
	for b, x := range as.Buckets {
		v.Buckets[b] = x
		sum.Add(sum, x)
	}
	if sum.Cmp(as.Stolen) != 0 {
		t.Errorf("%s: buckets %v add to %s, stolen %s", model.Name(), as.Buckets, sum, as.Stolen)
	}
	t.Logf("%s: %d addresses, %d hubs, terminals %v, buckets %v of %s", v.Taint, len(v.Addresses), len(v.Hubs), v.Terminals, v.Buckets, v.Stolen)
	return tr, v
}

// flowOf is the harness's truth: the addresses paid, directly or through
// further spends, by transactions spending from seed (in chain order of
// txs), and every other address of txs.
func flowOf(txs []utxo.Tx, seed string) (flow, noise []string) {
	txs = slices.Clone(txs)
	slices.SortStableFunc(txs, func(a, b utxo.Tx) int { return int(a.Block) - int(b.Block) })
	reached := map[string]bool{seed: true}
	for changed := true; changed; {
		changed = false
		for _, tx := range txs {
			if !slices.ContainsFunc(tx.Inputs, func(in utxo.Input) bool { return reached[in.Address] }) {
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

func TestSourceReplay(t *testing.T) {
	fc, rp := loadCase(t)
	c, err := Dial("http://replay.invalid/", Options{Transport: rp, BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := c.ProbeNode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seed := fc.Addresses[0]
	flow, noise := flowOf(fc.Want.Txs, seed)
	if len(flow) < 7 || len(noise) < 2 {
		t.Fatalf("the case's flow %v and noise %v are too small to test", flow, noise)
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
	// The recording holds the block scan (getblock verbosity 2) of the window.
	src := NewSource(c, p, SourceOptions{Spends: SpendsByBlockScan})
	for _, m := range tracer.TaintModels() {
		tr, v := walkSource(ctx, t, src, seed, w, m)
		checkFlow(t, v, flow, noise)
		if v.Stolen.Int64() != stolen {
			t.Errorf("%s: stolen %s, the harness paid the seed %d", m.Name(), v.Stolen, stolen)
		}
		// Each hub conserves value: what went in (from traced senders)
		// left again, fee included.
		in, out := map[tracer.Address]*big.Int{}, map[tracer.Address]*big.Int{}
		for _, x := range tr.Transfers {
			if strings.HasPrefix(string(x.To), TxPrefix) {
				add(in, x.To, x.Tainted)
			}
			if strings.HasPrefix(string(x.From), TxPrefix) {
				add(out, x.From, x.Tainted)
			}
		}
		for h, x := range in {
			if out[h] == nil || out[h].Cmp(x) != 0 {
				t.Errorf("%s: hub %s took in %s stolen sats, passed on %v", m.Name(), h, x, out[h])
			}
		}
	}
	if n := src.scanner.Reads(); n != int(w.Len()) {
		t.Errorf("the walks read %d blocks for a window of %d", n, w.Len())
	}
}

func add(m map[tracer.Address]*big.Int, a tracer.Address, x *big.Int) {
	if m[a] == nil {
		m[a] = new(big.Int)
	}
	m[a].Add(m[a], x)
}
