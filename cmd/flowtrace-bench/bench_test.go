package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/tracer"
)

func TestRoundsBound(t *testing.T) {
	tr := &tracer.Trace{Levels: []tracer.LevelStats{{Level: 0}, {Level: 1, NewAddresses: 3}, {Level: 2, NewAddresses: 1}, {Level: 3}}}
	// probe + inflows + token metadata, then 2 + 2 + 1.
	if got := roundsBound(tr); got != 8 {
		t.Errorf("roundsBound = %d, want 8", got)
	}
}

func TestLimitedRounds(t *testing.T) {
	tr := &tracer.Trace{Levels: []tracer.LevelStats{{Level: 0, Usage: tracer.Usage{Requests: 10}},
		{Level: 1, NewAddresses: 3, Usage: tracer.Usage{Requests: 900}}, {Level: 2, Usage: tracer.Usage{Requests: 50}}}}
	// probe, then 2, 1 + 3 waves of 400, 1.
	if got := limitedRounds(tr, 400); got != 1+2+4+1 {
		t.Errorf("limitedRounds = %d, want 8", got)
	}
}

func TestPeakRSS(t *testing.T) {
	b, err := peakRSS()
	if err != nil || b < 1<<20 {
		t.Fatalf("peakRSS = %v, %v; want at least 1 MiB", b, err)
	}
}

func TestTablePrintAndSave(t *testing.T) {
	tb := &Table{}
	tb.add(Row{Section: "latency", Name: "x", Measured: "1s", Bound: "2s", Verdict: verdict(true)})
	tb.add(Row{Section: "scale", Name: "y", Measured: "3s", Bound: "2s", Verdict: verdict(false)})
	var out bytes.Buffer
	tb.print(&out)
	if !strings.Contains(out.String(), "latency") || !strings.Contains(out.String(), "MISS") {
		t.Errorf("table:\n%s", out.String())
	}
	path := filepath.Join(t.TempDir(), "sub", "bench.json")
	if err := tb.save(path); err != nil {
		t.Fatal(err)
	}
	var back Table
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &back); err != nil || len(back.Rows) != 2 || back.Rows[1].Verdict != "MISS" {
		t.Errorf("saved %s (%v)", data, err)
	}
}

func TestUsage(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(t.Context(), []string{"--latency", "0"}, &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), "--latency") {
		t.Errorf("exit %d, %q", code, stderr.String())
	}
}

func TestNoteLoad(t *testing.T) {
	r := Row{Measured: "1s", Figures: map[string]float64{}}
	noteLoad(&r, 1500*time.Millisecond)
	if load, ok := r.Figures["load1"]; !ok || load < 0 || r.Figures["cpu_ms"] != 1500 || !strings.HasPrefix(r.Measured, "1s, CPU 1.5s, load ") {
		t.Errorf("row %+v: want the CPU time and the 1-minute load average noted", r)
	}
}

// --providers measures the provider-limits row and the same flow without
// limits, and only those.
func TestProvidersOnly(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"--providers", "--quick", "--latency", "1", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var tb Table
	data, _ := os.ReadFile(out)
	if err := json.Unmarshal(data, &tb); err != nil || len(tb.Rows) != 2 {
		t.Fatalf("saved %s (%v); want 2 rows", data, err)
	}
	if !strings.Contains(tb.Rows[0].Name, "no limits") || !strings.Contains(tb.Rows[1].Name, "provider limits") {
		t.Errorf("rows %q, %q", tb.Rows[0].Name, tb.Rows[1].Name)
	}
	if f := tb.Rows[1].Figures; f["round_trips_min"] <= 0 || f["round_trips"] < f["round_trips_min"] {
		t.Errorf("%v round trips behind the limits, fewer than the %v their batches need", f["round_trips"], f["round_trips_min"])
	}
	for _, r := range tb.Rows {
		if _, ok := r.Figures["load1"]; !ok || r.Figures["cpu_ms"] <= 0 {
			t.Errorf("row %q: figures %v; want the load average and the CPU time", r.Name, r.Figures)
		}
	}
}
