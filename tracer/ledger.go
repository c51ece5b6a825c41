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
//
// Every level replays all events again (a new transfer may come before old
// ones), so a replay must be cheap: each event is prepared once when it is
// booked (its ID, its sender's and recipient's purse slots, its trade key),
// and the replay's state lives in slices indexed by those, not in maps keyed
// by strings.
type ledger struct {
	model   TaintModel
	credits map[string]Transfer // what the seeds received, by transfer ID
	clean   map[string]bool     // credits that are known inflows, not stolen value
	theft   map[string]bool     // credits of the named theft transactions: stolen whoever sent them
	// recredited sums, per asset, the seeds' inflows from traced senders
	// beyond the taint those senders carried: stolen value.
	recredited map[Asset]*big.Int
	outflows   []*event // by ID index: the transfer sent by an expanded node, or nil
	nOutflows  int      // outflows booked

	// sorted holds the events booked before the last merge, in chain order;
	// added lists those booked since. Each level sorts only its new events
	// and merges them in, instead of re-sorting every event found so far.
	sorted []*event
	added  []*event
	slab   []event // where new events are allocated, side by side for the replay

	lastFrom      Address // the sender of the last event booked
	lastFromIndex int32
	hasLastFrom   bool

	// Indexes that only grow: transfer IDs, addresses, assets, purse slots
	// (an address and an asset), transaction hashes.
	ids        map[string]int32
	credited   []bool // by ID index: the ID is a seed's credit too
	addrs      map[Address]int32
	addrNames  []Address
	slots      map[slotKey]int32
	slotOf     []slotKey
	slotsOf    [][]int32 // by address index: its slots
	txs        map[string]int32
	assets     map[Asset]int32
	assetNames []Asset
	// pairs indexes the outflows by (tx, sender, recipient), to find the
	// other leg of a trade: each key holds a list (through sameKey) of the
	// outflows under it, whose last in chain order is the leg.
	pairs map[pairKey]*event
	// ranks orders the chains in the order the walk reached them (the
	// walk's own first, rank 0): each chain is replayed in block order,
	// after the chains reached before it. lastRank is the highest given.
	ranks     map[string]int32
	lastRank  int32
	lastChain string // the chain of the last event booked, and its rank
	chainRank int32
	convRefs  map[int32]bool // by ID index: the deposits payouts name (convert.go)

	// The state of the last replay.
	tainted     []*big.Int // by ID index: the stolen part of each outflow replayed
	purses      []purse    // by slot
	balance     []big.Int  // by slot: known inflows minus outflows, floored at 0
	received    []big.Int  // by slot: stolen value received
	first       []uint64   // by address index: block of the first tainted inflow
	reached     []bool     // by address index: first is set
	unexplained map[int32]*Unexplained
	swapIns     map[pairKey]*swapLeg          // trade inputs replayed so far (swap.go)
	swapped     map[int32]*big.Int            // by slot: stolen value traded away, at the pool
	swappedIn   map[int32]*big.Int            // by slot: stolen value bought, at the trader
	convIns     map[int32]*swapLeg            // by ID index: deposits a payout converts, replayed so far (convert.go)
	bridged     map[string]map[int32]*big.Int // by conversion kind, by slot: deposits paid out, at the hub
	bridgedIn   map[int32]*big.Int            // by slot: stolen value paid out by bridges, at the recipient
}

// event is a credit or an outflow as the replay meets it, prepared once.
type event struct {
	t                Transfer
	id               string
	n                int32 // index of id
	rank             int32 // the chain's (ledger.ranks)
	converts         int32 // a bridge payout's deposit, by ID index (convert.go); -1 when none
	credit           bool
	from, to         int32 // address indexes
	fromSlot, toSlot int32 // the sender's and the recipient's purse of t.Asset
	tx               int32 // index of t.TxHash
	// rev is the other leg of a possible trade: the last in chain order of
	// the outflows under (tx, recipient, sender), or nil (outflows only).
	rev     *event
	sameKey *event // the next outflow in e's list in pairs
}

// key is e's place in pairs.
func (e *event) key() pairKey { return pairKey{e.tx, e.from, e.to} }

// slotKey names a purse: an address and an asset, by index.
type slotKey struct{ addr, asset int32 }

