package tracer

import (
	"cmp"
	"math/big"
	"slices"
	"strings"
)

// ledger propagates stolen value through the transfers found so far.
//
// Value is tracked per address and asset. The seeds are credited with the
// stolen value they received in the window; every other address holds only
// what traced transfers brought it. Transfers are replayed in chain order, and
// the taint model (poison-first by default) decides the stolen part of each
// from its sender's purse. A transfer sent before any tainted value arrived
// carries none, which is what makes the walk causal. Value is conserved: what
// the seeds were credited equals what all holders hold at the end.
type ledger struct {
	model   TaintModel
	credits map[string]Transfer // what the seeds received, by transfer ID
	clean   map[string]bool     // credits that are known inflows, not stolen value
	theft   map[string]bool     // credits of the named theft transactions: stolen whoever sent them
	// recredited sums, per asset, the seeds' inflows from traced senders
	// beyond the taint those senders carried: stolen value.
	recredited map[Asset]*big.Int
	outflows   map[string]Transfer // transfers sent by expanded nodes, by ID

	// sorted holds the events of the transfers added before the last call
	// of events, in chain order; added lists those added since. Each level
	// sorts only its new transfers and merges them in, instead of
	// re-sorting every transfer found so far.
	sorted []sortedEvent
	added  []sortedEvent

	tainted map[string]*big.Int // the stolen part of each transfer replayed
	purses  map[Address]map[Asset]purse
	held    map[Address]map[Asset]*big.Int // the purses' stolen value, after propagate
	balance map[Address]map[Asset]*big.Int // known inflows minus outflows, floored at 0
	// unexplained are the senders that paid out more than they were seen to receive.
	unexplained map[Address]map[Asset]*Unexplained
	received    map[Address]map[Asset]*big.Int
	first       map[Address]uint64 // block of the first tainted inflow

	// ranks orders the chains in the order the walk reached them (the
	// walk's own first): each chain is replayed in block order, after the
	// chains reached before it.
	ranks map[string]int

	convIns   map[string]*swapLeg                       // deposits a payout converts, replayed so far (convert.go)
	convRefs  map[string]bool                           // the IDs payouts name, during propagate
	bridged   map[string]map[Address]map[Asset]*big.Int // by conversion kind: deposits paid out, at the hub
	bridgedIn map[Address]map[Asset]*big.Int            // stolen value paid out by bridges, at the recipient

	swapIns   map[swapKey]*swapLeg           // trade inputs replayed so far (swap.go)
	pairs     map[swapKey]Transfer           // the outflows by (tx, sender, recipient), during propagate
	swapped   map[Address]map[Asset]*big.Int // stolen value traded away, at the pool
	swappedIn map[Address]map[Asset]*big.Int // stolen value bought, at the trader
}

func newLedger(m TaintModel, chain string) *ledger {
	return &ledger{model: modelOf(m), credits: map[string]Transfer{}, clean: map[string]bool{}, theft: map[string]bool{}, outflows: map[string]Transfer{},
		ranks: map[string]int{"": 0, chain: 0}}
}

