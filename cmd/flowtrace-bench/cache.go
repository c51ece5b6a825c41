package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/flowtrace/flowtrace/cache"
	"github.com/flowtrace/flowtrace/cache/bolt"
	"github.com/flowtrace/flowtrace/cache/memory"
	"github.com/flowtrace/flowtrace/cache/redis"
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/fixtures/synthnode"
	"github.com/flowtrace/flowtrace/tracer"
)

// cacheRows traces the 6-hop synthetic flow at lat per round trip twice
// through the hop cache, cold then warm, with each store. Redis is used at
// $REDIS_URL (default redis://127.0.0.1:6379/15) when it answers.
func cacheRows(ctx context.Context, t *Table, o options, lat time.Duration) error {
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
	dir, err := os.MkdirTemp("", "flowtrace-bench-bolt-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/15"
	}
	stores := []struct {
		name string
		open func() (cache.Store, error)
	}{
		{"memory", func() (cache.Store, error) { return memory.New(), nil }},
		{"bolt", func() (cache.Store, error) { return bolt.Open(dir, 5*time.Second, nil) }},
		{"redis", func() (cache.Store, error) { return redis.Open(ctx, redisURL) }},
	}
	// A fresh anchor per bench run keeps the cold runs cold in a shared store.
	anchor := strconv.FormatInt(time.Now().UnixNano(), 16)
	for _, s := range stores {
		store, err := s.open()
		if err != nil {
			t.add(Row{Section: "cache", Name: s.name + ": cold vs warm at " + lat.String(), Measured: "store unavailable: " + err.Error(),
				Bound: "warm >= 20x faster", Verdict: "info"})
			continue
		}
		var walls [2]time.Duration
		var reqs [2]int64
		for run := range walls {
			tr, wall, err := traceCached(ctx, srv.URL(), g, store, s.name+anchor)
			if err == nil {
				err = exact(tr, g)
			}
			if err != nil {
				store.Close()
				return fmt.Errorf("%s run %d: %w", s.name, run, err)
			}
			walls[run], reqs[run] = wall, tr.Stats.Requests
		}
		store.Close()
		speedup := float64(walls[0]) / float64(walls[1])
		t.add(Row{Section: "cache", Name: fmt.Sprintf("%s: cold vs warm, 6-hop synthetic at %s", s.name, lat),
			Measured: fmt.Sprintf("cold %s (%d req), warm %s (%d req): %.1fx", ms(walls[0]), reqs[0], ms(walls[1]), reqs[1], speedup),
			Bound:    "warm >= 20x faster", Verdict: verdict(speedup >= 20),
			Figures: map[string]float64{"cold_ms": msf(walls[0]), "warm_ms": msf(walls[1]), "speedup": speedup,
				"cold_requests": float64(reqs[0]), "warm_requests": float64(reqs[1])}})
	}
	return nil
}

// traceCached traces g through a cache in store, as the CLI wires it.
func traceCached(ctx context.Context, url string, g *synthnode.Graph, store cache.Store, anchor string) (*tracer.Trace, time.Duration, error) {
	src, err := dial(ctx, url, evm.NativeTraceFilter)
	if err != nil {
		return nil, 0, err
	}
	defer src.Close()
	var wrapped tracer.Source
	probe := func(ctx context.Context) error {
		info, err := src.Probe(ctx)
		if err != nil {
			return err
		}
		ch := cache.New(store, cache.Options{Chain: "dev", ChainKey: cache.ChainKey(info.ChainID.String(), info.GenesisHash, anchor), Final: info.Head})
		src.UseBlockStore(ch.Blocks())
		wrapped = ch.Wrap(src)
		return nil
	}
	began := time.Now()
	if err := probe(ctx); err != nil {
		return nil, 0, err
	}
	tr, err := tracer.Walk(ctx, wrapped, tracer.Options{Chain: "dev", Seeds: seedsOf(g.Seeds),
		Window: tracer.BlockRange{From: g.From, To: g.To}, Labels: g, MinValue: zero})
	return tr, time.Since(began), err
}