// newLedger returns an empty ledger; chain is the walk's own.
func newLedger(m TaintModel, chain string) *ledger {
	return &ledger{model: modelOf(m), credits: map[string]Transfer{}, clean: map[string]bool{}, theft: map[string]bool{},
		ids: map[string]int32{}, addrs: map[Address]int32{}, slots: map[slotKey]int32{},
		txs: map[string]int32{}, assets: map[Asset]int32{}, pairs: map[pairKey]*event{},
		ranks: map[string]int32{"": 0, chain: 0}, convRefs: map[int32]bool{}}
}

// addCredit books an inflow of a seed: stolen value, or (stolen false) a
// known clean inflow that only counts towards the seed's balance.
func (l *ledger) addCredit(t Transfer, stolen bool) {
	id := t.ID()
	if !stolen {
		l.clean[id] = true
	}
	if _, known := l.credits[id]; !known {
		e := l.newEvent(t, id, true)
		l.credited[e.n] = true
		l.added = append(l.added, e)
	}
	l.credits[id] = t
}

// addOutflow books t, whose ID is id, as an outflow of an expanded node.
// It returns the event and whether it is new.
func (l *ledger) addOutflow(t Transfer, id string) (*event, bool) {
	if e := l.outflow(id); e != nil {
		e.t = t // read again: the same transfer, as last answered
		l.prepareConversion(e)
		return e, false
	}
	e := l.newEvent(t, id, false)
	l.added = append(l.added, e)
	l.outflows[e.n] = e
	l.nOutflows++
	return e, true
}

// outflow is the outflow booked with ID id, or nil.
func (l *ledger) outflow(id string) *event {
	if n, ok := l.ids[id]; ok {
		return l.outflows[n]
	}
	return nil
}

// isOutflow reports whether the transfer with ID id was booked as an outflow.
func (l *ledger) isOutflow(id string) bool { return l.outflow(id) != nil }

// newEvent prepares t for the replay.
func (l *ledger) newEvent(t Transfer, id string, credit bool) *event {
	if len(l.slab) == cap(l.slab) {
		l.slab = make([]event, 0, min(max(2*cap(l.slab), 64), 4096))
	}
	// A sender's transfers come one after another: its index is remembered.
	if !l.hasLastFrom || t.From != l.lastFrom {
		l.lastFrom, l.lastFromIndex, l.hasLastFrom = t.From, l.addr(t.From), true
	}
	// A chain's transfers do too: its rank is remembered.
	if t.Chain != l.lastChain {
		l.lastChain, l.chainRank = t.Chain, l.rank(t.Chain)
	}
	l.slab = append(l.slab, event{t: t, id: id, credit: credit, rank: l.chainRank, converts: -1,
		from: l.lastFromIndex, to: l.addr(t.To), tx: index(l.txs, t.TxHash)})
	e := &l.slab[len(l.slab)-1]
	e.n = l.id(id)
	if !credit {
		l.prepareConversion(e)
	}
	asset, ok := l.assets[t.Asset]
	if !ok {
		asset = int32(len(l.assetNames))
		l.assets[t.Asset] = asset
		l.assetNames = append(l.assetNames, t.Asset)
	}
	e.fromSlot, e.toSlot = l.slot(e.from, asset), l.slot(e.to, asset)
	return e
}

// id returns the index of a transfer ID, adding it as the next one.
func (l *ledger) id(id string) int32 {
	n, ok := l.ids[id]
	if !ok {
		n = int32(len(l.ids))
		l.ids[id] = n
		l.credited = append(l.credited, false)
		l.outflows = append(l.outflows, nil)
	}
	return n
}

// rank returns the rank of chain, giving a chain met for the first time
// the next one.
func (l *ledger) rank(chain string) int32 {
	r, ok := l.ranks[chain]
	if !ok {
		l.lastRank++
		r = l.lastRank
		l.ranks[chain] = r
	}
	return r
}

// index returns the index of k in m, adding it as the next one.
func index[K comparable](m map[K]int32, k K) int32 {
	i, ok := m[k]
	if !ok {
		i = int32(len(m))
		m[k] = i
	}
	return i
}

func (l *ledger) addr(a Address) int32 {
	i, ok := l.addrs[a]
	if !ok {
		i = int32(len(l.addrNames))
		l.addrs[a] = i
		l.addrNames = append(l.addrNames, a)
		l.slotsOf = append(l.slotsOf, nil)
	}
	return i
}

