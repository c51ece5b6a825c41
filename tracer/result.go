package tracer

import (
	"cmp"
	"maps"
	"math/big"
	"slices"
	"strings"
)

// result assembles the Trace from the walk's state.
func (w *walker) result() *Trace {
	t := &Trace{
		Chain:  w.opts.Chain,
		Seeds:  dedupe(w.opts.Seeds),
		Window: w.opts.Window,
		Native: w.opts.native(),
		Tokens: map[Address]Token{},
		Levels: w.levels,
		Taint:  w.ledger.model.Name(), StolenBasis: w.basis, Read: len(w.read),
	}
	t.Stats.StopReason, t.Stats.StopDetail = w.finalStop()
	t.Stats.Usage = w.usage()
	if d, ok := w.src.(Described); ok {
		t.Stats.Methods = d.Methods()
	}
	for _, a := range slices.Sorted(maps.Keys(w.nodes)) {
		n := w.nodes[a].Node
		n.Received = w.ledger.receivedBy(a)
		n.Held = w.ledger.heldBy(a)
		t.Nodes = append(t.Nodes, n)
	}
	// The ledger keeps its outflows in chain order, the order of t.Transfers
	// (over several chains, sorted after: the ledger replays chain by chain).
	t.Transfers = make([]TracedTransfer, 0, w.ledger.nOutflows)
	w.traced = w.traced[:0]
	w.ledger.outflowEvents(func(e *event) {
		_, toNode := w.nodes[e.t.To]
		if toNode && w.keptEvent(e) {
			t.Transfers = append(t.Transfers, TracedTransfer{Transfer: e.t, Tainted: new(big.Int).Set(w.ledger.tainted[e.n])})
			w.traced = append(w.traced, e.id)
		} else {
			t.Skipped = append(t.Skipped, skipOf(e.t, w.skipReason(e.t, toNode)))
		}
	})
	if len(t.Transfers) == 0 {
		t.Transfers = nil
	}
	if !w.ledger.oneChain() {
		slices.SortFunc(t.Transfers, func(a, b TracedTransfer) int { return CompareTransfers(a.Transfer, b.Transfer) })
	}
	t.Skipped = append(t.Skipped, w.skipped...)
	slices.SortFunc(t.Skipped, func(a, b Skip) int {
		if c := strings.Compare(string(a.Address), string(b.Address)); c != 0 {
			return c
		}
		if c := strings.Compare(a.TxHash, b.TxHash); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.Reason, b.Reason), strings.Compare(a.ID, b.ID))
	})
	// A transfer read twice (a node re-read from an earlier block) is listed once.
	t.Skipped = slices.CompactFunc(t.Skipped, func(a, b Skip) bool {
		return a.ID != "" && a.ID == b.ID && a.Reason == b.Reason && a.Address == b.Address
	})
	for _, tr := range t.Transfers {
		if _, ok := w.tokens[Address(tr.Asset)]; tr.Asset != NativeAsset && (ok || !tr.Asset.Native()) {
			t.Tokens[Address(tr.Asset)] = w.tokens[Address(tr.Asset)]
		}
	}
	t.Summary = w.summary()
	t.Unexplained = w.ledger.unexplainedList()
	for _, u := range t.Unexplained {
		if u.Asset != NativeAsset {
			t.Tokens[Address(u.Asset)] = w.tokens[Address(u.Asset)]
		}
	}
	for _, m := range w.opts.CompareTaint {
		t.Alternatives = append(t.Alternatives, w.summaryUnder(m))
	}
	for _, s := range t.Summary.Assets {
		if _, ok := w.tokens[Address(s.Asset)]; s.Asset != NativeAsset && (ok || !s.Asset.Native()) {
			t.Tokens[Address(s.Asset)] = w.tokens[Address(s.Asset)]
		}
	}
	return t
}

// skipReason explains why a transfer out of a traced address is not in the
// trace. Every transfer read gets one: none vanishes silently.
func (w *walker) skipReason(t Transfer, toNode bool) string {
	if tr := w.trust(t); tr != TrustGenuine {
		return w.trustReason(t, tr)
	}
	if !w.followable(t) {
		return "token " + string(t.Asset) + " has no token metadata (not followed)"
	}
	if first, ok := w.ledger.firstInflow(t.From); !ok || t.BlockNumber < first {
		return "sent before stolen value arrived (not part of the flow)"
	}
	x := w.ledger.taint(t.ID())
	switch {
	case x == nil || x.Sign() == 0:
		if w.ledger.receivedSome(t.From, t.Asset) {
			return "carried no stolen value (the sender's stolen " + w.symbol(t.Asset) + " was already spent)"
		}
		return "carried no stolen value (the sender received no stolen " + w.symbol(t.Asset) + ")"
	case !w.kept(t):
		return "below threshold (carried " + x.String() + " stolen base units)"
	case !toNode:
		return "not followed (" + w.notFollowedCause() + ")"
	}
	return "unaccounted"
}

// notFollowedCause says why a recipient that got enough stolen value is not
// a node: a budget or an error stopped the walk first.
func (w *walker) notFollowedCause() string {
	if w.stop == "" {
		return "the walk ended"
	}
	return string(w.stop)
}

