package batch

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestManifestResumes(t *testing.T) {
	dir := t.TempDir()
	m, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := ParamsHash(map[string]string{"seed": "0xA", "depth": "3"})
	if h != ParamsHash(map[string]string{"depth": "3", "seed": "0xA"}) {
		t.Errorf("params hash depends on map order")
	}
	if err := m.Record("a", Entry{Params: h, Status: StatusDone}); err != nil {
		t.Fatal(err)
	}
	if err := m.Record("b", Entry{Params: h, Status: StatusFailed, Error: "boom"}); err != nil {
		t.Fatal(err)
	}
	again, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Finished("a", h) {
		t.Errorf("a done case is not finished after a reload")
	}
	if again.Finished("a", ParamsHash("other params")) {
		t.Errorf("a case whose parameters changed counts as finished")
	}
	if again.Finished("b", h) {
		t.Errorf("a failed case counts as finished: it must be run again")
	}
	os.WriteFile(filepath.Join(dir, ManifestName), []byte("{torn"), 0o644)
	if _, err := LoadManifest(dir); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Errorf("a corrupt manifest gave %v", err)
	}
}

func TestLinks(t *testing.T) {
	shared := NodeRef{Chain: "ethereum", Address: "0xHot", Category: "exchange", Label: "=cmd|x", Terminal: true}
	rows := []Row{
		{CaseID: "c1", Nodes: []NodeRef{{Chain: "ethereum", Address: "0xA"}, shared, {Chain: "ethereum", Address: "0xM", Category: "eoa"}}},
		{CaseID: "c2", Nodes: []NodeRef{{Chain: "ethereum", Address: "0xB"}, shared}},
		{CaseID: "c3", Nodes: []NodeRef{shared, {Chain: "ethereum", Address: "0xM", Category: "eoa"}}},
	}
	links := Links(rows)
	if len(links) != 2 || links[0].Address != "0xHot" || len(links[0].Cases) != 3 || links[1].Address != "0xM" {
		t.Fatalf("links = %+v", links)
	}
	if links[0].Kind() != "endpoint" || links[1].Kind() != "address" {
		t.Errorf("kinds = %s, %s", links[0].Kind(), links[1].Kind())
	}
	csv := string(LinksCSV(links))
	if !strings.Contains(csv, ",'=cmd|x,") {
		t.Errorf("a formula label was not neutralised:\n%s", csv)
	}
	if dot := string(BatchDOT(links)); !strings.Contains(dot, "case c3") || strings.Count(dot, "->") != 5 {
		t.Errorf("batch.dot:\n%s", dot)
	}
}

func TestRowFromGraph(t *testing.T) {
	g := `{"chain":"dev","seeds":["0xS"],"nodes":[{"chain":"dev","address":"0xS","category":"seed","stop":""},
	  {"chain":"dev","address":"0xX","category":"exchange","stop":"terminal","labels":[{"name":"Hot"}]}],
	  "edges":[{"transfers":[{},{}]}],"summary":{"assets":[{"asset":"native","symbol":"ETH","stolen":"5","shares":{"exchange":"100.00%"}}]},
	  "stats":{"rpc_requests":7,"rpc_batches":3,"cache_hits":1,"cache_misses":2,"elapsed_ms":9,"stop_reason":"complete"}}`
	r, err := RowFromGraph("c", StatusDone, []byte(g))
	if err != nil {
		t.Fatal(err)
	}
	if r.Addresses != 2 || r.Transfers != 2 || r.Endpoints["exchange"] != 1 || r.Requests != 7 || r.Nodes[1].Label != "Hot" {
		t.Errorf("row = %+v", r)
	}
	csv := string(SummaryCSV([]Row{r}))
	if !strings.Contains(csv, "ETH: exchange 100.00%") || !strings.Contains(csv, "exchange:1") {
		t.Errorf("summary.csv:\n%s", csv)
	}
	if _, err := RowFromGraph("c", StatusDone, []byte("{")); err == nil {
		t.Errorf("a torn graph.json was accepted")
	}
}

func TestProgressPlainLines(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, 3, time.Hour)
	p.Skip()
	p.Done(true)
	p.Done(false)
	p.Finish()
	out := b.String()
	if !strings.Contains(out, "batch: 1/3 cases (1 skipped as done, 0 failed)") || !strings.Contains(out, "batch: 3/3 cases (1 skipped as done, 1 failed)") {
		t.Errorf("progress:\n%s", out)
	}
}

