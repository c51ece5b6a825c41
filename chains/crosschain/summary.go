package crosschain

import (
	"cmp"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/flowtrace/flowtrace/tracer"
)

// Bridged is what the trace's stolen value did through one bridge, from one
// chain to another, in one asset, by the deposits' pairing status: the
// per-chain summary of a trace over several chains (bridged out, arrived,
// in flight or unpaired, refunded).
type Bridged struct {
	Bridge    string // the protocol (tracer.AnnBridge)
	From, To  string // the deposits' chain and their destination chain
	Asset     tracer.Asset
	Status    string // StatusPaired, StatusRefunded, StatusPending or StatusNotFound
	Deposits  int
	Stolen    *big.Int // stolen value deposited
	PaidAsset tracer.Asset
	// Arrived is the stolen value the payouts carried (in PaidAsset), for
	// paired and refunded deposits; nil for the others.
	Arrived *big.Int
}

// Summarize lists what the traced bridge deposits did, sorted by bridge,
// chains, asset and status. Deposits are the traced transfers a pairer
// annotated (tracer.AnnPairing), payouts those naming a deposit
// (tracer.AnnConverts).
func Summarize(tr *tracer.Trace) []Bridged {
	paid := map[string][]tracer.TracedTransfer{}
	for _, t := range tr.Transfers {
		if ref := t.Annotations[tracer.AnnConverts]; ref != "" {
			paid[ref] = append(paid[ref], t)
		}
	}
	type key struct{ bridge, from, to, asset, status string }
	rows := map[key]*Bridged{}
	for _, t := range tr.Transfers {
		status := t.Annotations[tracer.AnnPairing]
		if status == "" || t.Annotations[tracer.AnnConverts] != "" {
			continue
		}
		k := key{t.Annotations[tracer.AnnBridge], cmp.Or(t.Chain, tr.Chain), t.Annotations[tracer.AnnDestChain], string(t.Asset), status}
		r := rows[k]
		if r == nil {
			r = &Bridged{Bridge: k.bridge, From: k.from, To: k.to, Asset: t.Asset, Status: status, Stolen: new(big.Int)}
			rows[k] = r
		}
		r.Deposits++
		r.Stolen.Add(r.Stolen, t.Tainted)
		for _, p := range paid[t.ID()] {
			if r.Arrived == nil {
				r.Arrived, r.PaidAsset = new(big.Int), p.Asset
			}
			r.Arrived.Add(r.Arrived, p.Tainted)
		}
	}
	keys := slices.SortedFunc(maps.Keys(rows), func(a, b key) int {
		return cmp.Or(strings.Compare(a.bridge, b.bridge), strings.Compare(a.from, b.from), strings.Compare(a.to, b.to),
			strings.Compare(a.asset, b.asset), strings.Compare(a.status, b.status))
	})
	out := make([]Bridged, len(keys))
	for i, k := range keys {
		out[i] = *rows[k]
	}
	return out
}
