package tracer

import (
	"cmp"
	"math/big"
	"slices"
	"strings"
)

// ledger propagates stolen value through the transfers found so far.
//
// Value is tracked per address and asset. The seeds are credited with what
// they received in the window; every other address holds only what traced
// transfers brought it. Transfers are replayed in chain order, and each takes
// tainted value first from its sender's holdings ("poison first"), up to its
// amount. A transfer sent before any tainted value arrived carries none, which
// is what makes the walk causal. Value is conserved: what the seeds were
// credited equals what all holders hold at the end.
type ledger struct {
	credits  map[string]Transfer // what the seeds received, by transfer ID
	outflows map[string]Transfer // transfers sent by expanded nodes, by ID

	// sorted holds the events of the transfers added before the last call
	// of events, in chain order; added lists those added since. Each level
	// sorts only its new transfers and merges them in, instead of
	// re-sorting every transfer found so far.
	sorted []sortedEvent
	added  []sortedEvent

	tainted  map[string]*big.Int // the stolen part of each transfer
	held     map[Address]map[Asset]*big.Int
	received map[Address]map[Asset]*big.Int
	first    map[Address]uint64 // block of the first tainted inflow

	swapIns   map[swapKey]*swapLeg           // trade inputs replayed so far (swap.go)
	pairs     map[swapKey]Transfer           // the outflows by (tx, sender, recipient), during propagate
	swapped   map[Address]map[Asset]*big.Int // stolen value traded away, at the pool
	swappedIn map[Address]map[Asset]*big.Int // stolen value bought, at the trader
}

func newLedger() *ledger {
	return &ledger{credits: map[string]Transfer{}, outflows: map[string]Transfer{}}
}

func (l *ledger) addCredit(t Transfer) {
	id := t.ID()
	if _, known := l.credits[id]; !known {
		l.added = append(l.added, sortedEvent{id: id})
	}
	l.credits[id] = t
}

func (l *ledger) addOutflow(t Transfer) {
	id := t.ID()
	if _, known := l.outflows[id]; !known {
		l.added = append(l.added, sortedEvent{id: id, outflow: true})
	}
	l.outflows[id] = t
}

// propagate recomputes every holding from scratch. trusted says which
// transfers may carry taint at all.
func (l *ledger) propagate(trusted func(Transfer) bool) {
	l.tainted = map[string]*big.Int{}
	l.held = map[Address]map[Asset]*big.Int{}
	l.received = map[Address]map[Asset]*big.Int{}
	l.first = map[Address]uint64{}
	l.swapIns = map[swapKey]*swapLeg{}
	l.swapped = map[Address]map[Asset]*big.Int{}
	l.swappedIn = map[Address]map[Asset]*big.Int{}
	evs := l.events()
	l.pairs = swapPairs(evs)
	defer func() { l.pairs = nil }()
	for _, e := range evs {
		if e.credit {
			l.arrive(e.t, e.t.Amount)
			continue
		}
		if !trusted(e.t) || l.tainted[e.id] != nil {
			continue
		}
		// The other leg of a trade comes first when it is the one that
		// carries stolen value in (native calls precede token events).
		if c, ok := l.pairs[swapKey{e.t.TxHash, e.t.To, e.t.From}]; ok && c.Asset != e.t.Asset && trusted(c) &&
			l.tainted[c.ID()] == nil && amountAt(l.held, e.t.From, e.t.Asset).Sign() == 0 {
			l.carry(c, c.ID())
		}
		l.carry(e.t, e.id)
	}
}

// carry books the stolen part of t (whose ID is id): a trade's output at the
// executed rate, anything else poison-first from its sender's holdings.
func (l *ledger) carry(t Transfer, id string) {
	if x, ok := l.swapOutput(t); ok {
		l.tainted[id] = x
		if x.Sign() > 0 {
			l.arrive(t, x)
		}
		return
	}
	avail := amountAt(l.held, t.From, t.Asset)
	x := new(big.Int).Set(t.Amount)
	if avail.Cmp(x) < 0 {
		x.Set(avail)
	}
	if x.Sign() == 0 {
		return
	}
	avail.Sub(avail, x)
	l.tainted[id] = x
	l.arrive(t, x)
	// Only a transfer answered in the same tx can be a trade's input.
	if _, ok := l.pairs[swapKey{t.TxHash, t.To, t.From}]; ok {
		l.recordSwapInput(t, x)
	}
}

