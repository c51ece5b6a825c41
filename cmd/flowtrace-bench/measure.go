package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/fixtures/devnode"
	"github.com/flowtrace/flowtrace/fixtures/latency"
	"github.com/flowtrace/flowtrace/fixtures/scenario"
	"github.com/flowtrace/flowtrace/fixtures/synthnode"
	"github.com/flowtrace/flowtrace/tracer"
)

// measure runs every section and returns the table.
func measure(ctx context.Context, o options, log io.Writer) (*Table, error) {
	t := &Table{Started: time.Now()}
	lat := time.Duration(o.latencyMS) * time.Millisecond
	logf := func(format string, args ...any) { fmt.Fprintf(log, "flowtrace-bench: "+format+"\n", args...) }

	logf("round trips per hop")
	if err := roundTrips(ctx, t, o, lat); err != nil {
		return nil, fmt.Errorf("round trips: %w", err)
	}
	logf("latency: dev-theft scenario on the dev node behind %s", lat)
	if err := latencyScenario(ctx, t, lat); err != nil {
		return nil, fmt.Errorf("latency, scenario: %w", err)
	}
	logf("latency: 6-hop synthetic trace at %s", lat)
	if err := latencySynthetic(ctx, t, o, lat); err != nil {
		return nil, fmt.Errorf("latency, synthetic: %w", err)
	}
	logf("latency: 6-hop synthetic trace behind provider limits at %s", lat)
	if err := latencyProviders(ctx, t, o, lat); err != nil {
		return nil, fmt.Errorf("latency, provider limits: %w", err)
	}
	sizes := []int{o.scale / 10, o.scale}
	if o.quick {
		sizes = []int{1000, 3000}
	}
	for _, n := range sizes {
		logf("scale: %d addresses, %d transfers", n, 3*n)
		if err := scale(ctx, t, n); err != nil {
			return nil, fmt.Errorf("scale %d: %w", n, err)
		}
	}
	logf("render: all outputs of a 3,000-address trace with %s", o.flowtrace)
	if err := renderRow(ctx, t, o.flowtrace, 3000); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	logf("cache")
	if err := cacheRows(ctx, t, o, lat); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	t.Elapsed = time.Since(t.Started)
	t.Load, _ = os.ReadFile("/proc/loadavg")
	return t, nil
}

// dial opens a Source with the CLI's defaults (batches of 100, 4 round trips in
// flight, recipients described ahead).
func dial(ctx context.Context, url string, native evm.NativeMode) (*evm.Source, error) {
	src, err := evm.Dial(ctx, url, evm.Options{Chain: "dev", Native: native})
	if err == nil {
		src.DescribeAhead()
	}
	return src, err
}

var zero, _ = tracer.ParseThreshold("0")

// walk probes the node and traces; the time includes the probe.
func walk(ctx context.Context, src tracer.Source, probe func(context.Context) error, opts tracer.Options) (*tracer.Trace, time.Duration, error) {
	began := time.Now()
	if err := probe(ctx); err != nil {
		return nil, 0, err
	}
	opts.MinValue = zero
	tr, err := tracer.Walk(ctx, src, opts)
	return tr, time.Since(began), err
}

