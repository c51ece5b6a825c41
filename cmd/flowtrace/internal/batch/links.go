package batch

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"

	"github.com/emicklei/dot"

	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

// Link is an address that appears in the graphs of several cases: shared
// laundering infrastructure, a common deposit address, or a common endpoint.
type Link struct {
	Chain    string
	Address  string
	Category string
	Label    string
	Terminal bool
	Cases    []string // sorted
}

// Kind says what the shared address is to the cases.
func (l Link) Kind() string {
	switch {
	case l.Terminal:
		return "endpoint"
	case l.Category == "eoa" || l.Category == "contract":
		return "address"
	}
	return l.Category
}

// Links finds the addresses present in at least two cases' graphs. Seeds
// shared between cases count too: they tie the cases together.
func Links(rows []Row) []Link {
	byKey := map[string]*Link{}
	for _, r := range rows {
		for _, n := range r.Nodes {
			k := n.Chain + ":" + n.Address
			l := byKey[k]
			if l == nil {
				l = &Link{Chain: n.Chain, Address: n.Address, Category: n.Category, Label: n.Label}
				byKey[k] = l
			}
			l.Terminal = l.Terminal || n.Terminal
			if !slices.Contains(l.Cases, r.CaseID) {
				l.Cases = append(l.Cases, r.CaseID)
			}
		}
	}
	var out []Link
	for _, l := range byKey {
		if len(l.Cases) > 1 {
			slices.Sort(l.Cases)
			out = append(out, *l)
		}
	}
	slices.SortFunc(out, func(a, b Link) int {
		if d := len(b.Cases) - len(a.Cases); d != 0 {
			return d
		}
		return strings.Compare(a.Chain+":"+a.Address, b.Chain+":"+b.Address)
	})
	return out
}

// LinksCSV renders links.csv.
func LinksCSV(links []Link) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"chain", "address", "kind", "category", "label", "cases", "case_ids"})
	for _, l := range links {
		rec := []string{l.Chain, l.Address, l.Kind(), l.Category, l.Label, strconv.Itoa(len(l.Cases)), strings.Join(l.Cases, " ")}
		for i := range rec {
			rec[i] = graph.SafeCell(rec[i])
		}
		w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}

// BatchDOT draws the cases (boxes) joined through the addresses they share.
func BatchDOT(links []Link) []byte {
	g := dot.NewGraph(dot.Directed)
	g.Attr("rankdir", "LR")
	g.Attr("fontname", "Helvetica")
	caseNodes := map[string]dot.Node{}
	caseNode := func(id string) dot.Node {
		if n, ok := caseNodes[id]; ok {
			return n
		}
		n := g.Node("case:"+id).Label("case "+id).Attr("shape", "box").Attr("style", "filled").Attr("fillcolor", "#e8eef7")
		caseNodes[id] = n
		return n
	}
	for _, l := range links {
		label := graph.ShortAddress(tracer.Address(l.Address))
		if l.Label != "" {
			label += "\n" + l.Label
		}
		label += "\n" + l.Kind() + ", " + strconv.Itoa(len(l.Cases)) + " cases"
		n := g.Node(l.Chain+":"+l.Address).Label(label).Attr("shape", "ellipse")
		if l.Terminal {
			n.Attr("style", "filled").Attr("fillcolor", "#f6d8a8")
		}
		for _, c := range l.Cases {
			g.Edge(caseNode(c), n)
		}
	}
	return []byte(g.String())
}
