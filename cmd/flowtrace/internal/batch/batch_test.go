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
