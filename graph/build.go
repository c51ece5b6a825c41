// Package graph turns a finished tracer.Trace into a flow graph and writes it
// out: graph.json (the output contract), graph.dot, transfers.csv, report.md,
// and graph.svg through Graphviz when it is installed.
//
// It folds the trace's transfers into one edge per (from, to, asset), keeps
// every transfer as evidence, and writes everything in a deterministic order.
// It knows only tracer's domain types: no chain, RPC client or cache.
package graph

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"

	dg "github.com/dominikbraun/graph"

	"github.com/flowtrace/flowtrace/tracer"
)

// Options tune Build.
type Options struct {
	// Native describes the chain's own coin; the zero value means the
	// trace's (tracer.Trace.Native), else ETH with 18 decimals.
	Native tracer.Token
	// MinTainted drops transfers whose tainted part is below it (nil keeps all).
	MinTainted *big.Int
	// Windows are the block windows read on the other chains of a trace
	// over several, by chain (the dormant pattern's window end).
	Windows map[string]tracer.BlockRange
}

// Node is an address of the flow.
type Node struct {
	tracer.Node
	Chain string
	// ID is the vertex hash, "chain:address".
	ID string
}

// Edge is the fold of every kept transfer of one asset from one node to another.
type Edge struct {
	From, To *Node
	// Chain is the chain of the transfers (a bridge's payout is on the
	// destination chain, from the swap's hub).
	Chain string
	Asset tracer.Asset
	// Amount is the sum of the transfers' amounts, Tainted the sum of their
	// tainted parts (the stolen value carried).
	Amount, Tainted *big.Int
	// Transfers are the folded transfers in chain order.
	Transfers []tracer.TracedTransfer
}

// Flow is the flow graph of a trace. Build makes it; it is read-only after.
type Flow struct {
	Chain   string
	Seeds   []tracer.Address // sorted
	Window  tracer.BlockRange
	Summary []tracer.AssetSummary // native first, then by token address; symbols filled in
	Skipped []tracer.Skip         // sorted by address, tx hash, reason
	Levels  []tracer.LevelStats   // by level
	Stats   tracer.Stats
	// Taint is the taint model of Summary; StolenBasis says how the stolen
	// value was derived; Read counts the transfers the walk read.
	Taint       string
	StolenBasis string
	Read        int
	// Unexplained are the senders that paid out more than they were seen to receive.
	Unexplained []tracer.Unexplained
	// Alternatives are the accounting under the other taint models asked for.
	Alternatives []tracer.ModelSummary
	// Patterns are filled by the pattern detectors; Build leaves it empty.
	Patterns []Pattern

	native    tracer.Token
	tokens    map[tracer.Address]tracer.Token
	g         dg.Graph[string, *Node] // built on the first call of Graph
	gOnce     sync.Once
	nodes     []*Node
	byID      map[string]*Node
	edges     []*Edge
	out, in   map[string][]*Edge
	transfers []tracer.TracedTransfer
	// bridged is the value per asset and destination chain of decoded bridge deposits (Detect fills it).
	bridged map[tracer.Asset]map[string]*big.Int
	// others are the chains of a trace over several other than Chain;
	// windows their block windows (Options.Windows).
	others  map[string]bool
	windows map[string]tracer.BlockRange
}

// Pattern is a laundering pattern found in the flow, with its evidence.
type Pattern struct {
	Kind      string
	Addresses []tracer.Address
	Evidence  []Evidence
	// Confidence is in [0, 1]; 1 for facts, lower for heuristics.
	Confidence float64
	Detail     map[string]string
}

// Evidence is one transfer that supports a pattern.
type Evidence struct {
	TxHash string
	Block  uint64
	Amount *big.Int
}

// NodeID is the vertex hash of an address on a chain.
func NodeID(chain string, addr tracer.Address) string { return chain + ":" + string(addr) }

