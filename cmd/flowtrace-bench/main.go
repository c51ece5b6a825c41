// Command flowtrace-bench measures a trace against its physical limit, the
// node's round trips: requests and round trips per hop as the frontier
// grows, wall time at 50 ms per round trip against hops x dependent rounds,
// time and memory of a 100,000-address trace, export times, the writing of
// every output of a 3,000-address trace (graph.svg included), and the hop
// cache cold and warm (the walk alone, and with the four files written).
// It prints one table and writes it as JSON.
//
// It runs against fixtures/synthnode (generated flows) and the in-process
// dev node (the recorded scenario), never a remote node.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the flags.
type options struct {
	out       string
	latencyMS int
	scale     int  // addresses of the scale trace
	quick     bool // small sizes (tests)
	child     string
	render    int    // only the render row, on a trace of this many addresses
	providers bool   // only the provider-limits rows
	cpuprof   string // write a CPU profile of the run here
	btcScan   int    // only the Bitcoin block scan row, over this many blocks
	cacheOnly bool   // only the hop cache rows

	batchCases   int
	batchLarge   int
	batchConc    int
	batchWorkers string
	batchLatency time.Duration
	redis        string
	flowtrace    string
}

// runBatchBench runs only the batch measurement and prints its table.
func runBatchBench(ctx context.Context, o options, stdout, stderr io.Writer) int {
	b := batchBench{cases: o.batchCases, large: o.batchLarge, concurrency: o.batchConc, latency: o.batchLatency, redis: o.redis, bin: o.flowtrace}
	for _, s := range strings.Split(o.batchWorkers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "flowtrace-bench: --batch-workers %q: want counts like 1,2,4\n", o.batchWorkers)
			return 2
		}
		b.workers = append(b.workers, n)
	}
	return runRows(o, stdout, stderr, func(t *Table) error {
		if err := b.run(ctx, t, stderr); err != nil {
			return err
		}
		// The cost of one case beside the batch: a warm re-run against a cold one.
		return cacheRows(ctx, t, o, 50*time.Millisecond)
	})
}

// runRows measures only the rows fill adds, prints the table and saves it
// to o.out (when set).
func runRows(o options, stdout, stderr io.Writer, fill func(t *Table) error) int {
	t := &Table{Started: time.Now()}
	if err := fill(t); err != nil {
		fmt.Fprintln(stderr, "flowtrace-bench:", err)
		return 1
	}
	t.Elapsed = time.Since(t.Started)
	t.Load, _ = os.ReadFile("/proc/loadavg")
	t.print(stdout)
	if err := t.save(o.out); err != nil {
		fmt.Fprintln(stderr, "flowtrace-bench:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("flowtrace-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.out, "out", "out/bench.json", "write the table as JSON to this file")
	fs.IntVar(&o.latencyMS, "latency", 50, "added latency per HTTP round trip, in ms, for the latency rows")
	fs.IntVar(&o.scale, "scale", 100_000, "addresses of the scale trace (3 transfers each)")
	fs.BoolVar(&o.quick, "quick", false, "small sizes: a smoke run of every row")
	fs.IntVar(&o.render, "render", 0, "instead of the table: measure only the writing of every output of a trace of this many addresses")
	fs.BoolVar(&o.providers, "providers", false, "instead of the table: measure only the provider-limits row and the same flow without limits")
	fs.BoolVar(&o.cacheOnly, "cache-only", false, "instead of the table: measure only the hop cache rows (a case cold and warm, on a worker, as flowtrace trace, and as flowtrace trace with its four files)")
	fs.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile of the measurement to this file (go tool pprof)")
	fs.StringVar(&o.child, "child", "", "internal: run one scale trace against this node URL and print its figures")
	fs.IntVar(&o.batchCases, "batch", 0, "instead of the table: measure `flowtrace batch --queue` on this many cases")
	fs.StringVar(&o.batchWorkers, "batch-workers", "1,2,4", "worker process counts of the batch measurement")
	fs.IntVar(&o.batchLarge, "batch-large", 0, "also measure this many cases with the largest worker count (0: not)")
	fs.IntVar(&o.batchConc, "batch-concurrency", 1, "cases each worker process traces at once")
	fs.DurationVar(&o.batchLatency, "batch-latency", 20*time.Millisecond, "added latency per round trip of the batch measurement")
	fs.StringVar(&o.redis, "redis", "redis://127.0.0.1:6379/0", "Redis for the batch queue and cache (no ?prefix)")
	fs.StringVar(&o.flowtrace, "flowtrace", "bin/flowtrace", "the flowtrace binary the batch and render measurements run")
	fs.IntVar(&o.btcScan, "btc-scan", 0, "instead of the table: measure only the Bitcoin block scan over this many synthetic mainnet-sized blocks (1440: ten days)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.cpuprof != "" {
		f, err := os.Create(o.cpuprof)
		if err != nil {
			fmt.Fprintln(stderr, "flowtrace-bench: --cpuprofile:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "flowtrace-bench: --cpuprofile:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if o.btcScan > 0 {
		return runBTCScanBench(ctx, o, stdout, stderr)
	}
	if o.batchCases > 0 {
		return runBatchBench(ctx, o, stdout, stderr)
	}
	if o.render > 0 {
		t := &Table{Started: time.Now()}
		if err := renderRow(ctx, t, o.flowtrace, o.render); err != nil {
			fmt.Fprintln(stderr, "flowtrace-bench:", err)
			return 1
		}
		t.Elapsed = time.Since(t.Started)
		t.Load, _ = os.ReadFile("/proc/loadavg")
		t.print(stdout)
		return 0
	}
	if o.cacheOnly {
		return runRows(o, stdout, stderr, func(t *Table) error {
			return cacheRows(ctx, t, o, time.Duration(o.latencyMS)*time.Millisecond)
		})
	}
	if o.providers {
		return runRows(o, stdout, stderr, func(t *Table) error {
			return latencyProviders(ctx, t, o, time.Duration(o.latencyMS)*time.Millisecond)
		})
	}
	if o.child != "" {
		if err := runChild(ctx, o.child, fs.Args(), stdout); err != nil {
			fmt.Fprintln(stderr, "flowtrace-bench child:", err)
			return 1
		}
		return 0
	}
	if o.latencyMS <= 0 || o.scale < 100 {
		fmt.Fprintln(stderr, "flowtrace-bench: --latency must be > 0 and --scale >= 100")
		return 2
	}
	t, err := measure(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "flowtrace-bench:", err)
		return 1
	}
	t.print(stdout)
	if err := t.save(o.out); err != nil {
		fmt.Fprintln(stderr, "flowtrace-bench:", err)
		return 1
	}
	fmt.Fprintf(stderr, "flowtrace-bench: table written to %s\n", o.out)
	return 0
}