func (l *ledger) slot(addr, asset int32) int32 {
	k := slotKey{addr, asset}
	i, ok := l.slots[k]
	if !ok {
		i = int32(len(l.slotOf))
		l.slots[k] = i
		l.slotOf = append(l.slotOf, k)
		l.slotsOf[addr] = append(l.slotsOf[addr], i)
	}
	return i
}

// reset clears the replay's state, sized for every event booked.
func (l *ledger) reset() {
	l.tainted = resize(l.tainted, len(l.ids))
	clear(l.tainted)
	l.purses = resize(l.purses, len(l.slotOf))
	clear(l.purses)
	l.balance = resize(l.balance, len(l.slotOf))
	l.received = resize(l.received, len(l.slotOf))
	for i := range l.balance {
		l.balance[i].SetInt64(0)
		l.received[i].SetInt64(0)
	}
	l.first = resize(l.first, len(l.addrNames))
	l.reached = resize(l.reached, len(l.addrNames))
	clear(l.reached)
	l.unexplained = map[int32]*Unexplained{}
	l.swapIns = map[pairKey]*swapLeg{}
	l.swapped = map[int32]*big.Int{}
	l.swappedIn = map[int32]*big.Int{}
	l.recredited = map[Asset]*big.Int{}
	l.convIns, l.bridged, l.bridgedIn = nil, nil, nil // made when a payout is met (convert.go)
}

// resize returns s with length n, keeping its elements (new ones are zero).
func resize[T any](s []T, n int) []T {
	if n <= cap(s) {
		return s[:n]
	}
	return append(s[:cap(s)], make([]T, n-cap(s))...)
}

// propagate recomputes every holding from scratch. trusted says which
// transfers may carry taint at all.
func (l *ledger) propagate(trusted func(Transfer) bool) {
	l.merge()
	l.reset()
	for _, e := range l.sorted {
		if e.credit {
			// A credit that is also an outflow of a traced node (value sent
			// back to a seed) counts as the outflow, unless it is a named
			// theft transaction's: that is the stolen value itself, even
			// when its sender (a pool the thief bought from, a victim paid
			// back) is reached later.
			if l.outflows[e.n] != nil && !l.theft[e.id] {
				continue
			}
			x := e.t.Amount
			if l.clean[e.id] {
				x = new(big.Int)
			}
			l.arrive(e, x)
			continue
		}
		if len(l.theft) > 0 && l.theft[e.id] {
			continue
		}
		if l.tainted[e.n] != nil || !trusted(e.t) {
			continue
		}
		// The other leg of a trade comes first when it is the one that
		// carries stolen value in (native calls precede token events).
		if c := e.rev; c != nil && c.t.Asset != e.t.Asset && l.tainted[c.n] == nil &&
			l.purse(e.fromSlot).tainted().Sign() == 0 && trusted(c.t) {
			l.carry(c)
		}
		l.carry(e)
	}
}

// carry books the stolen part of e: a bridge's payout or a trade's output
// at the executed rate, anything else as the taint model draws it from its
// sender's purse.
func (l *ledger) carry(e *event) {
	if x, ok := l.conversionOutput(e); ok {
		l.tainted[e.n] = x
		l.arrive(e, x)
		return
	}
	l.debit(e)
	if x, ok := l.swapOutput(e); ok {
		l.tainted[e.n] = x
		l.arrive(e, x)
		return
	}
	x := l.purse(e.fromSlot).spend(e.t.Amount)
	if l.credited[e.n] && !l.clean[e.id] {
		// A seed's inflow from an address the walk reached too: what the
		// sender did not carry as taint is stolen value credited to the
		// seed, as it is when the sender is not traced.
		fresh := new(big.Int).Sub(l.credits[e.id].Amount, x)
		if fresh.Sign() > 0 {
			if l.recredited[e.t.Asset] == nil {
				l.recredited[e.t.Asset] = new(big.Int)
			}
			l.recredited[e.t.Asset].Add(l.recredited[e.t.Asset], fresh)
			x = new(big.Int).Add(x, fresh)
		}
	}
	l.tainted[e.n] = x
	l.arrive(e, x)
	if len(l.convRefs) > 0 && l.convRefs[e.n] {
		l.recordDeposit(e, x)
	}
	// Only a transfer answered in the same tx can be a trade's input.
	if e.rev != nil && x.Sign() > 0 {
		l.recordSwapInput(e, x)
	}
}