// Build makes the flow graph of a finished trace. It does not modify t.
func Build(t *tracer.Trace, opts Options) (*Flow, error) {
	if t == nil {
		return nil, fmt.Errorf("graph: build: nil trace")
	}
	f := &Flow{
		Chain:   t.Chain,
		Seeds:   sortedCopy(t.Seeds),
		Window:  t.Window,
		Summary: sortedSummary(t.Summary.Assets),
		Skipped: sortedSkips(t.Skipped),
		Levels:  slices.SortedStableFunc(slices.Values(t.Levels), func(a, b tracer.LevelStats) int { return cmp.Compare(a.Level, b.Level) }),
		Stats:   t.Stats,
		Taint:   t.Taint, StolenBasis: t.StolenBasis, Read: t.Read,
		Unexplained:  slices.Clone(t.Unexplained),
		Alternatives: slices.Clone(t.Alternatives),
		Patterns:     []Pattern{},
		native:       opts.Native,
		tokens:       t.Tokens,
		byID:         make(map[string]*Node, len(t.Nodes)),
		out:          map[string][]*Edge{},
		in:           map[string][]*Edge{},
		others:       otherChains(t),
		windows:      opts.Windows,
	}
	if f.native == (tracer.Token{}) {
		f.native = cmp.Or(t.Native, tracer.DefaultNative)
	}
	f.Stats.Methods = slices.Compact(sortedCopy(t.Stats.Methods))
	for i := range f.Summary { // a copy: the trace is left alone
		f.Summary[i].Symbol = cmp.Or(f.Summary[i].Symbol, f.Symbol(f.Summary[i].Asset))
	}
	if err := f.addNodes(t); err != nil {
		return nil, err
	}
	if err := f.addTransfers(t, opts.MinTainted); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Flow) addNodes(t *tracer.Trace) error {
	for _, tn := range t.Nodes {
		n := &Node{Node: tn, Chain: f.chainOf(string(tn.Address)), ID: NodeID(t.Chain, tn.Address)}
		n.Labels = slices.SortedFunc(slices.Values(tn.Labels), compareLabels)
		if _, dup := f.byID[n.ID]; dup {
			return fmt.Errorf("graph: build: duplicate node %s", n.ID)
		}
		f.byID[n.ID] = n
		f.nodes = append(f.nodes, n)
	}
	slices.SortFunc(f.nodes, func(a, b *Node) int { return strings.Compare(a.ID, b.ID) })
	return nil
}

type foldKey struct {
	from, to string
	asset    tracer.Asset
}

func (f *Flow) addTransfers(t *tracer.Trace, minTainted *big.Int) error {
	seen := make(map[string]bool, len(t.Transfers))
	folds := make(map[foldKey]*Edge, len(t.Transfers))
	f.transfers = make([]tracer.TracedTransfer, 0, len(t.Transfers))
	for _, tt := range t.Transfers {
		chain := cmp.Or(tt.Chain, t.Chain)
		id := chain + ":" + tt.ID()
		if seen[id] {
			return fmt.Errorf("graph: build: duplicate transfer %s", id)
		}
		seen[id] = true
		if err := checkAmounts(tt); err != nil {
			return fmt.Errorf("graph: build: transfer %s: %w", id, err)
		}
		if minTainted != nil && tt.Tainted.Cmp(minTainted) < 0 {
			continue
		}
		// Nodes are keyed by the walk's chain and their (qualified)
		// address, whatever name the source gave the transfer's chain.
		from, to := f.byID[NodeID(t.Chain, tt.From)], f.byID[NodeID(t.Chain, tt.To)]
		if from == nil || to == nil {
			return fmt.Errorf("graph: build: transfer %s: endpoint %s -> %s is not a node of the trace", id, tt.From, tt.To)
		}
		k := foldKey{from.ID, to.ID, tt.Asset}
		e := folds[k]
		if e == nil {
			e = &Edge{From: from, To: to, Chain: f.chainOf(string(tt.Asset)), Asset: tt.Asset, Amount: new(big.Int), Tainted: new(big.Int)}
			folds[k] = e
			f.edges = append(f.edges, e)
		}
		e.Amount.Add(e.Amount, tt.Amount)
		e.Tainted.Add(e.Tainted, tt.Tainted)
		e.Transfers = append(e.Transfers, tt)
		f.transfers = append(f.transfers, tt)
	}
	slices.SortFunc(f.transfers, compareTransfers)
	slices.SortFunc(f.edges, compareEdges)
	for _, e := range f.edges {
		slices.SortFunc(e.Transfers, compareTransfers)
		f.out[e.From.ID] = append(f.out[e.From.ID], e)
		f.in[e.To.ID] = append(f.in[e.To.ID], e)
	}
	return nil
}

func checkAmounts(tt tracer.TracedTransfer) error {
	switch {
	case tt.Amount == nil || tt.Tainted == nil:
		return fmt.Errorf("missing amount")
	case tt.Amount.Sign() < 0 || tt.Tainted.Sign() < 0:
		return fmt.Errorf("negative amount")
	case tt.Tainted.Cmp(tt.Amount) > 0:
		return fmt.Errorf("tainted %s exceeds amount %s", tt.Tainted, tt.Amount)
	}
	return nil
}

