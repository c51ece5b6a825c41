package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/flowtrace/flowtrace/cache"
	"github.com/flowtrace/flowtrace/cache/bolt"
	"github.com/flowtrace/flowtrace/cache/memory"
	"github.com/flowtrace/flowtrace/cache/redis"
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/fixtures/synthnode"
	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

// namedStore opens one kind of hop-cache store.
type namedStore struct {
	name string
	open func() (cache.Store, error)
}

// cacheStores are the stores the cache rows measure: memory, the embedded
// store in dir, and Redis at $REDIS_URL (default redis://127.0.0.1:6379/15)
// when it answers.
func cacheStores(ctx context.Context, dir string) []namedStore {
	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/15"
	}
	return []namedStore{
		{"memory", func() (cache.Store, error) { return memory.New(), nil }},
		{"bolt", func() (cache.Store, error) { return bolt.Open(dir, 5*time.Second, nil) }},
		{"redis", func() (cache.Store, error) { return redis.Open(ctx, redisURL) }},
	}
}

// cacheRows measures one case of the 6-hop synthetic flow at lat per round
// trip through the hop cache, cold then warm, with each store.
func cacheRows(ctx context.Context, t *Table, o options, lat time.Duration) error {
	dir, err := os.MkdirTemp("", "flowtrace-bench-bolt-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	return cacheRowsWith(ctx, t, o, lat, cacheStores(ctx, dir))
}

// timed is one measured trace: its wall and CPU time and the round trips the
// node saw.
type timed struct {
	wall, cpu  time.Duration
	roundTrips int64
	files      time.Duration // of wall: writing the four files, when the run wrote them
}

// cacheRowsWith adds three rows per store: a case as a batch worker traces it
// (the node identified once per worker, so a warm case asks the node
// nothing), as flowtrace trace does (each run identifies the chain: one
// round trip), and as flowtrace trace does including its four files
// (graph.WriteFiles into a temporary folder; graph.svg left out).
func cacheRowsWith(ctx context.Context, t *Table, o options, lat time.Duration, stores []namedStore) error {
	n := 3000
	if o.quick {
		n = 300
	}
	g := synthnode.Generate(synthnode.Config{Seed: 21, Addresses: n, Hops: 6})
	srv, err := synthnode.Start(g, synthnode.Options{Latency: lat, BatchLimit: 1000, MaxAddresses: 1000})
	if err != nil {
		return err
	}
	defer srv.Close()
	// A fresh anchor per bench run keeps the cold runs cold in a shared store
	// (an anchor counts up to 16 characters).
	anchor := strconv.FormatInt(time.Now().UnixNano(), 16)
	out, err := os.MkdirTemp("", "flowtrace-bench-out-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	// measure times trace, and writing its files when files is set.
	measure := func(trace func() (*tracer.Trace, error), files bool) (timed, error) {
		srv.ResetStats()
		began, cpu := time.Now(), cpuTime()
		tr, err := trace()
		walked := time.Now()
		if err == nil && files {
			var paths []string
			if paths, err = graph.WriteFiles(out, tr, graph.Meta{}, graph.DOTOptions{}); err == nil && len(paths) != 4 {
				err = fmt.Errorf("wrote %d files, want 4", len(paths))
			}
		}
		r := timed{wall: time.Since(began), cpu: cpuTime() - cpu, roundTrips: srv.Stats().RoundTrips}
		if files {
			r.files = time.Since(walked)
		}
		if err == nil {
			err = exact(tr, g)
		}
		return r, err
	}
	for _, s := range stores {
		store, err := s.open()
		if err != nil {
			t.add(Row{Section: "cache", Name: s.name + ": cold vs warm at " + lat.String(), Measured: "store unavailable: " + err.Error(),
				Bound: "warm >= 20x faster", Verdict: "info"})
			continue
		}
		// One cold run, then warmRuns re-runs: the row shows their median
		// (a warm run is CPU-bound, so it varies with the machine's load).
		var worker, fresh, files [1 + warmRuns]timed
		err = func() error {
			nd, err := openCached(ctx, srv.URL(), store, "w"+anchor)
			if err != nil {
				return err
			}
			defer nd.src.Close()
			for i := range worker {
				if worker[i], err = measure(func() (*tracer.Trace, error) { return nd.walk(ctx, g) }, false); err != nil {
					return fmt.Errorf("%s, worker run %d: %w", s.name, i, err)
				}
				nd.src.Forget() // as a worker does between cases
			}
			for i := range fresh {
				if fresh[i], err = measure(func() (*tracer.Trace, error) { return traceCached(ctx, srv.URL(), g, store, "t"+anchor) }, false); err != nil {
					return fmt.Errorf("%s, trace run %d: %w", s.name, i, err)
				}
			}
			for i := range files {
				if files[i], err = measure(func() (*tracer.Trace, error) { return traceCached(ctx, srv.URL(), g, store, "f"+anchor) }, true); err != nil {
					return fmt.Errorf("%s, trace and files run %d: %w", s.name, i, err)
				}
			}
			return nil
		}()
		store.Close()
		if err != nil {
			return err
		}
		t.add(cacheRow(fmt.Sprintf("%s: a case on a worker (chain identified once), cold vs warm, 6-hop synthetic at %s", s.name, lat), worker[:], 0))
		t.add(cacheRow(fmt.Sprintf("%s: flowtrace trace (identifies the chain each run), cold vs warm, 6-hop synthetic at %s", s.name, lat), fresh[:], 1))
		t.add(cacheRow(fmt.Sprintf("%s: flowtrace trace and its four files (graph.json, graph.dot, transfers.csv, report.md; no graph.svg), cold vs warm, 6-hop synthetic at %s", s.name, lat), files[:], 1))
	}
	return nil
}

// warmRuns is the number of warm re-runs a cache row takes the median of.
const warmRuns = 5

// cacheRow is the row of a cold run and its warm re-runs, each of which may
// make warmRoundTrips round trips.
func cacheRow(name string, runs []timed, warmRoundTrips int64) Row {
	cold, warm := runs[0], median(runs[1:])
	rt := int64(0)
	for _, r := range runs[1:] {
		rt = max(rt, r.roundTrips)
	}
	speedup := float64(cold.wall) / float64(warm.wall)
	measured := fmt.Sprintf("cold %s (%d round trips), warm %s (median of %d; at most %d round trips, CPU %s",
		ms(cold.wall), cold.roundTrips, ms(warm.wall), len(runs)-1, rt, ms(warm.cpu))
	if warm.files > 0 {
		measured += fmt.Sprintf("; the files %s of it", ms(warm.files))
	}
	row := Row{Section: "cache", Name: name,
		Measured: measured + fmt.Sprintf("): %.1fx", speedup),
		Bound:    fmt.Sprintf("warm >= 20x faster, %d round trips", warmRoundTrips),
		Verdict:  verdict(speedup >= 20 && rt == warmRoundTrips),
		Figures: map[string]float64{"cold_ms": msf(cold.wall), "warm_ms": msf(warm.wall), "speedup": speedup,
			"cold_round_trips": float64(cold.roundTrips), "warm_round_trips": float64(rt),
			"cold_cpu_ms": msf(cold.cpu), "warm_cpu_ms": msf(warm.cpu)}}
	if warm.files > 0 {
		row.Figures["cold_files_ms"], row.Figures["warm_files_ms"] = msf(cold.files), msf(warm.files)
	}
	return row
}

// median is the run of median wall time (the upper one of an even count).
func median(runs []timed) timed {
	s := slices.SortedFunc(slices.Values(runs), func(a, b timed) int { return cmp.Compare(a.wall, b.wall) })
	return s[len(s)/2]
}

// cachedNode is a Source identified once, with the hop cache in front, as
// a batch worker keeps its node between cases.
type cachedNode struct {
	src     *evm.Source
	wrapped tracer.Source
}

// openCached dials the node at url, identifies the chain and puts a cache in
// store in front of it, as the CLI wires it.
func openCached(ctx context.Context, url string, store cache.Store, anchor string) (*cachedNode, error) {
	src, err := dial(ctx, url, evm.NativeTraceFilter)
	if err != nil {
		return nil, err
	}
	info, err := src.Probe(ctx)
	if err != nil {
		src.Close()
		return nil, err
	}
	ch := cache.New(store, cache.Options{Chain: "dev", ChainKey: cache.ChainKey(info.ChainID.String(), info.GenesisHash, anchor), Final: info.Head})
	src.UseBlockStore(ch.Blocks())
	return &cachedNode{src: src, wrapped: ch.Wrap(src)}, nil
}

// walk traces g's seeds over its window on the node.
func (n *cachedNode) walk(ctx context.Context, g *synthnode.Graph) (*tracer.Trace, error) {
	return tracer.Walk(ctx, n.wrapped, tracer.Options{Chain: "dev", Seeds: seedsOf(g.Seeds),
		Window: tracer.BlockRange{From: g.From, To: g.To}, Labels: g, MinValue: zero})
}

// traceCached traces g as flowtrace trace does: dial, identify the chain,
// then walk through a cache in store.
func traceCached(ctx context.Context, url string, g *synthnode.Graph, store cache.Store, anchor string) (*tracer.Trace, error) {
	n, err := openCached(ctx, url, store, anchor)
	if err != nil {
		return nil, err
	}
	defer n.src.Close()
	return n.walk(ctx, g)
}
