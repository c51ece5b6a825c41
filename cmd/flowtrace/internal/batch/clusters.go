package batch

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

// publicServices are the categories of addresses that many unrelated
// thefts reach (exchange hot wallets, bridges, mixers, DEX routers): they
// end cases but tie none together.
var publicServices = map[string]bool{"exchange": true, "bridge": true, "mixer": true, "dex": true}

// Report is what an analyst gets from a batch beside the summary: clusters
// of cases sharing infrastructure, value per endpoint across cases, and the
// failed cases. It is written as batch.json and batch-report.md.
type Report struct {
	Version   int            `json:"version"`
	Cases     int            `json:"cases"`
	Status    map[string]int `json:"status"`
	Clusters  []Cluster      `json:"clusters"`
	Endpoints []Endpoint     `json:"endpoints"`
	Failed    []Failure      `json:"failed"`
}

// Cluster is a connected component of cases over the addresses they share.
type Cluster struct {
	Rank      int                 `json:"rank"`
	Summary   string              `json:"summary"`
	Cases     []string            `json:"cases"`
	Shared    []Shared            `json:"shared"`                      // what ties the cases, most shared first
	Deposits  map[string][]string `json:"deposit_addresses,omitempty"` // exchange -> deposit addresses the cases reach
	Endpoints []string            `json:"endpoints"`                   // chain:address of the endpoints the cases reach
}

// Shared is an address several cases of a cluster reach.
type Shared struct {
	Chain   string `json:"chain"`
	Address string `json:"address"`
	Kind    string `json:"kind"` // deposit_address, endpoint, seed, intermediary
	Label   string `json:"label,omitempty"`
	Cases   int    `json:"cases"`
}

// Endpoint is a terminal address with what every case brought there.
type Endpoint struct {
	Chain    string   `json:"chain"`
	Address  string   `json:"address"`
	Category string   `json:"category"`
	Label    string   `json:"label,omitempty"`
	Cases    []string `json:"cases"`
	Received []Amount `json:"received"` // summed over the cases
}

// Amount is a sum of one asset.
type Amount struct {
	Asset   string `json:"asset"`
	Symbol  string `json:"symbol,omitempty"`
	Amount  string `json:"amount"`  // base units
	Display string `json:"display"` // whole units, for people
}

// Failure is a case that produced no trace.
type Failure struct {
	CaseID string `json:"case_id"`
	Error  string `json:"error"`
}

// addrInfo gathers one address over every case that reaches it.
type addrInfo struct {
	ref      NodeRef
	cases    []int // row indexes
	public   bool
	terminal bool
	seed     bool
	deposit  string
}