// Graph is the flow as a dominikbraun graph: vertices are *Node hashed by
// ID, and each (from, to) edge carries the []*Edge folds of its assets as data.
// It is built on the first call, since Build, the exporters and the pattern
// detectors use the Flow's own indexes (Nodes, Edges, Out, In): the
// dominikbraun store costs ~1.2 KB per edge and seconds at 100k nodes.
// Mind its cost: AdjacencyMap and traversals rebuild O(V+E) maps per call.
func (f *Flow) Graph() dg.Graph[string, *Node] {
	f.gOnce.Do(func() {
		f.g = dg.New(func(n *Node) string { return n.ID }, dg.Directed())
		// Node IDs and (from, to) pairs are unique by construction: no
		// ErrVertexAlreadyExists or ErrEdgeAlreadyExists can come back.
		for _, n := range f.nodes {
			_ = f.g.AddVertex(n)
		}
		// One edge per (from, to); its data lists the per-asset folds
		// (already in asset order, since edges are sorted by from, to, asset).
		for i := 0; i < len(f.edges); {
			j := i + 1
			for j < len(f.edges) && f.edges[j].From == f.edges[i].From && f.edges[j].To == f.edges[i].To {
				j++
			}
			_ = f.g.AddEdge(f.edges[i].From.ID, f.edges[i].To.ID, dg.EdgeData(slices.Clone(f.edges[i:j])))
			i = j
		}
	})
	return f.g
}

// Nodes returns the nodes sorted by ID.
func (f *Flow) Nodes() []*Node { return f.nodes }

// Edges returns the edges sorted by from ID, to ID, asset.
func (f *Flow) Edges() []*Edge { return f.edges }

// Transfers returns the kept transfers in chain order.
func (f *Flow) Transfers() []tracer.TracedTransfer { return f.transfers }

// Node returns the node with the given ID, or nil.
func (f *Flow) Node(id string) *Node { return f.byID[id] }

// Out returns the edges leaving the node, sorted by to ID and asset.
func (f *Flow) Out(id string) []*Edge { return f.out[id] }

// In returns the edges reaching the node, sorted by from ID and asset.
func (f *Flow) In(id string) []*Edge { return f.in[id] }

// AssetInfo returns the symbol and decimals of an asset; ok is false for a
// token without metadata (its symbol is then empty and decimals 0).
func (f *Flow) AssetInfo(a tracer.Asset) (tok tracer.Token, ok bool) {
	if a == tracer.NativeAsset {
		return f.native, true
	}
	tok, ok = f.tokens[tracer.Address(a)]
	return tok, ok
}

// Symbol is the display name of an asset: its symbol, or the short token address.
func (f *Flow) Symbol(a tracer.Asset) string {
	if tok, ok := f.AssetInfo(a); ok && tok.Symbol != "" {
		return tok.Symbol
	}
	return ShortAddress(tracer.Address(a))
}

// PrimaryLabel is the label to show for a node: the first whose category is
// the node's, else the first; ok is false when the node has none.
func (n *Node) PrimaryLabel() (tracer.Label, bool) {
	for _, l := range n.Labels {
		if l.Category == n.Category {
			return l, true
		}
	}
	if len(n.Labels) > 0 {
		return n.Labels[0], true
	}
	return tracer.Label{}, false
}

func compareLabels(a, b tracer.Label) int {
	return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.Name, b.Name),
		strings.Compare(string(a.Category), string(b.Category)))
}

func compareTransfers(a, b tracer.TracedTransfer) int {
	switch {
	case a.Before(b.Transfer):
		return -1
	case b.Before(a.Transfer):
		return 1
	}
	return cmp.Or(strings.Compare(a.TxHash, b.TxHash), strings.Compare(a.Position(), b.Position()),
		strings.Compare(a.Chain, b.Chain))
}

func compareEdges(a, b *Edge) int {
	return cmp.Or(strings.Compare(a.From.ID, b.From.ID), strings.Compare(a.To.ID, b.To.ID),
		compareAssets(a.Asset, b.Asset))
}

// compareAssets puts the native asset first, then tokens by address.
func compareAssets(a, b tracer.Asset) int {
	if (a == tracer.NativeAsset) != (b == tracer.NativeAsset) {
		if a == tracer.NativeAsset {
			return -1
		}
		return 1
	}
	return strings.Compare(string(a), string(b))
}

func sortedCopy[S ~[]E, E cmp.Ordered](s S) S {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func sortedSummary(in []tracer.AssetSummary) []tracer.AssetSummary {
	return slices.SortedStableFunc(slices.Values(in), func(a, b tracer.AssetSummary) int {
		return compareAssets(a.Asset, b.Asset)
	})
}

func sortedSkips(in []tracer.Skip) []tracer.Skip {
	return slices.SortedFunc(slices.Values(in), func(a, b tracer.Skip) int {
		return cmp.Or(strings.Compare(string(a.Address), string(b.Address)),
			strings.Compare(a.TxHash, b.TxHash), strings.Compare(a.Reason, b.Reason))
	})
}
