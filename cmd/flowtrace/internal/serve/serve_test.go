package serve

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeCase writes a graph.json of n nodes into dir.
func writeCase(t *testing.T, dir string, n int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	nodes := make([]map[string]any, n)
	for i := range nodes {
		nodes[i] = map[string]any{"address": i}
	}
	data, _ := json.Marshal(map[string]any{"case": filepath.Base(dir), "nodes": nodes, "edges": []any{}, "stats": map[string]string{"stop_reason": "complete"}})
	if err := os.WriteFile(filepath.Join(dir, GraphFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBatchFolderListsCases(t *testing.T) {
	dir := t.TempDir()
	writeCase(t, filepath.Join(dir, "cases", "b"), 3)
	writeCase(t, filepath.Join(dir, "cases", "a"), 2)
	os.MkdirAll(filepath.Join(dir, "cases", "empty"), 0o755) // no graph.json: not a case
	s, err := New(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	defer hs.Close()
	resp, err := http.Get(hs.URL + "/api/cases")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rows []caseSummary
	json.NewDecoder(resp.Body).Decode(&rows)
	if len(rows) != 2 || rows[0].ID != "a" || rows[0].Nodes != 2 || rows[1].ID != "b" || rows[1].Nodes != 3 {
		t.Errorf("cases = %+v, want a (2 nodes) and b (3 nodes)", rows)
	}
	if r, _ := http.Get(hs.URL + "/api/cases/empty/graph"); r.StatusCode != http.StatusNotFound {
		t.Errorf("a folder without graph.json answers %d, want 404", r.StatusCode)
	}
}

func TestNoTrace(t *testing.T) {
	if _, err := New(Options{Dir: t.TempDir()}); !errors.Is(err, ErrNoTrace) {
		t.Errorf("an empty folder gives %v, want ErrNoTrace", err)
	}
}

func TestLoopbackAndHost(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:7474": true, "localhost:1": true, "[::1]:80": true, "0.0.0.0:7474": false, ":7474": false, "192.168.1.2:80": false} {
		if got := Loopback(addr); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", addr, got, want)
		}
	}
	for host, want := range map[string]bool{"127.0.0.1:7474": true, "localhost:7474": true, "[::1]:7474": true, "evil.example:7474": false, "127.0.0.1.nip.io": false} {
		if got := allowedHost(host); got != want {
			t.Errorf("allowedHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestLabelRefusedLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	writeCase(t, dir, 1)
	s, err := New(Options{Dir: dir, Token: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	defer hs.Close()
	post := func(body string) int {
		req, _ := http.NewRequest("POST", hs.URL+"/api/cases/"+filepath.Base(dir)+"/labels", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(TokenHeader, "t0ken")
		req.AddCookie(&http.Cookie{Name: cookieName, Value: "t0ken"})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, body := range []string{
		`{"chain":"dev","address":"not-an-address","label":"x","category":"other"}`,
		`{"chain":"dev","address":"0x084E974C859A7d2b30F09005326BFbe3B727cF17","label":"x","category":"villain"}`,
		`{"chain":"dev","address":"0x084E974C859A7d2b30F09005326BFbe3B727cF17","label":"","category":"other"}`,
		`not json`,
	} {
		if code := post(body); code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", body, code)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, LabelFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused label wrote %s (%v)", LabelFile, err)
	}
	if code := post(`{"chain":"dev","address":"0x084E974C859A7d2b30F09005326BFbe3B727cF17","label":"line\nbreak, \"quoted\"","category":"mixer"}`); code != http.StatusOK {
		t.Fatalf("a good label: status %d", code)
	}
	rows, err := readLabels(dir)
	if err != nil || len(rows) != 1 || rows[0].Label != `line break, "quoted"` || rows[0].Category != "mixer" || rows[0].Source != "analyst" {
		t.Errorf("labels.csv rows = %+v (%v)", rows, err)
	}
}

func TestSecurityHeaders(t *testing.T) {
	dir := t.TempDir()
	writeCase(t, dir, 1)
	s, err := New(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CSP %q, CORS %q", csp, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	if !strings.Contains(rec.Body.String(), s.Token()) || !strings.Contains(rec.Header().Get("Set-Cookie"), "SameSite=Strict") {
		t.Error("the page lacks its session token or the SameSite cookie")
	}
}

// TestDefaultExplorersFromRegistry: the links come from the chain registry;
// a chain it gives no explorer (dev) or does not list (Bitcoin) has none.
func TestDefaultExplorersFromRegistry(t *testing.T) {
	ex := DefaultExplorers()
	if got, want := ex["ethereum"], (Explorer{Tx: "https://etherscan.io/tx/{tx}", Address: "https://etherscan.io/address/{address}"}); got != want {
		t.Errorf("ethereum explorer %+v, want %+v", got, want)
	}
	for _, chain := range []string{"dev", "bitcoin", "bitcoin-regtest"} {
		if e, ok := ex[chain]; ok {
			t.Errorf("%s has explorer %+v, want none (the registry gives none)", chain, e)
		}
	}
}