// BuildReport finds the clusters (connected components of cases over
// shared addresses that are no public service: intermediaries, deposit
// addresses, dormant wallets, cross-chain destinations), ranked by size,
// sums the value per endpoint and lists the failed cases.
func BuildReport(rows []Row) Report {
	rep := Report{Version: 1, Cases: len(rows), Status: map[string]int{}, Clusters: []Cluster{}, Endpoints: []Endpoint{}, Failed: []Failure{}}
	addrs := map[string]*addrInfo{}
	var keys []string
	assets := map[string]AssetAccounting{}
	for i, r := range rows {
		rep.Status[r.Status]++
		if r.Status == StatusFailed {
			rep.Failed = append(rep.Failed, Failure{CaseID: r.CaseID, Error: oneLine(r.Error)})
		}
		for _, a := range r.Accounting {
			if _, ok := assets[a.Asset]; !ok {
				assets[a.Asset] = a
			}
		}
		for _, n := range r.Nodes {
			k := n.Chain + ":" + n.Address
			a := addrs[k]
			if a == nil {
				a = &addrInfo{ref: n}
				addrs[k] = a
				keys = append(keys, k)
			}
			if len(a.cases) == 0 || a.cases[len(a.cases)-1] != i {
				a.cases = append(a.cases, i)
			}
			a.public = a.public || publicServices[n.Category]
			a.terminal = a.terminal || n.Terminal
			a.seed = a.seed || n.Category == string(tracer.CategorySeed)
			a.deposit = cmp.Or(a.deposit, n.Deposit)
			if a.ref.Label == "" {
				a.ref.Label = n.Label
			}
			if a.ref.Category == string(tracer.CategorySeed) {
				a.ref.Category = n.Category // what the address is in the cases that reach it
			}
		}
	}
	slices.Sort(keys)

	// Union-find over the rows.
	parent := make([]int, len(rows))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	for _, k := range keys {
		a := addrs[k]
		if a.public || len(a.cases) < 2 {
			continue
		}
		for _, c := range a.cases[1:] {
			parent[find(c)] = find(a.cases[0])
		}
	}
	members := map[int][]int{}
	for i := range rows {
		members[find(i)] = append(members[find(i)], i)
	}
	for _, m := range members {
		if len(m) < 2 {
			continue
		}
		rep.Clusters = append(rep.Clusters, buildCluster(rows, m, addrs, keys))
	}
	slices.SortFunc(rep.Clusters, func(a, b Cluster) int {
		return cmp.Or(len(b.Cases)-len(a.Cases), len(b.Shared)-len(a.Shared), strings.Compare(a.Cases[0], b.Cases[0]))
	})
	for i := range rep.Clusters {
		rep.Clusters[i].Rank = i + 1
	}

	for _, k := range keys {
		a := addrs[k]
		if !a.terminal {
			continue
		}
		e := Endpoint{Chain: a.ref.Chain, Address: a.ref.Address, Category: a.ref.Category, Label: a.ref.Label}
		sums := map[string]*big.Int{}
		for _, i := range a.cases {
			e.Cases = append(e.Cases, rows[i].CaseID)
			for _, n := range rows[i].Nodes {
				if n.Chain != a.ref.Chain || n.Address != a.ref.Address {
					continue
				}
				for asset, v := range n.Received {
					if x, ok := new(big.Int).SetString(v, 10); ok {
						if sums[asset] == nil {
							sums[asset] = new(big.Int)
						}
						sums[asset].Add(sums[asset], x)
					}
				}
			}
		}
		slices.Sort(e.Cases)
		for _, asset := range slices.Sorted(maps.Keys(sums)) {
			meta := assets[asset]
			e.Received = append(e.Received, Amount{Asset: asset, Symbol: meta.Symbol, Amount: sums[asset].String(),
				Display: graph.FormatAmount(sums[asset], meta.Decimals) + " " + cmp.Or(meta.Symbol, asset)})
		}
		rep.Endpoints = append(rep.Endpoints, e)
	}
	slices.SortStableFunc(rep.Endpoints, func(a, b Endpoint) int { return len(b.Cases) - len(a.Cases) })
	return rep
}

// buildCluster describes the cluster of the rows m.
func buildCluster(rows []Row, m []int, addrs map[string]*addrInfo, keys []string) Cluster {
	in := map[int]bool{}
	c := Cluster{Deposits: map[string][]string{}}
	for _, i := range m {
		in[i] = true
		c.Cases = append(c.Cases, rows[i].CaseID)
	}
	slices.Sort(c.Cases)
	depositCases := map[string]map[int]bool{} // exchange -> cases reaching its deposit addresses
	for _, k := range keys {
		a := addrs[k]
		var mine []int
		for _, i := range a.cases {
			if in[i] {
				mine = append(mine, i)
			}
		}
		if len(mine) == 0 {
			continue
		}
		if a.terminal {
			c.Endpoints = append(c.Endpoints, k)
		}
		if a.deposit != "" {
			c.Deposits[a.deposit] = append(c.Deposits[a.deposit], a.ref.Address)
			if depositCases[a.deposit] == nil {
				depositCases[a.deposit] = map[int]bool{}
			}
			for _, i := range mine {
				depositCases[a.deposit][i] = true
			}
		}
		if len(mine) > 1 && !a.public {
			kind := "intermediary"
			switch {
			case a.deposit != "":
				kind = "deposit_address"
			case a.terminal:
				kind = "endpoint"
			case a.seed:
				kind = "seed"
			}
			c.Shared = append(c.Shared, Shared{Chain: a.ref.Chain, Address: a.ref.Address, Kind: kind, Label: a.ref.Label, Cases: len(mine)})
		}
	}
	slices.SortStableFunc(c.Shared, func(a, b Shared) int { return b.Cases - a.Cases })
	c.Summary = fmt.Sprintf("%d cases tied by %d shared addresses", len(c.Cases), len(c.Shared))
	for _, ex := range slices.Sorted(maps.Keys(c.Deposits)) {
		c.Summary += fmt.Sprintf("; %d of them end at %d deposit addresses of %s", len(depositCases[ex]), len(c.Deposits[ex]), ex)
	}
	if len(c.Deposits) == 0 {
		c.Deposits = nil
	}
	return c
}