// debit takes e out of its sender's known balance, and states the part that
// exceeds what the sender was seen to receive.
func (l *ledger) debit(e *event) {
	b := &l.balance[e.fromSlot]
	b.Sub(b, e.t.Amount)
	if b.Sign() >= 0 {
		return
	}
	u := l.unexplained[e.fromSlot]
	if u == nil {
		u = &Unexplained{Address: e.t.From, Asset: e.t.Asset, Amount: new(big.Int), TxHash: e.t.TxHash, Block: e.t.BlockNumber}
		l.unexplained[e.fromSlot] = u
	}
	u.Amount.Sub(u.Amount, b) // b is minus the shortfall
	b.SetInt64(0)
}

// arrive books e at its recipient, x of it stolen value.
func (l *ledger) arrive(e *event, x *big.Int) {
	l.purse(e.toSlot).receive(e.t.Amount, x)
	l.balance[e.toSlot].Add(&l.balance[e.toSlot], e.t.Amount)
	if x.Sign() == 0 {
		return
	}
	l.received[e.toSlot].Add(&l.received[e.toSlot], x)
	if !l.reached[e.to] { // events come in chain order
		l.reached[e.to], l.first[e.to] = true, e.t.BlockNumber
	}
}

// purse returns the purse of a slot under the ledger's model.
func (l *ledger) purse(slot int32) purse {
	p := l.purses[slot]
	if p == nil {
		p = l.model.newPurse()
		l.purses[slot] = p
	}
	return p
}

