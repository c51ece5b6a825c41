// Package batch keeps the books of `flowtrace batch`: which cases are done
// (the manifest), what each found (summary rows read back from its
// graph.json), which addresses several cases share (links), and progress.
// It does not trace: the command runs the cases and hands their outputs here.
package batch

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Status of a case.
const (
	StatusDone    = "done"    // traced to the end
	StatusPartial = "partial" // traced, but a budget or a failed hop cut it short (exit 3)
	StatusFailed  = "failed"  // no trace: the error says why
)

// Row is one case in summary.csv and summary.json.
type Row struct {
	CaseID     string            `json:"case_id"`
	Status     string            `json:"status"`
	Chain      string            `json:"chain"`
	Seeds      []string          `json:"seeds"`
	Addresses  int               `json:"addresses"`
	Transfers  int               `json:"transfers"`
	Endpoints  map[string]int    `json:"endpoints"` // terminal nodes by category
	Accounting []AssetAccounting `json:"accounting"`
	StopReason string            `json:"stop_reason"`
	Requests   int64             `json:"rpc_requests"`
	RoundTrips int64             `json:"rpc_batches"`
	CacheHits  int64             `json:"cache_hits"`
	CacheMiss  int64             `json:"cache_misses"`
	DurationMS int64             `json:"duration_ms"`
	Error      string            `json:"error,omitempty"`
	// Nodes are the case's addresses, for links; not written to the summary.
	Nodes []NodeRef `json:"-"`
}

// AssetAccounting is where one stolen asset went, as shares.
type AssetAccounting struct {
	Asset    string            `json:"asset"`
	Symbol   string            `json:"symbol"`
	Decimals uint8             `json:"decimals"`
	Stolen   string            `json:"stolen"`
	Shares   map[string]string `json:"shares"`
}

// NodeRef is an address of a case's graph.
type NodeRef struct {
	Chain    string
	Address  string
	Category string
	Label    string
	Terminal bool
	Received map[string]string // asset -> base units of stolen value received
	Deposit  string            // the exchange, when this is a deposit address forwarding to it
}

// graphDoc is the part of graph.json a summary row needs.
type graphDoc struct {
	Chain string   `json:"chain"`
	Seeds []string `json:"seeds"`
	Nodes []struct {
		Chain    string `json:"chain"`
		Address  string `json:"address"`
		Category string `json:"category"`
		Stop     string `json:"stop"`
		Labels   []struct {
			Name string `json:"name"`
		} `json:"labels"`
		Received map[string]string `json:"received"`
	} `json:"nodes"`
	Patterns []struct {
		Kind   string            `json:"kind"`
		Detail map[string]string `json:"detail"`
	} `json:"patterns"`
	Edges   []struct{ Transfers []json.RawMessage } `json:"edges"`
	Summary struct {
		Assets []struct {
			Asset    string            `json:"asset"`
			Symbol   string            `json:"symbol"`
			Decimals uint8             `json:"decimals"`
			Stolen   string            `json:"stolen"`
			Shares   map[string]string `json:"shares"`
		} `json:"assets"`
	} `json:"summary"`
	Stats struct {
		Requests    int64  `json:"rpc_requests"`
		RoundTrips  int64  `json:"rpc_batches"`
		CacheHits   int64  `json:"cache_hits"`
		CacheMisses int64  `json:"cache_misses"`
		ElapsedMS   int64  `json:"elapsed_ms"`
		StopReason  string `json:"stop_reason"`
	} `json:"stats"`
}

// RowFromGraph fills a summary row from a case's graph.json.
func RowFromGraph(caseID, status string, graphJSON []byte) (Row, error) {
	var g graphDoc
	if err := json.Unmarshal(graphJSON, &g); err != nil {
		return Row{}, fmt.Errorf("batch: %s: graph.json: %w", caseID, err)
	}
	r := Row{
		CaseID: caseID, Status: status, Chain: g.Chain, Seeds: g.Seeds, Addresses: len(g.Nodes),
		Endpoints: map[string]int{}, StopReason: g.Stats.StopReason, Requests: g.Stats.Requests,
		RoundTrips: g.Stats.RoundTrips, CacheHits: g.Stats.CacheHits, CacheMiss: g.Stats.CacheMisses, DurationMS: g.Stats.ElapsedMS,
	}
	for _, e := range g.Edges {
		r.Transfers += len(e.Transfers)
	}
	deposits := map[string]string{}
	for _, p := range g.Patterns {
		if a := p.Detail["deposit_address"]; p.Kind == "exchange_deposit" && a != "" {
			deposits[a] = p.Detail["exchange"]
		}
	}
	for _, n := range g.Nodes {
		ref := NodeRef{Chain: n.Chain, Address: n.Address, Category: n.Category, Terminal: n.Stop == "terminal",
			Received: n.Received, Deposit: deposits[n.Address]}
		if len(n.Labels) > 0 {
			ref.Label = n.Labels[0].Name
		}
		if ref.Terminal {
			r.Endpoints[n.Category]++
		}
		r.Nodes = append(r.Nodes, ref)
	}
	for _, a := range g.Summary.Assets {
		r.Accounting = append(r.Accounting, AssetAccounting{Asset: a.Asset, Symbol: a.Symbol, Decimals: a.Decimals, Stolen: a.Stolen, Shares: a.Shares})
	}
	return r, nil
}

// endpointsText renders endpoints as "exchange:2 mixer:1".
func endpointsText(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// accountingText renders the accounting as "ETH: exchange 12.23% dormant 87.77%; USDT: ...".
func accountingText(as []AssetAccounting) string {
	var parts []string
	for _, a := range as {
		var shares []string
		for _, k := range slices.Sorted(maps.Keys(a.Shares)) {
			shares = append(shares, k+" "+a.Shares[k])
		}
		name := a.Symbol
		if name == "" {
			name = a.Asset
		}
		parts = append(parts, name+": "+strings.Join(shares, " "))
	}
	return strings.Join(parts, "; ")
}
