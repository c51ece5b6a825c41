package tracer

import (
	"math/big"
	"slices"
	"testing"
)

// step is one replayed event of a hand-computed purse: an inflow of amount
// with tainted stolen, or (tainted < 0) an outflow of amount whose stolen
// part must be want.
type step struct {
	amount, tainted, want int64
}

func in(amount, tainted int64) step { return step{amount, tainted, 0} }
func out(amount, want int64) step   { return step{amount, -1, want} }

func TestTaintModelsOnHandComputedPurses(t *testing.T) {
	// Clean 30 arrives, then stolen 70, then 40 leaves, then 60 leaves.
	ledger := []step{in(30, 0), in(70, 70), out(40, -1), out(60, -1)}
	for _, tc := range []struct {
		model TaintModel
		outs  []int64 // the stolen part of each outflow
		left  int64
	}{
		{Poison{}, []int64{40, 30}, 0},  // stolen first
		{Haircut{}, []int64{28, 42}, 0}, // 40*70/100, then 60*42/60
		{FIFO{}, []int64{10, 60}, 0},    // the 30 clean leave first
	} {
		t.Run(tc.model.Name(), func(t *testing.T) {
			p, k := tc.model.newPurse(), 0
			for _, s := range ledger {
				if s.tainted >= 0 {
					p.receive(big.NewInt(s.amount), big.NewInt(s.tainted))
					continue
				}
				if got := p.spend(big.NewInt(s.amount)); got.Int64() != tc.outs[k] {
					t.Errorf("outflow %d of %d carries %s stolen, want %d", k, s.amount, got, tc.outs[k])
				}
				k++
			}
			if p.tainted().Int64() != tc.left {
				t.Errorf("left %s, want %d", p.tainted(), tc.left)
			}
		})
	}
}

func TestTaintModelsRoundDownAndKeepTheRest(t *testing.T) {
	// 3 in, 2 of it stolen; 1 leaves, then an outflow larger than the
	// known balance (value of unknown origin counts as clean).
	for _, tc := range []struct {
		model       TaintModel
		first, over int64
	}{
		{Poison{}, 1, 1},
		{Haircut{}, 0, 2}, // 1*2/3 rounds down; then 5*2/5 (balance raised to the outflow)
		{FIFO{}, 0, 2},    // the lot is split pro rata: 1*2/3 rounds down; the rest is all of it
	} {
		t.Run(tc.model.Name(), func(t *testing.T) {
			p := tc.model.newPurse()
			p.receive(big.NewInt(3), big.NewInt(2))
			a := p.spend(big.NewInt(1))
			b := p.spend(big.NewInt(5))
			if a.Int64() != tc.first || b.Int64() != tc.over || p.tainted().Sign() != 0 {
				t.Errorf("outflows carry %s and %s, %s left; want %d, %d, 0", a, b, p.tainted(), tc.first, tc.over)
			}
		})
	}
}

func TestFIFOForfeitClearsTheNewestLots(t *testing.T) {
	p := FIFO{}.newPurse()
	p.receive(big.NewInt(10), big.NewInt(10))
	p.receive(big.NewInt(5), big.NewInt(5))
	p.forfeit(big.NewInt(5)) // the 5 that just arrived were traded away
	if got := p.spend(big.NewInt(10)); got.Int64() != 10 || p.tainted().Sign() != 0 {
		t.Errorf("after forfeit, 10 out carries %s (want 10), %s left (want 0)", got, p.tainted())
	}
}

func TestParseTaint(t *testing.T) {
	for _, m := range TaintModels() {
		got, err := ParseTaint(m.Name())
		if err != nil || got.Name() != m.Name() {
			t.Errorf("ParseTaint(%q) = %v, %v", m.Name(), got, err)
		}
	}
	if _, err := ParseTaint("lifo"); err == nil {
		t.Error("ParseTaint accepted an unknown model")
	}
}

// The walk under each model, on one hand-computable flow: the seed gets 100
// stolen and 50 clean (a theft tx names the stolen part), then sends 75 to
// a and 75 to b.
func TestWalkUnderEachModel(t *testing.T) {
	theft := eth(5, "victim", "seed", 100)
	src := &fakeSource{transfers: []Transfer{
		eth(4, "payroll", "seed", 50), theft,
		eth(6, "seed", "a", 75), eth(7, "seed", "b", 75),
	}}
	for _, tc := range []struct {
		model TaintModel
		a, b  int64
	}{
		{Poison{}, 75, 25},
		{Haircut{}, 50, 50}, // 75*100/150 = 50; then 75*50/75
		{FIFO{}, 25, 75},    // the clean 50 arrived first
	} {
		t.Run(tc.model.Name(), func(t *testing.T) {
			tr := walk(t, src, Options{Taint: tc.model, TheftTxs: []string{theft.TxHash}})
			if tr.Taint != tc.model.Name() {
				t.Errorf("trace taint = %q", tr.Taint)
			}
			if a, b := node(tr, "a").Received[NativeAsset].Int64(), node(tr, "b").Received[NativeAsset].Int64(); a != tc.a || b != tc.b {
				t.Errorf("a got %d, b got %d stolen; want %d, %d", a, b, tc.a, tc.b)
			}
			if s := tr.Summary.Assets[0]; s.Stolen.Int64() != 100 {
				t.Errorf("stolen = %s, want the theft's 100", s.Stolen)
			}
			checkConservation(t, tr)
		})
	}
}

func TestWalkComparesModelsOnOneTrace(t *testing.T) {
	theft := eth(5, "victim", "seed", 100)
	src := &fakeSource{transfers: []Transfer{eth(4, "payroll", "seed", 50), theft, eth(6, "seed", "a", 75), eth(7, "seed", "b", 75)}}
	tr := walk(t, src, Options{TheftTxs: []string{theft.TxHash}, CompareTaint: []TaintModel{Haircut{}, FIFO{}}})
	if len(tr.Alternatives) != 2 || tr.Alternatives[0].Taint != "haircut" || tr.Alternatives[1].Taint != "fifo" {
		t.Fatalf("alternatives = %+v", tr.Alternatives)
	}
	if d := tr.Alternatives[1].Summary.Assets[0].Buckets[BucketDormant]; d == nil || d.Int64() != 100 {
		t.Errorf("fifo dormant = %v, want 100", d)
	}
	// The walk's own accounting is restored after the comparison.
	if a := node(tr, "a").Received[NativeAsset].Int64(); a != 75 {
		t.Errorf("a received %d under poison, want 75", a)
	}
}

// Under --taint all, value another model puts where the walk's model brought
// nothing is booked as not followed by the walk, not as below threshold.
func TestComparedModelBooksWhatTheWalkDidNotFollow(t *testing.T) {
	theft := eth(5, "victim", "seed", 100)
	src := &fakeSource{transfers: []Transfer{eth(4, "payroll", "seed", 100), theft, eth(6, "seed", "a", 100), eth(7, "seed", "b", 100)}}
	tr := walk(t, src, Options{TheftTxs: []string{theft.TxHash}, CompareTaint: []TaintModel{Haircut{}}})
	if slices.Contains(nodeSet(tr), "b") {
		t.Fatalf("poison-first followed b, which got no stolen value")
	}
	b := tr.Alternatives[0].Summary.Assets[0].Buckets
	if b[BucketWalk] == nil || b[BucketWalk].Int64() != 50 || b[BucketDormant].Int64() != 50 || b[BucketBelowThreshold] != nil {
		t.Errorf("haircut buckets = %v, want 50 dormant at a and 50 at b not followed by the walk", b)
	}
}