// merge sorts the events added since the last call and merges them into
// l.sorted: O(n + k log k) for k new events instead of O(n log n). It
// indexes the new outflows as trade legs; a theft transaction's outflow is
// not one (the replay skips it), and theft credits are all booked before
// any outflow.
func (l *ledger) merge() {
	if len(l.added) == 0 {
		return
	}
	slices.SortFunc(l.added, compareEvents)
	for _, e := range l.added {
		if e.credit || l.theft[e.id] {
			continue
		}
		k := e.key()
		e.sameKey = l.pairs[k]
		l.pairs[k] = e
		rev := l.pairs[pairKey{k.tx, k.pool, k.trader}]
		leg := lastOf(e)
		for x := rev; x != nil; x = x.sameKey { // the outflows that look k up
			x.rev = leg
		}
		e.rev = lastOf(rev)
	}
	merged := make([]*event, 0, len(l.sorted)+len(l.added))
	i, j := 0, 0
	for i < len(l.sorted) && j < len(l.added) {
		if compareEvents(l.added[j], l.sorted[i]) < 0 {
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

// lastOf is the last in chain order of the list of outflows from e on
// (through sameKey; one outflow in almost every list), or nil.
func lastOf(e *event) *event {
	last := e
	for x := e; x != nil; x = x.sameKey {
		if compareEvents(last, x) < 0 {
			last = x
		}
	}
	return last
}

// compareEvents is CompareTransfers (chain order, then ID) after the
// chains' ranks, credits before outflows of the same ID.
func compareEvents(a, b *event) int {
	// Early returns: the IDs are compared only for events at one place.
	if c := cmp.Compare(a.rank, b.rank); c != 0 {
		return c
	}
	if c := cmp.Compare(a.t.BlockNumber, b.t.BlockNumber); c != 0 {
		return c
	}
	if c := cmp.Compare(a.t.TxIndex, b.t.TxIndex); c != 0 {
		return c
	}
	if c := cmp.Compare(a.t.Seq, b.t.Seq); c != 0 {
		return c
	}
	if c := strings.Compare(a.id, b.id); c != 0 {
		return c
	}
	return compareBool(!a.credit, !b.credit)
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

// outflowEvents calls f with each outflow booked, in chain order (after a
// propagate, every one booked).
func (l *ledger) outflowEvents(f func(e *event)) {
	for _, e := range l.sorted {
		if !e.credit {
			f(e)
		}
	}
}

// taint is the stolen part the last replay gave the transfer with ID id:
// nil when it carried none because it was not replayed.
func (l *ledger) taint(id string) *big.Int {
	n, ok := l.ids[id]
	if !ok || int(n) >= len(l.tainted) {
		return nil
	}
	return l.tainted[n]
}

// stolen sums the seeds' credits per asset.
func (l *ledger) stolen() map[Asset]*big.Int {
	out := map[Asset]*big.Int{}
	for id, t := range l.credits {
		if (l.isOutflow(id) && !l.theft[id]) || l.clean[id] {
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
	i, ok := l.addrs[a]
	if !ok || int(i) >= len(l.reached) || !l.reached[i] {
		return 0, false
	}
	return l.first[i], true
}

// slotsAt returns a's purse slots that the last replay sized.
func (l *ledger) slotsAt(a Address) []int32 {
	i, ok := l.addrs[a]
	if !ok {
		return nil
	}
	return l.slotsOf[i]
}

// receivedBy is the stolen value a received per asset (non-zero amounts, copies).
func (l *ledger) receivedBy(a Address) map[Asset]*big.Int {
	out := map[Asset]*big.Int{}
	for _, s := range l.slotsAt(a) {
		if int(s) < len(l.received) && l.received[s].Sign() != 0 {
			out[l.assetNames[l.slotOf[s].asset]] = new(big.Int).Set(&l.received[s])
		}
	}
	return out
}

// receivedSome reports whether a received any stolen value of asset.
func (l *ledger) receivedSome(a Address, asset Asset) bool {
	for _, s := range l.slotsAt(a) {
		if int(s) < len(l.received) && l.assetNames[l.slotOf[s].asset] == asset {
			return l.received[s].Sign() != 0
		}
	}
	return false
}

// heldBy is the stolen value a holds per asset (non-zero amounts, copies).
func (l *ledger) heldBy(a Address) map[Asset]*big.Int {
	out := map[Asset]*big.Int{}
	for _, s := range l.slotsAt(a) {
		if x := l.held(s); x != nil {
			out[l.assetNames[l.slotOf[s].asset]] = new(big.Int).Set(x)
		}
	}
	return out
}

// held is the stolen value a slot holds, nil when none.
func (l *ledger) held(s int32) *big.Int {
	if int(s) >= len(l.purses) || l.purses[s] == nil {
		return nil
	}
	if x := l.purses[s].tainted(); x.Sign() != 0 {
		return x
	}
	return nil
}

// holdings calls f with every address and asset that holds stolen value
// (x must not be changed).
func (l *ledger) holdings(f func(a Address, asset Asset, x *big.Int)) {
	for s := range l.purses {
		if x := l.held(int32(s)); x != nil {
			k := l.slotOf[s]
			f(l.addrNames[k.addr], l.assetNames[k.asset], x)
		}
	}
}

// receivers lists the addresses that received stolen value.
func (l *ledger) receivers() map[Address]bool {
	out := map[Address]bool{}
	for s := range l.received {
		if l.received[s].Sign() != 0 {
			out[l.addrNames[l.slotOf[s].addr]] = true
		}
	}
	return out
}

// swappedTotals sums, per asset, the stolen value traded away at pools and
// the stolen value bought by traders.
func (l *ledger) swappedTotals() (away, bought map[Asset]*big.Int) {
	return l.perAsset(l.swapped), l.perAsset(l.swappedIn)
}

// bridgedTotals sums, per asset, the deposits bridges paid out, by
// conversion kind (at the hubs), and the stolen value they paid out (at the
// recipients).
func (l *ledger) bridgedTotals() (out map[string]map[Asset]*big.Int, in map[Asset]*big.Int) {
	out = map[string]map[Asset]*big.Int{}
	for kind, m := range l.bridged {
		out[kind] = l.perAsset(m)
	}
	return out, l.perAsset(l.bridgedIn)
}

// perAsset sums the amounts of m, kept by slot, per asset.
func (l *ledger) perAsset(m map[int32]*big.Int) map[Asset]*big.Int {
	out := map[Asset]*big.Int{}
	for s, v := range m {
		a := l.assetNames[l.slotOf[s].asset]
		if out[a] == nil {
			out[a] = new(big.Int)
		}
		out[a].Add(out[a], v)
	}
	return out
}

// oneChain reports whether every event booked is on the walk's own chain.
func (l *ledger) oneChain() bool { return l.lastRank == 0 }

// addAt adds x to m's amount at slot s.
func addAt(m map[int32]*big.Int, s int32, x *big.Int) {
	if m[s] == nil {
		m[s] = new(big.Int)
	}
	m[s].Add(m[s], x)
}
