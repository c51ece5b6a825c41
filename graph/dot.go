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
	{tracer.CategoryTransaction, nodeStyle{"diamond", "#f5f6fa", "#000000"}},
	{tracer.CategoryFees, nodeStyle{"invhouse", "#fdebd0", "#000000"}},
	{CategoryCrossChain, nodeStyle{"cds", "#d6eaf8", "#000000"}},
}

func styleOf(c tracer.Category) nodeStyle {
	for _, s := range styles {
		if s.cat == c {
			return s.nodeStyle
		}
	}
	return styleOf(tracer.CategoryOther)
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
	// A drawing too big for dot is laid out by sfdp (see RenderSVG), where edge
	// labels cost ~85% of the layout (3,000 nodes: 9 s with, 1.3 s without):
	// there the amounts are the edges' tooltips, shown on hover in graph.svg.
	large := len(f.nodes)-len(hidden)+len(collapsed) > SFDPOver
	if large {
		g.Attrs("label", "edge amounts: hover over an edge", "labelloc", "t")
	}
	look := f.patternLook()
	clusters := map[int]*dot.Graph{}
	nodes := make(map[string]dot.Node, len(f.nodes))
	for _, n := range f.nodes {
		if hidden[n.ID] {
			continue
		}
		sub := rank(n.Depth)
		if i, ok := look.cluster[n.ID]; ok {
			if clusters[i] == nil {
				clusters[i] = g.Subgraph(fmt.Sprintf("fan-out %03d", i), dot.ClusterOption{})
				clusters[i].Attrs("label", dotText(look.clusterLabel[i]), "style", "rounded,dashed", "color", "#7f8c8d", "fontsize", "11")
			}
			sub = clusters[i]
		}
		nodes[n.ID] = f.dotNode(sub, n, look.tags[n.ID])
	}
	for _, n := range f.nodes {
		if edges := collapsed[n.ID]; edges != nil {
			f.dotSummary(g, rank, nodes[n.ID], edges, large)
		}
	}
	for _, e := range f.edges {
		if hidden[e.To.ID] {
			continue
		}
		de := f.dotEdge(g, nodes[e.From.ID], nodes[e.To.ID], f.edgeLabel(e.Asset, e.Tainted, len(e.Transfers)), large)
		switch {
		case look.peel[e]:
			de.Attrs("color", peelColor, "penwidth", "3", "fontcolor", peelColor)
		case e.To.Category == CategoryCrossChain:
			de.Attrs("style", "dashed", "color", "#2980b9", "fontcolor", "#2980b9")
		}
	}
	writeLegend(g, f.nodes)
	writePatternLegend(g, look)

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

// dotNode draws n; tags are its pattern roles, shown under the label.
func (f *Flow) dotNode(r *dot.Graph, n *Node, tags []string) dot.Node {
	lines := []string{ShortAddress(n.Local())}
	tooltip := []string{string(n.Local())}
	if n.Chain != f.Chain { // a node on another chain: a hand-off, or reached through a bridge
		lines[0] = n.Chain + ": " + lines[0]
		tooltip[0] = n.Chain + ":" + tooltip[0]
		if r := f.amountList(n.Received); r != "" && n.Category == CategoryCrossChain {
			lines = append(lines, "from "+r)
		}
	}
	if l, ok := n.PrimaryLabel(); ok {
		lines = append(lines, clip(l.Name, 40))
	}
	for _, l := range n.Labels {
		tooltip = append(tooltip, l.Name+" ("+string(l.Category)+", "+l.Source+")")
	}
	if held := f.amountList(n.Held); held != "" {
		lines = append(lines, "holds "+held)
	}
	if len(tags) > 0 {
		lines = append(lines, "["+strings.Join(tags, ", ")+"]")
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
func (f *Flow) dotSummary(g *dot.Graph, rank func(int) *dot.Graph, from dot.Node, edges []*Edge, large bool) {
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
		f.dotEdge(g, from, sum, f.edgeLabel(x.asset, x.sum, x.txs), large).Attr("style", "dashed")
	}
}

// dotEdge draws an edge with its amount as the label, or as the tooltip in a
// big drawing.
func (f *Flow) dotEdge(g *dot.Graph, from, to dot.Node, label string, large bool) dot.Edge {
	e := g.Edge(from, to)
	if large {
		return e.Attr("tooltip", label)
	}
	return e.Label(label)
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
	if printableASCII(s, true) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' || unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// clip shortens s to at most n runes, on one line.
func clip(s string, n int) string {
	if len(s) <= n && printableASCII(s, false) && !strings.HasPrefix(s, " ") && !strings.HasSuffix(s, " ") && !strings.Contains(s, "  ") {
		return s // one line of single spaces already, and short
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// printableASCII reports whether s is printable ASCII only (and line
// breaks, when newlines is set).
func printableASCII(s string, newlines bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' || c > '~') && !(newlines && c == '\n') {
			return false
		}
	}
	return true
}

// peelColor draws the peel chain's path.
const peelColor = "#d35400"

// patternDOT is how the patterns change the drawing: fan-out recipients are
// grouped in clusters, the hops of peel chains are one highlighted path.
type patternDOT struct {
	cluster      map[string]int // node ID -> fan-out cluster
	clusterLabel map[int]string
	peel         map[*Edge]bool
	tags         map[string][]string // node ID -> pattern roles shown under its label
}

// tag notes a pattern role of a node, once.
func (l patternDOT) tag(id, role string) {
	if !slices.Contains(l.tags[id], role) {
		l.tags[id] = append(l.tags[id], role)
	}
}

func (f *Flow) patternLook() patternDOT {
	look := patternDOT{cluster: map[string]int{}, clusterLabel: map[int]string{}, peel: map[*Edge]bool{}, tags: map[string][]string{}}
	for _, p := range f.Patterns {
		switch p.Kind {
		case KindDormant:
			look.tag(NodeID(f.Chain, p.Addresses[0]), "dormant")
		case KindFanIn:
			look.tag(NodeID(f.Chain, p.Addresses[len(p.Addresses)-1]), "consolidation of "+p.Detail["senders"])
		case KindSwap:
			look.tag(NodeID(f.Chain, p.Addresses[1]), "swap pool")
			look.tag(NodeID(f.Chain, p.Addresses[0]), "swapped "+f.Symbol(tracer.Asset(p.Detail["sold_asset"]))+" → "+f.Symbol(tracer.Asset(p.Detail["bought_asset"])))
		case KindExchangeDeposit:
			if p.Detail["via"] == "deposit address" {
				look.tag(NodeID(f.Chain, p.Addresses[0]), "exchange deposit address")
			}
		case KindMixerLead:
			look.tag(NodeID(f.Chain, p.Addresses[0]), "withdrawal leads: "+p.Detail["candidates"])
		case KindFanOut:
			i := len(look.clusterLabel)
			label := "fan-out: " + p.Detail["recipients"] + " recipients"
			if lots := p.Detail["equal_lots"]; lots != "" {
				label = "fan-out: " + lots
				if p.Detail["round_lots"] == "true" {
					label += " (round lots)"
				}
			}
			look.clusterLabel[i] = label
			first := 1
			if p.Detail["via_contract"] != "" {
				first = 2
			}
			for _, a := range p.Addresses[first:] {
				id := NodeID(f.Chain, a)
				if _, taken := look.cluster[id]; !taken {
					look.cluster[id] = i
				}
			}
		case KindPeelChain:
			for i := 0; i+1 < len(p.Addresses); i++ {
				from, to := NodeID(f.Chain, p.Addresses[i]), NodeID(f.Chain, p.Addresses[i+1])
				for _, e := range f.out[from] {
					if e.To.ID == to && string(e.Asset) == p.Detail["asset"] {
						look.peel[e] = true
					}
				}
			}
		}
	}
	return look
}

// writePatternLegend explains the pattern marks present in the drawing.
func writePatternLegend(g *dot.Graph, look patternDOT) {
	if len(look.peel) == 0 && len(look.clusterLabel) == 0 {
		return
	}
	legend := g.Subgraph("legend", dot.ClusterOption{})
	legend.Attrs("label", "Legend", "fontsize", "10")
	if len(look.peel) > 0 {
		a, b := legend.Node("#legend/peel-from"), legend.Node("#legend/peel-to")
		a.Attrs("label", "", "shape", "point", "width", "0.05")
		b.Attrs("label", "peel chain", "shape", "plaintext", "fontsize", "10", "fontcolor", peelColor)
		legend.Edge(a, b).Attrs("color", peelColor, "penwidth", "3")
	}
	if len(look.clusterLabel) > 0 {
		legend.Node("#legend/fan-out").Attrs("label", "fan-out group", "shape", "box", "style", "rounded,dashed", "color", "#7f8c8d", "fontsize", "10")
	}
}
