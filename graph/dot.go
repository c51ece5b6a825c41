package graph

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/emicklei/dot"

	"github.com/flowtrace/flowtrace/tracer"
)

// DefaultCollapseOver is DOTOptions.CollapseOver when it is not set.
const DefaultCollapseOver = 12

// DOTOptions tune WriteDOT.
type DOTOptions struct {
	// Full draws every node; otherwise a node with more than CollapseOver
	// plain leaves (unlabelled, no outflow, reached only from it) shows them
	// as one summary node.
	Full         bool
	CollapseOver int
}

type nodeStyle struct{ shape, fill, font string }

// styles are the looks per category, in legend order.
var styles = []struct {
	cat tracer.Category
	nodeStyle
}{
	{tracer.CategorySeed, nodeStyle{"doubleoctagon", "#e74c3c", "#ffffff"}},
	{tracer.CategoryEOA, nodeStyle{"ellipse", "#dfe6e9", "#000000"}},
	{tracer.CategoryContract, nodeStyle{"box", "#b2bec3", "#000000"}},
	{tracer.CategoryExchange, nodeStyle{"house", "#27ae60", "#ffffff"}},
	{tracer.CategoryBridge, nodeStyle{"cds", "#2980b9", "#ffffff"}},
	{tracer.CategoryMixer, nodeStyle{"octagon", "#8e44ad", "#ffffff"}},
	{tracer.CategoryDEX, nodeStyle{"component", "#f39c12", "#000000"}},
	{tracer.CategorySanctions, nodeStyle{"tripleoctagon", "#000000", "#ffffff"}},
	{tracer.CategoryOther, nodeStyle{"note", "#ecf0f1", "#000000"}},
}

func styleOf(c tracer.Category) nodeStyle {
	for _, s := range styles {
		if s.cat == c {
			return s.nodeStyle
		}
	}
	return styles[len(styles)-1].nodeStyle
}

// WriteDOT writes the flow as a Graphviz digraph: left to right, one rank per
// depth, nodes styled by category with a legend, edges labelled with the
// tainted amount. Every text is escaped, so any label or symbol gives valid DOT.
func WriteDOT(w io.Writer, f *Flow, opts DOTOptions) error {
	limit := opts.CollapseOver
	if limit <= 0 {
		limit = DefaultCollapseOver
	}
	collapsed := map[string][]*Edge{} // node ID -> its edges to collapsed leaves
	hidden := map[string]bool{}       // collapsed leaf IDs
	if !opts.Full {
		for _, n := range f.nodes {
			edges, leaves := f.plainLeafEdges(n)
			if leaves > limit {
				collapsed[n.ID] = edges
				for _, e := range edges {
					hidden[e.To.ID] = true
				}
			}
		}
	}

	g := dot.NewGraph(dot.Directed)
	g.ID("flow")
	g.Attr("rankdir", "LR")
	ranks := map[int]*dot.Graph{}
	rank := func(depth int) *dot.Graph {
		if r, ok := ranks[depth]; ok {
			return r
		}
		r := g.Subgraph(fmt.Sprintf("depth %06d", depth))
		r.Delete("label")
		r.Attr("rank", "same")
		ranks[depth] = r
		return r
	}
	for _, n := range slices.SortedFunc(slices.Values(f.nodes), func(a, b *Node) int { return a.Depth - b.Depth }) {
		rank(n.Depth) // create the ranks in depth order, for readable ids
	}
	nodes := make(map[string]dot.Node, len(f.nodes))
	for _, n := range f.nodes {
		if hidden[n.ID] {
			continue
		}
		nodes[n.ID] = f.dotNode(rank(n.Depth), n)
	}
	for _, n := range f.nodes {
		if edges := collapsed[n.ID]; edges != nil {
			f.dotSummary(g, rank, nodes[n.ID], edges)
		}
	}
	for _, e := range f.edges {
		if hidden[e.To.ID] {
			continue
		}
		g.Edge(nodes[e.From.ID], nodes[e.To.ID]).Label(f.edgeLabel(e.Asset, e.Tainted, len(e.Transfers)))
	}
	writeLegend(g, f.nodes)

	bw := bufio.NewWriter(w)
	g.Write(bw)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("graph: write dot: %w", err)
	}
	return nil
}

// plainLeafEdges returns n's edges to plain leaves (no outflow, no labels,
// not a seed, reached from n only) and the number of such leaves.
func (f *Flow) plainLeafEdges(n *Node) ([]*Edge, int) {
	var edges []*Edge
	leaves := 0
	for _, e := range f.out[n.ID] {
		to := e.To
		if to == n || len(f.out[to.ID]) > 0 || len(to.Labels) > 0 || to.Category == tracer.CategorySeed {
			continue
		}
		if slices.ContainsFunc(f.in[to.ID], func(in *Edge) bool { return in.From != n }) {
			continue
		}
		if len(edges) == 0 || edges[len(edges)-1].To != to {
			leaves++
		}
		edges = append(edges, e)
	}
	return edges, leaves
}

