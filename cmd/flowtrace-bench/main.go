// Command flowtrace-bench measures a trace against its physical limit, the
// node's round trips: requests and round trips per hop as the frontier
// grows, wall time at 50 ms per round trip against hops x dependent rounds,
// time and memory of a 100,000-address trace, export times, and the hop
// cache cold and warm. It prints one table and writes it as JSON.
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
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("flowtrace-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.out, "out", "out/bench.json", "write the table as JSON to this file")
	fs.IntVar(&o.latencyMS, "latency", 50, "added latency per HTTP round trip, in ms, for the latency rows")
	fs.IntVar(&o.scale, "scale", 100_000, "addresses of the scale trace (3 transfers each)")
	fs.BoolVar(&o.quick, "quick", false, "small sizes: a smoke run of every row")
	fs.StringVar(&o.child, "child", "", "internal: run one scale trace against this node URL and print its figures")
	if err := fs.Parse(args); err != nil {
		return 2
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