// roundsBound is the dependent round trips a trace cannot do without: the
// probe, the seeds' inflows then their tokens' metadata, and per hop the
// transfers of the frontier then the classification of the new addresses
// (a hop that finds no new address needs only the first).
func roundsBound(tr *tracer.Trace) int {
	n := 3
	for _, l := range tr.Levels[1:] {
		if l.NewAddresses > 0 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func hops(tr *tracer.Trace) int { return len(tr.Levels) - 1 }

// roundTrips measures one hop (transfers of the frontier, then the
// description of the new counterparties) for growing frontiers.
func roundTrips(ctx context.Context, t *Table, o options, lat time.Duration) error {
	n := 20_000
	if o.quick {
		n = 2_000
	}
	g := synthnode.Generate(synthnode.Config{Seed: 11, Addresses: n, Hops: 4})
	srv, err := synthnode.Start(g, synthnode.Options{Latency: lat, BatchLimit: 1000, MaxAddresses: 1000})
	if err != nil {
		return err
	}
	defer srv.Close()
	window := tracer.BlockRange{From: g.From, To: g.To}
	for _, f := range []int{10, 100, 1000, 10000} {
		if f > len(g.Stolen) {
			break
		}
		src, err := dial(ctx, srv.URL(), evm.NativeTraceFilter)
		if err != nil {
			return err
		}
		if _, err := src.Probe(ctx); err != nil {
			return err
		}
		srv.ResetStats()
		frontier := make([]tracer.Address, f)
		in := map[tracer.Address]bool{}
		for i, a := range g.Stolen[:f] {
			frontier[i] = tracer.Address(a.Hex())
			in[frontier[i]] = true
		}
		began := time.Now()
		ts, err := src.Transfers(ctx, tracer.TransferQuery{Direction: tracer.Outgoing, Addresses: frontier, Window: window})
		if err != nil {
			return err
		}
		var fresh []tracer.Address
		for _, x := range ts {
			if !in[x.To] {
				in[x.To] = true
				fresh = append(fresh, x.To)
			}
		}
		if _, err := src.Describe(ctx, fresh, nil); err != nil {
			return err
		}
		wall := time.Since(began)
		src.Close()
		st := srv.Stats()
		per := int64(math.Ceil(float64(f) / 1000))
		logs, tf := st.ByMethod["eth_getLogs"], st.ByMethod["trace_filter"]
		rounds := float64(wall) / float64(lat)
		t.add(Row{
			Section: "round trips",
			Name:    fmt.Sprintf("one hop, frontier %d (%d transfers, %d new)", f, len(ts), len(fresh)),
			Measured: fmt.Sprintf("%d req / %d HTTP; getLogs %d, trace_filter %d, getTxByHash %d, getCode %d; %.1f rounds",
				st.Requests, st.RoundTrips, logs, tf, st.ByMethod["eth_getTransactionByHash"], st.ByMethod["eth_getCode"], rounds),
			Bound:   fmt.Sprintf("getLogs, trace_filter <= %d each; 2 rounds", per),
			Verdict: verdict(logs <= per && tf <= per) + roundsNote(rounds, 2),
			Figures: map[string]float64{"frontier": float64(f), "requests": float64(st.Requests), "round_trips": float64(st.RoundTrips),
				"eth_getLogs": float64(logs), "trace_filter": float64(tf), "rounds": rounds, "wall_ms": msf(wall)},
		})
	}
	return nil
}

func roundsNote(rounds float64, bound int) string {
	if rounds <= 1.5*float64(bound) {
		return ""
	}
	return fmt.Sprintf(" (rounds %.1fx)", rounds/float64(bound))
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencyRow compares a trace's wall time with hops x dependent rounds x latency.
func latencyRow(t *Table, name string, tr *tracer.Trace, wall, lat time.Duration, roundTrips int64) {
	rounds := roundsBound(tr)
	bound := time.Duration(rounds) * lat
	t.add(Row{
		Section:  "latency",
		Name:     name,
		Measured: fmt.Sprintf("%s, %d hops, %d req / %d HTTP", ms(wall), hops(tr), tr.Stats.Requests, roundTrips),
		Bound:    fmt.Sprintf("%s (%d rounds x %s); target <= 1.5x", ms(bound), rounds, lat),
		Verdict:  verdict(float64(wall) <= 1.5*float64(bound)) + fmt.Sprintf(" (%.2fx)", float64(wall)/float64(bound)),
		Figures: map[string]float64{"wall_ms": msf(wall), "bound_ms": msf(bound), "hops": float64(hops(tr)),
			"requests": float64(tr.Stats.Requests), "round_trips": float64(roundTrips)},
	})
}

// latencyScenario plays the dev-theft scenario on the in-process dev node and
// traces it through a proxy that adds lat to every round trip.
func latencyScenario(ctx context.Context, t *Table, lat time.Duration) error {
	node, err := devnode.Start(devnode.Options{Alloc: scenario.DevAlloc()})
	if err != nil {
		return err
	}
	defer node.Close()
	truth, err := scenario.Play(ctx, scenario.NewDevChain(node), scenario.Config{})
	if err != nil {
		return err
	}
	proxy, err := latency.Start(node.URL(), lat)
	if err != nil {
		return err
	}
	defer proxy.Close()
	reg := labels.New()
	if err := reg.ReadCSV(bytes.NewReader(truth.LabelsCSV())); err != nil {
		return err
	}
	src, err := dial(ctx, proxy.URL, evm.NativeAuto)
	if err != nil {
		return err
	}
	defer src.Close()
	var seeds []tracer.Address
	for _, s := range truth.Seeds {
		seeds = append(seeds, tracer.Address(s))
	}
	tr, wall, err := walk(ctx, src, probeOf(src), tracer.Options{Chain: truth.Chain, Seeds: seeds,
		Window: tracer.BlockRange{From: truth.FromBlock, To: truth.ToBlock}, Labels: reg})
	if err != nil {
		return err
	}
	if err := truth.Check(nodeAddrs(tr)); err != nil {
		return fmt.Errorf("the trace does not match the scenario: %w", err)
	}
	latencyRow(t, "dev-theft scenario, dev node (block scan)", tr, wall, lat, proxy.RoundTrips())
	return nil
}

func probeOf(src *evm.Source) func(context.Context) error {
	return func(ctx context.Context) error { _, err := src.Probe(ctx); return err }
}

func nodeAddrs(tr *tracer.Trace) []string {
	var out []string
	for _, n := range tr.Nodes {
		out = append(out, string(n.Address))
	}
	return out
}

// latencySynthetic traces a 6-hop synthetic flow on a node with lat per round trip.
func latencySynthetic(ctx context.Context, t *Table, o options, lat time.Duration) error {
	n := 3000
	if o.quick {
		n = 300
	}
	g := synthnode.Generate(synthnode.Config{Seed: 21, Addresses: n, Hops: 6})
	for _, native := range []evm.NativeMode{evm.NativeTraceFilter, evm.NativeBlockScan} {
		srv, err := synthnode.Start(g, synthnode.Options{Latency: lat, BatchLimit: 1000, MaxAddresses: 1000})
		if err != nil {
			return err
		}
		tr, wall, err := traceGraph(ctx, srv.URL(), g, native)
		if err == nil {
			err = exact(tr, g)
		}
		srv.Close()
		if err != nil {
			return err
		}
		latencyRow(t, fmt.Sprintf("6-hop synthetic, %d addresses (%s)", n, native), tr, wall, lat, srv.Stats().RoundTrips)
	}
	return nil
}

// traceGraph traces a generated flow from its seeds over its window.
func traceGraph(ctx context.Context, url string, g *synthnode.Graph, native evm.NativeMode) (*tracer.Trace, time.Duration, error) {
	src, err := dial(ctx, url, native)
	if err != nil {
		return nil, 0, err
	}
	defer src.Close()
	return walk(ctx, src, probeOf(src), tracer.Options{Chain: "dev", Seeds: seedsOf(g.Seeds),
		Window: tracer.BlockRange{From: g.From, To: g.To}, Labels: g})
}

func seedsOf(as []common.Address) []tracer.Address {
	var out []tracer.Address
	for _, a := range as {
		out = append(out, tracer.Address(a.Hex()))
	}
	return out
}

// exact checks that a trace reached exactly the addresses the generator planted.
func exact(tr *tracer.Trace, g *synthnode.Graph) error {
	want := map[string]bool{}
	for _, a := range g.Stolen {
		want[a.Hex()] = true
	}
	for _, a := range g.Seeds {
		want[a.Hex()] = true
	}
	got := nodeAddrs(tr)
	if len(got) != len(want) {
		return fmt.Errorf("traced %d addresses, the generator planted %d", len(got), len(want))
	}
	for _, a := range got {
		if !want[a] {
			return fmt.Errorf("traced %s, which the generator did not plant", a)
		}
	}
	return nil
}

// childResult is what a scale child reports.
type childResult struct {
	WallMS         float64            `json:"wall_ms"`
	Nodes          int                `json:"nodes"`
	Transfers      int                `json:"transfers"`
	Hops           int                `json:"hops"`
	Requests       int64              `json:"requests"`
	RoundTrips     int64              `json:"round_trips"`
	PeakBytes      float64            `json:"peak_bytes"`
	GraphBytes     float64            `json:"graph_bytes"`
	BuildMS        float64            `json:"build_ms"`
	ExportMS       map[string]float64 `json:"export_ms"`
	ExportBytes    map[string]float64 `json:"export_bytes"`
	Complete       bool               `json:"complete"`
	StopReason     string             `json:"stop_reason"`
	PlantedExactly bool               `json:"planted_exactly"`
	TracePeakBytes float64            `json:"trace_peak_bytes"` // VmHWM when the trace ends
	CPUMS          float64            `json:"cpu_ms"`           // the child's CPU time when the trace ends
}

// scale traces a generated flow of n addresses and 3n transfers with no
// added latency, in a child process so that its peak memory is its own.
func scale(ctx context.Context, t *Table, n int) error {
	hopsN := 6
	if n >= 50_000 {
		hopsN = 8
	}
	g := synthnode.Generate(synthnode.Config{Seed: 31, Addresses: n, Transfers: 3 * n, Hops: hopsN})
	srv, err := synthnode.Start(g, synthnode.Options{BatchLimit: 1000, MaxAddresses: 1000})
	if err != nil {
		return err
	}
	defer srv.Close()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var exch []string
	for _, a := range g.Exchanges {
		exch = append(exch, a.Hex())
	}
	var want []string
	for _, a := range append(slices.Clone(g.Seeds), g.Stolen...) {
		want = append(want, a.Hex())
	}
	planted, err := os.CreateTemp("", "flowtrace-bench-planted-*")
	if err != nil {
		return err
	}
	defer os.Remove(planted.Name())
	if _, err := io.WriteString(planted, strings.Join(want, "\n")); err != nil {
		return err
	}
	planted.Close()
	cmd := exec.CommandContext(ctx, exe, "-child", srv.URL(), string(seedsOf(g.Seeds)[0]),
		strconv.FormatUint(g.From, 10), strconv.FormatUint(g.To, 10), strings.Join(exch, ","), planted.Name())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("child: %w", err)
	}
	var r childResult
	if err := json.Unmarshal(out, &r); err != nil {
		return fmt.Errorf("child answered %q: %w", out, err)
	}
	if !r.PlantedExactly || !r.Complete {
		return fmt.Errorf("the %d-address trace is wrong: complete %v (%s), planted set reached exactly: %v", n, r.Complete, r.StopReason, r.PlantedExactly)
	}
	wall := time.Duration(r.WallMS * float64(time.Millisecond))
	name := fmt.Sprintf("trace %dk addresses / %dk transfers, no latency", r.Nodes/1000, r.Transfers/1000)
	row := Row{Section: "scale", Name: name,
		Measured: fmt.Sprintf("%s (CPU %s), peak %s at trace end, %s with exports; %d hops, %d req / %d HTTP", ms(wall),
			ms(time.Duration(r.CPUMS*float64(time.Millisecond))), mib(r.TracePeakBytes), mib(r.PeakBytes), r.Hops, r.Requests, r.RoundTrips),
		Verdict: "info",
		Figures: map[string]float64{"wall_ms": r.WallMS, "cpu_ms": r.CPUMS, "trace_peak_bytes": r.TracePeakBytes, "peak_bytes": r.PeakBytes, "nodes": float64(r.Nodes),
			"transfers": float64(r.Transfers), "requests": float64(r.Requests)},
	}
	if n >= 100_000 {
		row.Bound = "< 60s, < 2 GiB peak"
		row.Verdict = verdict(wall < time.Minute && r.TracePeakBytes < 2<<30)
	}
	t.add(row)
	t.add(Row{Section: "scale", Name: fmt.Sprintf("graph of %dk nodes: build, bytes per transfer", r.Nodes/1000),
		Measured: fmt.Sprintf("build %s, %.0f B/transfer (%s)", ms(time.Duration(r.BuildMS*float64(time.Millisecond))),
			r.GraphBytes/float64(r.Transfers), mib(r.GraphBytes)),
		Bound: "dominikbraun alone ~1.2 KB/edge", Verdict: "info",
		Figures: map[string]float64{"build_ms": r.BuildMS, "graph_bytes": r.GraphBytes, "bytes_per_transfer": r.GraphBytes / float64(r.Transfers)}})
	var parts []string
	for _, k := range []string{"json", "dot", "csv"} {
		parts = append(parts, fmt.Sprintf("%s %s (%s)", strings.ToUpper(k), ms(time.Duration(r.ExportMS[k]*float64(time.Millisecond))), mib(r.ExportBytes[k])))
	}
	t.add(Row{Section: "scale", Name: fmt.Sprintf("export at %dk nodes", r.Nodes/1000), Measured: join(parts...), Verdict: "info",
		Figures: map[string]float64{"json_ms": r.ExportMS["json"], "dot_ms": r.ExportMS["dot"], "csv_ms": r.ExportMS["csv"]}})
	return nil
}