func TestReportClusters(t *testing.T) {
	n := func(addr, category string, terminal bool) NodeRef {
		return NodeRef{Chain: "ethereum", Address: addr, Category: category, Terminal: terminal}
	}
	hot := NodeRef{Chain: "ethereum", Address: "0xHot", Category: "exchange", Label: "Exchange X", Terminal: true, Received: map[string]string{"native": "1000"}}
	dep1, dep2 := n("0xD1", "eoa", false), n("0xD2", "eoa", false)
	dep1.Deposit, dep2.Deposit = "Exchange X", "Exchange X"
	withValue := func(r NodeRef, v string) NodeRef { r.Received = map[string]string{"native": v}; return r }
	rows := []Row{
		// c1, c2 and c3 end at two deposit addresses of Exchange X; c3 is tied to c2 through an intermediary.
		{CaseID: "c1", Status: StatusDone, Nodes: []NodeRef{n("0xS1", "seed", false), dep1, withValue(hot, "5000")}},
		{CaseID: "c2", Status: StatusDone, Nodes: []NodeRef{n("0xS2", "seed", false), dep1, n("0xM", "eoa", false), dep2, withValue(hot, "7000")}},
		{CaseID: "c3", Status: StatusDone, Nodes: []NodeRef{n("0xS3", "seed", false), n("0xM", "eoa", false), dep2, withValue(hot, "1")}},
		// c4 pays the same exchange hot wallet directly: a public service ties nobody.
		{CaseID: "c4", Status: StatusDone, Nodes: []NodeRef{n("0xS4", "seed", false), withValue(hot, "2")}},
		// c5 and c6 rest at the same dormant wallet; c6's seed is c5's intermediary.
		{CaseID: "c5", Status: StatusPartial, Nodes: []NodeRef{n("0xS5", "seed", false), n("0xS6", "eoa", false), withValue(n("0xDormant", "eoa", true), "30")}},
		{CaseID: "c6", Status: StatusDone, Nodes: []NodeRef{n("0xS6", "seed", false), withValue(n("0xDormant", "eoa", true), "12")}},
		{CaseID: "c7", Status: StatusFailed, Error: "seed received\nno value"},
	}
	for i := range rows {
		rows[i].Accounting = []AssetAccounting{{Asset: "native", Symbol: "ETH", Decimals: 3}}
	}
	rep := BuildReport(rows)
	if len(rep.Clusters) != 2 {
		t.Fatalf("clusters = %+v", rep.Clusters)
	}
	big, small := rep.Clusters[0], rep.Clusters[1]
	if strings.Join(big.Cases, " ") != "c1 c2 c3" || big.Rank != 1 || strings.Join(small.Cases, " ") != "c5 c6" || small.Rank != 2 {
		t.Errorf("clusters: %v (rank %d), %v (rank %d)", big.Cases, big.Rank, small.Cases, small.Rank)
	}
	if got := strings.Join(big.Deposits["Exchange X"], " "); got != "0xD1 0xD2" {
		t.Errorf("deposit addresses of the first cluster = %q", got)
	}
	if want := "3 cases tied by 3 shared addresses; 3 of them end at 2 deposit addresses of Exchange X"; big.Summary != want {
		t.Errorf("summary = %q, want %q", big.Summary, want)
	}
	kinds := map[string]string{}
	for _, s := range small.Shared {
		kinds[s.Address] = s.Kind
	}
	if kinds["0xDormant"] != "endpoint" || kinds["0xS6"] != "seed" || len(kinds) != 2 {
		t.Errorf("second cluster shares %v", kinds)
	}
	if len(rep.Endpoints) != 2 || rep.Endpoints[0].Address != "0xHot" || len(rep.Endpoints[0].Cases) != 4 ||
		rep.Endpoints[0].Received[0].Amount != "12003" || rep.Endpoints[0].Received[0].Display != "12.003 ETH" {
		t.Errorf("endpoints = %+v", rep.Endpoints)
	}
	if len(rep.Failed) != 1 || rep.Failed[0] != (Failure{CaseID: "c7", Error: "seed received no value"}) {
		t.Errorf("failed = %+v", rep.Failed)
	}
	md := string(rep.Markdown())
	for _, want := range []string{"### 1. 3 cases tied", "| `ethereum:0xHot` | exchange | Exchange X | 4 | 12.003 ETH |", "| c7 | seed received no value |", "7 cases: 5 done, 1 partial, 1 failed"} {
		if !strings.Contains(md, want) {
			t.Errorf("batch-report.md lacks %q:\n%s", want, md)
		}
	}
}
