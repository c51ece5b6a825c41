package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/cache"
	"github.com/flowtrace/flowtrace/cache/memory"
	"github.com/flowtrace/flowtrace/fixtures/synthnode"
)

// TestCacheRowsRoundTrips: a warm case asks the node nothing on a worker's
// identified node, and only the chain's identity (one round trip) as
// flowtrace trace, with or without writing its four files; all trace
// exactly the planted flow, cold and warm.
func TestCacheRowsRoundTrips(t *testing.T) {
	tb := &Table{}
	stores := []namedStore{{"memory", func() (cache.Store, error) { return memory.New(), nil }}}
	if err := cacheRowsWith(t.Context(), tb, options{quick: true}, time.Millisecond, stores); err != nil {
		t.Fatal(err) // includes a trace that missed a planted address
	}
	if len(tb.Rows) != 3 {
		t.Fatalf("%d rows, want a worker row, a trace row and a trace-and-files row", len(tb.Rows))
	}
	if _, ok := tb.Rows[2].Figures["warm_files_ms"]; !ok || !strings.Contains(tb.Rows[2].Measured, "the files") {
		t.Errorf("%s: %s; want the files' share of the warm run", tb.Rows[2].Name, tb.Rows[2].Measured)
	}
	for i, want := range []float64{0, 1, 1} {
		f := tb.Rows[i].Figures
		if f["warm_round_trips"] != want || f["cold_round_trips"] <= want+5 {
			t.Errorf("%s: %v round trips cold, %v warm; want many cold, %v warm", tb.Rows[i].Name, f["cold_round_trips"], f["warm_round_trips"], want)
		}
	}
}

// BenchmarkWarmCase is the CPU of one warm case on a worker's node: the
// 6-hop synthetic flow of 3,000 addresses, every hop in the cache, no
// latency. It reports the node's round trips per case (0 when warm).
func BenchmarkWarmCase(b *testing.B) {
	ctx := context.Background()
	g := synthnode.Generate(synthnode.Config{Seed: 21, Addresses: 3000, Hops: 6})
	srv, err := synthnode.Start(g, synthnode.Options{BatchLimit: 1000, MaxAddresses: 1000})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	nd, err := openCached(ctx, srv.URL(), memory.New(), strconv.FormatInt(time.Now().UnixNano(), 16))
	if err != nil {
		b.Fatal(err)
	}
	defer nd.src.Close()
	if _, err := nd.walk(ctx, g); err != nil { // cold: fills the cache
		b.Fatal(err)
	}
	srv.ResetStats()
	cpu, cases := cpuTime(), 0
	for b.Loop() {
		nd.src.Forget()
		tr, err := nd.walk(ctx, g)
		if err == nil {
			err = exact(tr, g)
		}
		if err != nil {
			b.Fatal(err)
		}
		cases++
	}
	b.ReportMetric(float64(srv.Stats().RoundTrips)/float64(cases), "round-trips/op")
	b.ReportMetric(msf(cpuTime()-cpu)/float64(cases), "cpu-ms/op")
}