func (f *Flow) dotNode(r *dot.Graph, n *Node) dot.Node {
	lines := []string{ShortAddress(n.Address)}
	tooltip := []string{string(n.Address)}
	if l, ok := n.PrimaryLabel(); ok {
		lines = append(lines, clip(l.Name, 40))
	}
	for _, l := range n.Labels {
		tooltip = append(tooltip, l.Name+" ("+string(l.Category)+", "+l.Source+")")
	}
	if held := f.amountList(n.Held); held != "" {
		lines = append(lines, "holds "+held)
	}
	st := styleOf(n.Category)
	style := "filled"
	if n.Stop != tracer.NodeFollowed && n.Stop != tracer.NodeTerminal {
		lines = append(lines, "not followed: "+string(n.Stop))
		style = "filled,dashed"
	}
	dn := r.Node(n.ID)
	dn.Attrs(
		"label", dotText(strings.Join(lines, "\n")),
		"tooltip", dotText(strings.Join(tooltip, "\n")),
		"shape", st.shape, "style", style, "fillcolor", st.fill, "fontcolor", st.font,
	)
	return dn
}

// dotSummary draws the collapsed leaves of from as one node, with one edge per asset.
func (f *Flow) dotSummary(g *dot.Graph, rank func(int) *dot.Graph, from dot.Node, edges []*Edge) {
	type fold struct {
		asset tracer.Asset
		sum   *big.Int
		txs   int
	}
	var folds []*fold
	leaves := map[string]bool{}
	held := map[tracer.Asset]*big.Int{}
	depth := edges[0].To.Depth
	for _, e := range edges {
		if !leaves[e.To.ID] {
			leaves[e.To.ID] = true
			for a, v := range e.To.Held {
				if held[a] == nil {
					held[a] = new(big.Int)
				}
				held[a].Add(held[a], v)
			}
		}
		depth = min(depth, e.To.Depth)
		i := slices.IndexFunc(folds, func(x *fold) bool { return x.asset == e.Asset })
		if i < 0 {
			folds = append(folds, &fold{e.Asset, new(big.Int), 0})
			i = len(folds) - 1
		}
		folds[i].sum.Add(folds[i].sum, e.Tainted)
		folds[i].txs += len(e.Transfers)
	}
	slices.SortFunc(folds, func(a, b *fold) int { return compareAssets(a.asset, b.asset) })
	totals := make([]string, 0, len(folds))
	for _, x := range folds {
		totals = append(totals, f.amountText(x.asset, x.sum))
	}
	label := strconv.Itoa(len(leaves)) + " addresses\ntotal " + strings.Join(totals, " + ")
	if h := f.amountList(held); h != "" {
		label += "\nholding " + h
	}
	sum := rank(depth).Node("#collapsed/" + from.ID())
	sum.Attrs(
		"label", dotText(label), "shape", "folder", "style", "filled", "fillcolor", "#f5f6fa", "fontcolor", "#000000",
	)
	for _, x := range folds {
		g.Edge(from, sum).Attr("style", "dashed").Label(f.edgeLabel(x.asset, x.sum, x.txs))
	}
}

func writeLegend(g *dot.Graph, nodes []*Node) {
	present := map[tracer.Category]bool{}
	for _, n := range nodes {
		present[n.Category] = true
	}
	var legend *dot.Graph
	for _, s := range styles {
		if !present[s.cat] {
			continue
		}
		if legend == nil {
			legend = g.Subgraph("legend", dot.ClusterOption{})
			legend.Attrs("label", "Legend", "fontsize", "10")
		}
		legend.Node("#legend/"+string(s.cat)).Attrs(
			"label", string(s.cat), "shape", s.shape, "style", "filled", "fillcolor", s.fill, "fontcolor", s.font, "fontsize", "10",
		)
	}
}

func (f *Flow) edgeLabel(a tracer.Asset, v *big.Int, txs int) string {
	return dotText(f.amountText(a, v) + " (" + strconv.Itoa(txs) + " tx)")
}

// amountText is a human amount with its symbol ("1,000.5 ETH").
func (f *Flow) amountText(a tracer.Asset, v *big.Int) string {
	tok, _ := f.AssetInfo(a)
	return FormatAmount(v, tok.Decimals) + " " + clip(f.Symbol(a), 16)
}

// amountList is the non-zero amounts of m in asset order, comma separated.
func (f *Flow) amountList(m map[tracer.Asset]*big.Int) string {
	var parts []string
	for _, a := range slices.SortedFunc(maps.Keys(m), compareAssets) {
		if m[a] != nil && m[a].Sign() != 0 {
			parts = append(parts, f.amountText(a, m[a]))
		}
	}
	return strings.Join(parts, ", ")
}

// dotText makes text safe inside a quoted DOT string: valid UTF-8 and no
// control characters except the line breaks it means. emicklei/dot quotes
// it and escapes quotes and backslashes.
func dotText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// clip shortens s to at most n runes, on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
