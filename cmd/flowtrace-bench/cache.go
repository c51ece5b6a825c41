package main

import (
	"context"
	"time"
)

// cacheRows measures cold against warm runs with each cache store.
func cacheRows(ctx context.Context, t *Table, o options, lat time.Duration) error {
	t.add(Row{Section: "cache", Name: "cold vs warm at 50 ms, each store", Measured: "cache not landed",
		Bound: "warm >= 20x faster", Verdict: "info"})
	return nil
}