// arrive books x of t's asset at its recipient.
func (l *ledger) arrive(t Transfer, x *big.Int) {
	amountAt(l.held, t.To, t.Asset).Add(amountAt(l.held, t.To, t.Asset), x)
	amountAt(l.received, t.To, t.Asset).Add(amountAt(l.received, t.To, t.Asset), x)
	if _, ok := l.first[t.To]; !ok { // events come in chain order
		l.first[t.To] = t.BlockNumber
	}
}

type ledgerEvent struct {
	t      Transfer
	id     string // t.ID()
	credit bool
}

// events lists credits and outflows in chain order. A credit that is also an
// outflow of a traced node (value sent back to a seed) counts as an outflow.
func (l *ledger) events() []ledgerEvent {
	l.merge()
	evs := make([]ledgerEvent, 0, len(l.sorted))
	for _, e := range l.sorted {
		if e.outflow {
			evs = append(evs, ledgerEvent{t: l.outflows[e.id], id: e.id})
		} else if _, dup := l.outflows[e.id]; !dup {
			evs = append(evs, ledgerEvent{t: l.credits[e.id], id: e.id, credit: true})
		}
	}
	return evs
}

// sortedEvent is a credit or an outflow, by transfer ID, with its place in
// chain order.
type sortedEvent struct {
	id      string
	outflow bool
	block   uint64
	tx      uint
	seq     int
}

// merge sorts the events added since the last call and merges them into
// l.sorted: O(n + k log k) for k new events instead of O(n log n).
func (l *ledger) merge() {
	if len(l.added) == 0 {
		return
	}
	for i := range l.added {
		e := &l.added[i]
		t := l.credits[e.id]
		if e.outflow {
			t = l.outflows[e.id]
		}
		e.block, e.tx, e.seq = t.BlockNumber, t.TxIndex, t.Seq
	}
	slices.SortFunc(l.added, compareSorted)
	merged := make([]sortedEvent, 0, len(l.sorted)+len(l.added))
	i, j := 0, 0
	for i < len(l.sorted) && j < len(l.added) {
		if compareSorted(l.added[j], l.sorted[i]) < 0 {
			merged = append(merged, l.added[j])
			j++
		} else {
			merged = append(merged, l.sorted[i])
			i++
		}
	}
	merged = append(append(merged, l.sorted[i:]...), l.added[j:]...)
	l.sorted, l.added = merged, l.added[:0]
}

// compareSorted is compareTransfers on the fields kept in a sortedEvent
// (credits before outflows of the same ID).
func compareSorted(a, b sortedEvent) int {
	return cmp.Or(cmp.Compare(a.block, b.block), cmp.Compare(a.tx, b.tx), cmp.Compare(a.seq, b.seq),
		strings.Compare(a.id, b.id), compareBool(a.outflow, b.outflow))
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// stolen sums the seeds' credits per asset.
func (l *ledger) stolen() map[Asset]*big.Int {
	out := map[Asset]*big.Int{}
	for id, t := range l.credits {
		if _, dup := l.outflows[id]; dup {
			continue
		}
		if out[t.Asset] == nil {
			out[t.Asset] = new(big.Int)
		}
		out[t.Asset].Add(out[t.Asset], t.Amount)
	}
	return out
}

// firstInflow is the block at which tainted value first reached a.
func (l *ledger) firstInflow(a Address) (uint64, bool) {
	b, ok := l.first[a]
	return b, ok
}

// amountAt returns the (mutable) amount of asset at a, creating it as zero.
func amountAt(m map[Address]map[Asset]*big.Int, a Address, asset Asset) *big.Int {
	byAsset := m[a]
	if byAsset == nil {
		byAsset = map[Asset]*big.Int{}
		m[a] = byAsset
	}
	x := byAsset[asset]
	if x == nil {
		x = new(big.Int)
		byAsset[asset] = x
	}
	return x
}
