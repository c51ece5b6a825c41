package tracer

import (
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
		Tokens: map[Address]Token{},
		Levels: w.levels,
	}
	t.Stats.StopReason, t.Stats.StopDetail = w.finalStop()
	t.Stats.Usage = w.usage()
	if d, ok := w.src.(Described); ok {
		t.Stats.Methods = d.Methods()
	}
	for _, a := range slices.Sorted(maps.Keys(w.nodes)) {
		n := w.nodes[a].Node
		n.Received = cloneAmounts(w.ledger.received[a])
		n.Held = cloneAmounts(w.ledger.held[a])
		t.Nodes = append(t.Nodes, n)
	}
	for _, tr := range w.ledger.outflows {
		_, toNode := w.nodes[tr.To]
		if toNode && w.kept(tr) {
			t.Transfers = append(t.Transfers, TracedTransfer{Transfer: tr, Tainted: new(big.Int).Set(w.ledger.tainted[tr.ID()])})
		} else if reason := w.skipReason(tr); reason != "" {
			t.Skipped = append(t.Skipped, Skip{Address: tr.To, TxHash: tr.TxHash, Reason: reason})
		}
	}
	slices.SortFunc(t.Transfers, func(a, b TracedTransfer) int { return compareTransfers(a.Transfer, b.Transfer) })
	t.Skipped = append(t.Skipped, w.skipped...)
	slices.SortFunc(t.Skipped, func(a, b Skip) int {
		if c := strings.Compare(string(a.Address), string(b.Address)); c != 0 {
			return c
		}
		if c := strings.Compare(a.TxHash, b.TxHash); c != 0 {
			return c
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	for _, tr := range t.Transfers {
		if tr.Asset != NativeAsset {
			t.Tokens[Address(tr.Asset)] = w.tokens[Address(tr.Asset)]
		}
	}
	t.Summary = w.summary()
	for _, s := range t.Summary.Assets {
		if s.Asset != NativeAsset {
			t.Tokens[Address(s.Asset)] = w.tokens[Address(s.Asset)]
		}
	}
	return t
}

// skipReason explains why a transfer out of a traced address was not
// followed, for the transfers worth reporting (poisoning and spoofing).
func (w *walker) skipReason(t Transfer) string {
	if first, ok := w.ledger.firstInflow(t.From); !ok || t.BlockNumber < first {
		return "" // sent before stolen value arrived: not part of the flow
	}
	switch {
	case t.Kind == KindERC721:
		return "NFT transfer (not followed as value)"
	case t.Amount == nil || t.Amount.Sign() == 0:
		return "zero-value transfer (address poisoning)"
	case t.Kind == KindERC20 && !w.senderSigned(t):
		return "token event whose claimed sender did not sign the transaction (spoofed)"
	case !w.followable(t):
		return "token " + string(t.Asset) + " carried no stolen value"
	}
	return ""
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
func (w *walker) summary() Summary {
	stolen := w.ledger.stolen()
	swapped, swappedIn := sumByAsset(w.ledger.swapped), sumByAsset(w.ledger.swappedIn)
	for a := range swappedIn {
		if stolen[a] == nil {
			stolen[a] = new(big.Int)
		}
	}
	var s Summary
	for _, asset := range slices.Sorted(maps.Keys(stolen)) {
		as := AssetSummary{Asset: asset, Stolen: stolen[asset], Buckets: map[string]*big.Int{}, Decimal: w.decimals(asset),
			SwappedIn: swappedIn[asset]}
		if v := swapped[asset]; v != nil && v.Sign() > 0 {
			as.Buckets[BucketSwapped] = new(big.Int).Set(v)
		}
		if asset == NativeAsset {
			as.Symbol = "ETH"
		} else {
			as.Symbol = w.tokens[Address(asset)].Symbol
		}
		for holder, byAsset := range w.ledger.held {
			x := byAsset[asset]
			if x == nil || x.Sign() == 0 {
				continue
			}
			b := w.bucket(holder)
			if as.Buckets[b] == nil {
				as.Buckets[b] = new(big.Int)
			}
			as.Buckets[b].Add(as.Buckets[b], x)
		}
		s.Assets = append(s.Assets, as)
	}
	return s
}

// bucket names where value held at an address counts.
func (w *walker) bucket(a Address) string {
	n, ok := w.nodes[a]
	if !ok {
		return BucketBelowThreshold
	}
	switch n.Stop {
	case NodeFollowed:
		return BucketDormant
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
		}
		return BucketOther
	case NodeContract:
		return BucketOther
	}
	return BucketNotFollowed
}

func compareTransfers(a, b Transfer) int {
	switch {
	case a.Before(b):
		return -1
	case b.Before(a):
		return 1
	}
	return strings.Compare(a.ID(), b.ID())
}

func cloneAmounts(m map[Asset]*big.Int) map[Asset]*big.Int {
	out := map[Asset]*big.Int{}
	for k, v := range m {
		if v.Sign() != 0 {
			out[k] = new(big.Int).Set(v)
		}
	}
	return out
}
