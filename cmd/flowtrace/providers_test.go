package main

import (
	"slices"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/chains/rpcfault"
)

// TestTraceThroughProviders traces the scenario through the fault proxy in
// each provider class (batches refused or cut short in the ways providers
// do, each provider's range, result and rate limits in its own words) and
// wants the fault-free outputs.
func TestTraceThroughProviders(t *testing.T) {
	fc := startFaultCase(t)
	for _, c := range rpcfault.Providers() {
		if slices.Contains(rpcfault.TraceFilterClasses(), c) {
			continue // the dev node serves no trace_filter: chains/evm TestTraceFilterPaged
		}
		t.Run(string(c), func(t *testing.T) {
			t.Parallel() // the classes' waits (Retry-After) overlap
			p := fc.traceThrough(t, rpcfault.Options{
				Classes:  []rpcfault.Class{c},
				MaxBatch: 3, MaxRange: 4, MaxResults: 4, // the scenario's busiest single-block answer
				RetryAfter: 100 * time.Millisecond, // the wait rate limits state in their data
			})
			if p.Counts()[c] == 0 {
				t.Errorf("class %s refused nothing in %d requests", c, p.Requests())
			}
			t.Logf("%d requests, %v", p.Requests(), p.Counts())
		})
	}
}