// JSON renders batch.json.
func (r Report) JSON() ([]byte, error) {
	out, err := json.MarshalIndent(r, "", "  ")
	return append(out, '\n'), err
}

// Markdown renders batch-report.md.
func (r Report) Markdown() []byte {
	var b bytes.Buffer
	md := graph.MarkdownText
	fmt.Fprintf(&b, "# Batch report\n\n%d cases: %d done, %d partial, %d failed.\n\n", r.Cases,
		r.Status[StatusDone], r.Status[StatusPartial], r.Status[StatusFailed])
	b.WriteString("## Clusters of cases sharing infrastructure\n\n" +
		"Cases are tied when their graphs share an address that is no public service: an intermediary, a deposit\n" +
		"address, a dormant wallet, a cross-chain destination. Exchange hot wallets, bridges, mixers and DEX routers\n" +
		"end many unrelated cases and tie none. Largest clusters first.\n\n")
	if len(r.Clusters) == 0 {
		b.WriteString("No two cases share such an address.\n\n")
	}
	for _, c := range r.Clusters {
		fmt.Fprintf(&b, "### %d. %s\n\n- cases: %s\n", c.Rank, md(c.Summary), md(strings.Join(c.Cases, ", ")))
		var shared []string
		for i, s := range c.Shared {
			if i == 10 {
				shared = append(shared, fmt.Sprintf("and %d more", len(c.Shared)-10))
				break
			}
			shared = append(shared, fmt.Sprintf("`%s` (%s, %d cases)", s.Address, s.Kind, s.Cases))
		}
		fmt.Fprintf(&b, "- shared: %s\n", strings.Join(shared, ", "))
		for _, ex := range slices.Sorted(maps.Keys(c.Deposits)) {
			fmt.Fprintf(&b, "- deposit addresses of %s: `%s`\n", md(ex), strings.Join(c.Deposits[ex], "`, `"))
		}
		fmt.Fprintf(&b, "- endpoints reached: %d\n\n", len(c.Endpoints))
	}
	b.WriteString("## Value per endpoint across cases\n\n")
	if len(r.Endpoints) == 0 {
		b.WriteString("No case reached an endpoint.\n\n")
	} else {
		b.WriteString("Summed over the cases that reach each endpoint; cases that overlap count the same funds more than once.\n\n" +
			"| endpoint | category | label | cases | received |\n|---|---|---|---|---|\n")
		for _, e := range r.Endpoints {
			var got []string
			for _, a := range e.Received {
				got = append(got, md(a.Display))
			}
			fmt.Fprintf(&b, "| `%s:%s` | %s | %s | %d | %s |\n", e.Chain, e.Address, md(e.Category), md(e.Label), len(e.Cases), strings.Join(got, "; "))
		}
		b.WriteString("\n")
	}
	b.WriteString("## Failed cases\n\n")
	if len(r.Failed) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("| case | reason |\n|---|---|\n")
		for _, f := range r.Failed {
			fmt.Fprintf(&b, "| %s | %s |\n", md(f.CaseID), md(f.Error))
		}
	}
	return b.Bytes()
}
