package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/chains/evm/providers"
	"github.com/flowtrace/flowtrace/fixtures/synthnode"
	"github.com/flowtrace/flowtrace/tracer"
)

// providerNode is a node with a provider's limits and words: batches of at
// most 100 (refused with one error object), log and trace ranges of at most
// 10,000 blocks (refused in QuickNode's words), answers of at most 10,000
// entries.
func providerNode(lat time.Duration) synthnode.Options {
	return synthnode.Options{Latency: lat, MaxAddresses: 1000, BatchLimit: 100, MaxRange: 10_000, MaxResults: 10_000,
		Refusals: &synthnode.Refusals{Batch: providers.ByName("geth-batch"), Range: providers.ByName("quicknode-range")}}
}

// maxConcurrent is the round trips in flight per endpoint (evm's default).
const maxConcurrent = 4

// latencyProviders traces the 6-hop synthetic flow spread one transaction
// per block (a window wider than the range limit) on a node behind
// provider-like limits with lat per round trip, against limitedRounds plus
// one round per limit learned from its refusal. The same flow on a node
// without limits is traced first, in the same run, for comparison on a
// shared machine (each row notes the 1-minute load average after it, and
// the CPU time of the process, node included, during the trace).
func latencyProviders(ctx context.Context, t *Table, o options, lat time.Duration) error {
	n := 3000
	if o.quick {
		n = 300
	}
	g := synthnode.Generate(synthnode.Config{Seed: 21, Addresses: n, Transfers: 4 * n, Hops: 6, TxPerBlock: 1})
	free, err := synthnode.Start(g, synthnode.Options{Latency: lat, BatchLimit: 1000, MaxAddresses: 1000})
	if err != nil {
		return err
	}
	cpu0 := cpuTime()
	tr, wall, err := traceGraph(ctx, free.URL(), g, evm.NativeTraceFilter)
	cpu := cpuTime() - cpu0
	if err == nil {
		err = exact(tr, g)
	}
	free.Close()
	if err != nil {
		return err
	}
	latencyRow(t, fmt.Sprintf("6-hop synthetic, %d addresses over %d blocks, no limits (the row below without them)", n, g.To-g.From+1),
		tr, wall, lat, free.Stats().RoundTrips)
	noteLoad(&t.Rows[len(t.Rows)-1], cpu)

	opts := providerNode(lat)
	srv, err := synthnode.Start(g, opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	cpu0 = cpuTime()
	tr, wall, err = traceGraph(ctx, srv.URL(), g, evm.NativeTraceFilter)
	cpu = cpuTime() - cpu0
	if err == nil {
		err = exact(tr, g)
	}
	if err != nil {
		return err
	}
	learned := 1 // the batch limit
	if g.To-g.From+1 > opts.MaxRange {
		learned++
	}
	rounds := limitedRounds(tr, opts.BatchLimit*maxConcurrent)
	bound := time.Duration(rounds+learned) * lat
	rt := srv.Stats().RoundTrips
	ideal := (tr.Stats.Requests + int64(opts.BatchLimit) - 1) / int64(opts.BatchLimit)
	t.add(Row{
		Section:  "latency",
		Name:     fmt.Sprintf("6-hop synthetic, %d addresses over %d blocks, provider limits (batch 100, 10,000 blocks, 10,000 results)", n, g.To-g.From+1),
		Measured: fmt.Sprintf("%s, %d hops, %d req / %d HTTP (>= %d at 100 per batch)", ms(wall), hops(tr), tr.Stats.Requests, rt, ideal),
		Bound:    fmt.Sprintf("%s (%d rounds + %d to learn the limits, x %s); target <= 1.5x", ms(bound), rounds, learned, lat),
		Verdict:  verdict(float64(wall) <= 1.5*float64(bound)) + fmt.Sprintf(" (%.2fx)", float64(wall)/float64(bound)),
		Figures: map[string]float64{"wall_ms": msf(wall), "bound_ms": msf(bound), "hops": float64(hops(tr)),
			"requests": float64(tr.Stats.Requests), "round_trips": float64(rt), "round_trips_min": float64(ideal)},
	})
	noteLoad(&t.Rows[len(t.Rows)-1], cpu)
	return nil
}

// cpuTime is the CPU time (user and system) of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// noteLoad adds the CPU time of a measurement and the 1-minute load
// average, read now, to its row.
func noteLoad(r *Row, cpu time.Duration) {
	r.Measured += ", CPU " + ms(cpu)
	r.Figures["cpu_ms"] = msf(cpu)
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return
	}
	load, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return
	}
	r.Measured += fmt.Sprintf(", load %.2f", load)
	r.Figures["load1"] = load
}

// limitedRounds is roundsBound when a round carries at most perRound
// requests (the batch limit times the round trips in flight): a level's
// last dependent round (the descriptions, the bulk of its requests) takes
// as many waves as its requests need.
func limitedRounds(tr *tracer.Trace, perRound int) int {
	n := 1 // the probe
	for i, l := range tr.Levels {
		dep := 2 // inflows (or transfers), then descriptions
		if i > 0 && l.NewAddresses == 0 {
			dep = 1
		}
		waves := int((l.Usage.Requests + int64(perRound) - 1) / int64(perRound))
		n += dep - 1 + max(1, waves)
	}
	return n
}