// finalStop decides the trace's stop reason.
func (w *walker) finalStop() (StopReason, string) {
	if w.stop != "" {
		return w.stop, w.stopDetail
	}
	for _, n := range w.nodes {
		if n.Stop == NodeDepth {
			return StopDepth, "nodes at the depth limit were not expanded (raise --depth)"
		}
	}
	return StopComplete, ""
}

// summary books every unit of stolen value to the bucket where it ended.
func (w *walker) summary() Summary { return w.summaryWith(w.reachedOverThreshold(), nil) }

// summaryWith books the ledger's holdings. over lists the recipients a
// budget kept out; walked, for another model's accounting, lists the
// addresses the walk's own model brought stolen value to (nil for the
// walk's own).
func (w *walker) summaryWith(over map[Address]bool, walked map[Address]bool) Summary {
	stolen := w.ledger.stolen()
	swapped, swappedIn := w.ledger.swappedTotals()
	bridged, bridgedIn := w.ledger.bridgedTotals()
	for _, m := range []map[Asset]*big.Int{swappedIn, bridgedIn} {
		for a := range m {
			if stolen[a] == nil {
				stolen[a] = new(big.Int)
			}
		}
	}
	held := map[Asset][]holding{}
	w.ledger.holdings(func(a Address, asset Asset, x *big.Int) { held[asset] = append(held[asset], holding{a, x}) })
	var s Summary
	for _, asset := range slices.Sorted(maps.Keys(stolen)) {
		as := AssetSummary{Asset: asset, Stolen: stolen[asset], Buckets: map[string]*big.Int{}, Decimal: w.decimals(asset),
			SwappedIn: swappedIn[asset], Symbol: w.symbol(asset)}
		if v := swapped[asset]; v != nil && v.Sign() > 0 {
			as.Buckets[BucketSwapped] = new(big.Int).Set(v)
		}
		if v := bridgedIn[asset]; v != nil && v.Sign() > 0 {
			as.BridgedIn = new(big.Int).Set(v)
		}
		for kind, bucket := range map[string]string{ConversionBridged: BucketBridged, ConversionRefunded: BucketRefunded} {
			if v := bridged[kind][asset]; v != nil && v.Sign() > 0 {
				as.Buckets[bucket] = new(big.Int).Set(v)
			}
		}
		for _, h := range held[asset] {
			b := w.bucket(h.holder, over)
			if _, node := w.nodes[h.holder]; walked != nil && !node && !over[h.holder] && !walked[h.holder] {
				b = BucketWalk // the walk's model brought nothing here, so it never looked further
			}
			if as.Buckets[b] == nil {
				as.Buckets[b] = new(big.Int)
			}
			as.Buckets[b].Add(as.Buckets[b], h.x)
		}
		s.Assets = append(s.Assets, as)
	}
	return s
}

// holding is stolen value held at an address.
type holding struct {
	holder Address
	x      *big.Int
}

// summaryUnder replays the walk's ledger under model m and books it; the
// walk's own model is restored after.
func (w *walker) summaryUnder(m TaintModel) ModelSummary {
	over, walked := w.reachedOverThreshold(), w.ledger.receivers()
	own := w.ledger.model
	defer func() {
		w.ledger.model = own
		w.ledger.propagate(w.trusted)
	}()
	w.ledger.model = m
	w.ledger.propagate(w.trusted)
	return ModelSummary{Taint: m.Name(), Summary: w.summaryWith(over, walked)}
}

func (w *walker) symbol(a Asset) string {
	if a == NativeAsset {
		return w.opts.native().Symbol
	}
	if tok, ok := w.tokens[Address(a)]; !ok && a.Native() {
		return string(a) // another chain's coin its source did not describe
	} else if ok {
		return tok.Symbol
	}
	return w.tokens[Address(a)].Symbol
}

// bucket names where value held at an address counts; over lists the
// addresses (not nodes) that got at least the threshold.
func (w *walker) bucket(a Address, over map[Address]bool) string {
	if w.opts.FeeSink != "" && a == w.opts.FeeSink {
		return BucketFees
	}
	n, ok := w.nodes[a]
	if !ok {
		if over[a] {
			return BucketBudget // an address budget kept it out
		}
		return BucketBelowThreshold
	}
	switch n.Stop {
	case NodeFollowed:
		if n.covered {
			return BucketDormant
		}
		return BucketNotFollowed
	case NodeTerminal:
		switch n.Category {
		case CategoryExchange:
			return BucketExchange
		case CategoryBridge:
			return BucketBridge
		case CategoryMixer:
			return BucketMixer
		case CategoryDEX:
			return BucketSwapped
		case CategoryFees:
			return BucketFees
		}
		return BucketOther
	case NodeContract:
		return BucketOther
	case NodeDepth:
		return BucketDepth
	case NodeBudget:
		return BucketBudget
	}
	return BucketNotFollowed
}

// reachedOverThreshold lists the recipients that are not nodes although a
// transfer carried them at least the threshold (a budget kept them out).
func (w *walker) reachedOverThreshold() map[Address]bool {
	over := map[Address]bool{}
	w.ledger.outflowEvents(func(e *event) {
		if _, node := w.nodes[e.t.To]; !node && w.keptEvent(e) {
			over[e.t.To] = true
		}
	})
	return over
}

// CompareTransfers orders transfers in chain order, then by ID.
func CompareTransfers(a, b Transfer) int {
	switch {
	case a.Before(b):
		return -1
	case b.Before(a):
		return 1
	}
	return strings.Compare(a.ID(), b.ID())
}