// addCredit books an inflow of a seed: stolen value, or (stolen false) a
// known clean inflow that only counts towards the seed's balance.
func (l *ledger) addCredit(t Transfer, stolen bool) {
	id := t.ID()
	if !stolen {
		l.clean[id] = true
	}
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

// isOutflow reports whether t was booked as an outflow.
func (l *ledger) isOutflow(t Transfer) bool { _, ok := l.outflows[t.ID()]; return ok }

// propagate recomputes every holding from scratch. trusted says which
// transfers may carry taint at all.
func (l *ledger) propagate(trusted func(Transfer) bool) {
	l.tainted = map[string]*big.Int{}
	l.purses = map[Address]map[Asset]purse{}
	l.held = map[Address]map[Asset]*big.Int{}
	l.balance = map[Address]map[Asset]*big.Int{}
	l.unexplained = map[Address]map[Asset]*Unexplained{}
	l.received = map[Address]map[Asset]*big.Int{}
	l.first = map[Address]uint64{}
	l.swapIns = map[swapKey]*swapLeg{}
	l.swapped = map[Address]map[Asset]*big.Int{}
	l.swappedIn = map[Address]map[Asset]*big.Int{}
	l.recredited = map[Asset]*big.Int{}
	l.convIns = map[string]*swapLeg{}
	l.bridged = map[string]map[Address]map[Asset]*big.Int{}
	l.bridgedIn = map[Address]map[Asset]*big.Int{}
	evs := l.events()
	l.pairs = swapPairs(evs)
	l.convRefs = conversionRefs(evs)
	defer func() { l.pairs, l.convRefs = nil, nil }()
	for _, e := range evs {
		if e.credit {
			x := e.t.Amount
			if l.clean[e.id] {
				x = new(big.Int)
			}
			l.arrive(e.t, x)
			continue
		}
		if !trusted(e.t) || l.tainted[e.id] != nil {
			continue
		}
		// The other leg of a trade comes first when it is the one that
		// carries stolen value in (native calls precede token events).
		if c, ok := l.pairs[swapKey{e.t.TxHash, e.t.To, e.t.From}]; ok && c.Asset != e.t.Asset && trusted(c) &&
			l.tainted[c.ID()] == nil && l.purse(e.t.From, e.t.Asset).tainted().Sign() == 0 {
			l.carry(c, c.ID())
		}
		l.carry(e.t, e.id)
	}
	for a, byAsset := range l.purses {
		for asset, p := range byAsset {
			if p.tainted().Sign() != 0 {
				amountAt(l.held, a, asset).Set(p.tainted())
			}
		}
	}
}

// carry books the stolen part of t (whose ID is id): a trade's output at the
// executed rate, anything else as the taint model draws it from its
// sender's purse.
func (l *ledger) carry(t Transfer, id string) {
	if x, ok := l.conversionOutput(t); ok {
		l.tainted[id] = x
		l.arrive(t, x)
		return
	}
	l.debit(t)
	if x, ok := l.swapOutput(t); ok {
		l.tainted[id] = x
		l.arrive(t, x)
		return
	}
	x := l.purse(t.From, t.Asset).spend(t.Amount)
	if c, ok := l.credits[id]; ok && !l.clean[id] {
		// A seed's inflow from an address the walk reached too: what the
		// sender did not carry as taint is stolen value credited to the
		// seed, as it is when the sender is not traced.
		fresh := new(big.Int).Sub(c.Amount, x)
		if fresh.Sign() > 0 {
			if l.recredited[t.Asset] == nil {
				l.recredited[t.Asset] = new(big.Int)
			}
			l.recredited[t.Asset].Add(l.recredited[t.Asset], fresh)
			x = new(big.Int).Add(x, fresh)
		}
	}
	l.tainted[id] = x
	l.arrive(t, x)
	if l.convRefs[id] {
		l.convIns[id] = &swapLeg{asset: t.Asset, amount: t.Amount, tainted: new(big.Int).Set(x)}
	}
	// Only a transfer answered in the same tx can be a trade's input.
	if _, ok := l.pairs[swapKey{t.TxHash, t.To, t.From}]; ok && x.Sign() > 0 {
		l.recordSwapInput(t, x)
	}
}

// debit takes t out of its sender's known balance, and states the part that
// exceeds what the sender was seen to receive.
func (l *ledger) debit(t Transfer) {
	b := amountAt(l.balance, t.From, t.Asset)
	b.Sub(b, t.Amount)
	if b.Sign() >= 0 {
		return
	}
	byAsset := l.unexplained[t.From]
	if byAsset == nil {
		byAsset = map[Asset]*Unexplained{}
		l.unexplained[t.From] = byAsset
	}
	u := byAsset[t.Asset]
	if u == nil {
		u = &Unexplained{Address: t.From, Asset: t.Asset, Amount: new(big.Int), TxHash: t.TxHash, Block: t.BlockNumber}
		byAsset[t.Asset] = u
	}
	u.Amount.Sub(u.Amount, b) // b is minus the shortfall
	b.SetInt64(0)
}

// arrive books t at its recipient, x of it stolen value.
func (l *ledger) arrive(t Transfer, x *big.Int) {
	l.purse(t.To, t.Asset).receive(t.Amount, x)
	amountAt(l.balance, t.To, t.Asset).Add(amountAt(l.balance, t.To, t.Asset), t.Amount)
	if x.Sign() == 0 {
		return
	}
	amountAt(l.received, t.To, t.Asset).Add(amountAt(l.received, t.To, t.Asset), x)
	if _, ok := l.first[t.To]; !ok { // events come in chain order
		l.first[t.To] = t.BlockNumber
	}
}

// purse returns a's purse of asset under the ledger's model.
func (l *ledger) purse(a Address, asset Asset) purse {
	byAsset := l.purses[a]
	if byAsset == nil {
		byAsset = map[Asset]purse{}
		l.purses[a] = byAsset
	}
	p := byAsset[asset]
	if p == nil {
		p = l.model.newPurse()
		byAsset[asset] = p
	}
	return p
}

type ledgerEvent struct {
	t      Transfer
	id     string // t.ID()
	credit bool
}

// events lists credits and outflows in chain order. A credit that is also an
// outflow of a traced node (value sent back to a seed) counts as an outflow,
// unless it is a named theft transaction's: that is the stolen value itself,
// even when its sender (a pool the thief bought from, a victim paid back)
// is reached later.
func (l *ledger) events() []ledgerEvent {
	l.merge()
	evs := make([]ledgerEvent, 0, len(l.sorted))
	for _, e := range l.sorted {
		if e.outflow {
			if !l.theft[e.id] {
				evs = append(evs, ledgerEvent{t: l.outflows[e.id], id: e.id})
			}
		} else if _, dup := l.outflows[e.id]; !dup || l.theft[e.id] {
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
	rank    int // the chain's (ledger.ranks)
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
		rank, ok := l.ranks[t.Chain]
		if !ok {
			rank = len(l.ranks)
			l.ranks[t.Chain] = rank
		}
		e.rank, e.block, e.tx, e.seq = rank, t.BlockNumber, t.TxIndex, t.Seq
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

// compareSorted is CompareTransfers on the fields kept in a sortedEvent
// (credits before outflows of the same ID).
func compareSorted(a, b sortedEvent) int {
	return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.block, b.block), cmp.Compare(a.tx, b.tx), cmp.Compare(a.seq, b.seq),
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
		if _, dup := l.outflows[id]; (dup && !l.theft[id]) || l.clean[id] {
			continue
		}
		if out[t.Asset] == nil {
			out[t.Asset] = new(big.Int)
		}
		out[t.Asset].Add(out[t.Asset], t.Amount)
	}
	for asset, x := range l.recredited {
		if out[asset] == nil {
			out[asset] = new(big.Int)
		}
		out[asset].Add(out[asset], x)
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
