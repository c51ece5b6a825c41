package graph

import (
	"bufio"
	"cmp"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/flowtrace/flowtrace/tracer"
)

// A trace over several chains keeps the walk's own chain's addresses and
// assets as they are and qualifies the others' as "<chain>:<x>"
// (tracer.Qualify). The flow puts each node on its chain: Node.Chain is the
// chain, Node.Address stays qualified (the key patterns and IDs use), and
// the exporters write the address as the chain knows it (Node.Local) and
// each edge's asset with its chain ("native" on bitcoin).

// Bridged is one row of the bridge summary of a trace over several chains:
// what the stolen value did through one bridge from one chain to another,
// in one asset, by pairing status (the CLI fills it from the bridges'
// pairers).
type Bridged struct {
	Bridge    string
	From, To  string // the deposits' chain and the payouts' chain
	Asset     tracer.Asset
	Status    string // paired, refunded, pending, not_found
	Deposits  int
	Stolen    *big.Int // stolen value deposited
	PaidAsset tracer.Asset
	Arrived   *big.Int // stolen value the payouts carried (paired or refunded); nil for the others
}

// Local is the node's address as its chain writes it: without the
// "<chain>:" qualifier of a chain other than the walk's.
func (n *Node) Local() tracer.Address {
	return tracer.Address(strings.TrimPrefix(string(n.Address), n.Chain+":"))
}

// otherChains are the chains of t's transfers other than the walk's own:
// those whose assets the Source qualified with their chain.
func otherChains(t *tracer.Trace) map[string]bool {
	out := map[string]bool{}
	for _, tt := range t.Transfers {
		if tt.Chain != "" && tt.Chain != t.Chain && strings.HasPrefix(string(tt.Asset), tt.Chain+":") {
			out[tt.Chain] = true
		}
	}
	return out
}

// chainOf is the chain of an address or asset of the trace: the qualifier
// when it names one of the other chains, else the walk's own.
func (f *Flow) chainOf(s string) string {
	if c, _, ok := strings.Cut(s, ":"); ok && f.others[c] {
		return c
	}
	return f.Chain
}

// localAddresses are addresses as their chains write them (the nodes'
// addresses in graph.json), never nil.
func (f *Flow) localAddresses(as []tracer.Address) []tracer.Address {
	out := make([]tracer.Address, len(as))
	for i, a := range as {
		if c := f.chainOf(string(a)); c != f.Chain {
			a = tracer.Address(strings.TrimPrefix(string(a), c+":"))
		}
		out[i] = a
	}
	return out
}

// localAsset is an asset as its chain writes it, and that chain.
func (f *Flow) localAsset(a tracer.Asset) (string, tracer.Asset) {
	c := f.chainOf(string(a))
	if c == f.Chain {
		return c, a
	}
	return c, tracer.Asset(strings.TrimPrefix(string(a), c+":"))
}

// Chains lists the chains of the flow: the walk's own first, then the
// others by name.
func (f *Flow) Chains() []string {
	return append([]string{f.Chain}, slices.Sorted(maps.Keys(f.others))...)
}

// WindowOf is the block window read on chain: the walk's, or the one the
// caller gave for another chain (Options.Windows).
func (f *Flow) WindowOf(chain string) tracer.BlockRange {
	if w, ok := f.windows[chain]; ok && chain != f.Chain {
		return w
	}
	return f.Window
}

// writeChains writes the report's section on a trace over several chains:
// each chain's window, the bridge summary per chain and asset, and each
// bridge deposit's pairing with both transactions.
func (f *Flow) writeChains(b *bufio.Writer, meta Meta) {
	if len(f.others) == 0 && len(meta.Bridged) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("\n## Across chains\n\n")
	t := &mdTable{}
	t.row("chain", "window", "addresses")
	count := map[string]int{}
	for _, n := range f.nodes {
		count[n.Chain]++
	}
	for _, c := range f.Chains() {
		w := f.WindowOf(c)
		t.row(c, fmt.Sprintf("blocks %d to %d", w.From, w.To), fmt.Sprint(count[c]))
	}
	t.write(b, "")
	p("\n### Bridged value per chain and asset\n\n")
	t = &mdTable{}
	t.row("bridge", "from", "asset", "deposits", "status", "stolen deposited", "to", "arrived")
	for _, r := range meta.Bridged {
		arrived := "—"
		if r.Arrived != nil {
			arrived = f.amountText(r.PaidAsset, r.Arrived)
		}
		_, asset := f.localAsset(r.Asset)
		t.row(r.Bridge, r.From, string(asset), fmt.Sprint(r.Deposits), bridgedStatus(r.Status), f.amountText(r.Asset, r.Stolen), r.To, arrived)
	}
	t.write(b, "No bridge deposit was paired or searched.")
	p("\n### Bridge deposits\n\n")
	t = &mdTable{}
	t.row("deposit tx", "chain", "amount stolen", "pairing", "payout tx", "detail")
	for _, tt := range f.transfers {
		status := tt.Annotations[tracer.AnnPairing]
		if status == "" || tt.Annotations[tracer.AnnConverts] != "" {
			continue
		}
		t.row(tt.TxHash, cmp.Or(tt.Chain, f.Chain), f.amountText(tt.Asset, tt.Tainted), bridgedStatus(status),
			cmp.Or(tt.Annotations[tracer.AnnOutboundTx], "none"), tt.Annotations[tracer.AnnPairingDetail])
	}
	t.write(b, "No bridge deposit was searched for its payout.")
}

// bridgedStatus says a pairing status in words.
func bridgedStatus(s string) string {
	switch s {
	case "paired":
		return "paired: arrived"
	case "refunded":
		return "refunded"
	case "pending":
		return "in flight (not paired yet)"
	case "not_found":
		return "unpaired (no payout found)"
	}
	return s
}
