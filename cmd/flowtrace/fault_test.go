package main

import (
	"bytes"
	"encoding/json"
	"github.com/flowtrace/flowtrace/tracer"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/chains/rpcfault"
	"github.com/flowtrace/flowtrace/fixtures/devnode"
	"github.com/flowtrace/flowtrace/fixtures/scenario"
)

// faultCase is the dev-theft scenario played on a dev node, and its trace
// without faults.
type faultCase struct {
	node *devnode.Node
	args []string // the case's trace arguments, without --rpc and --out
	want string   // output directory of the fault-free trace
}

func startFaultCase(t *testing.T) *faultCase {
	t.Helper()
	node, truth := playScenario(t)
	dir := t.TempDir()
	if err := scenario.WriteCase(dir, truth); err != nil {
		t.Fatal(err)
	}
	fc := &faultCase{node: node, args: caseArgs(t, dir), want: t.TempDir()}
	if code, _, stderr := fc.trace(t, node.URL(), fc.want); code != exitOK {
		t.Fatalf("fault-free trace: exit %d:\n%s", code, stderr)
	}
	return fc
}

func (fc *faultCase) trace(t *testing.T, rpcURL, out string, extra ...string) (int, string, string) {
	t.Helper()
	args := append([]string{"trace", "-q", "--rpc", rpcURL, "--out", out, "--request-timeout", "2s"}, fc.args...)
	return runCLI(t, append(args, extra...)...)
}

// traceThrough traces the scenario through a fault proxy with opts in front
// of the node, in small batches (more round trips for the faults to hit),
// and wants it to succeed with the fault-free outputs. The proxy is
// returned for its counts.
func (fc *faultCase) traceThrough(t *testing.T, opts rpcfault.Options) *rpcfault.Proxy {
	t.Helper()
	opts.Upstream = fc.node.URL()
	p, err := rpcfault.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	out := t.TempDir()
	if code, _, stderr := fc.trace(t, p.URL(), out, "--batch-size", "8"); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	sameOutputs(t, fc.want, out)
	return p
}

// TestTraceThroughFaults traces the scenario through the fault proxy, 20% of
// requests failing in each class in turn, then all classes at once, and
// wants the fault-free outputs (request counts and times aside).
func TestTraceThroughFaults(t *testing.T) {
	fc := startFaultCase(t)
	type run struct {
		name    string
		classes []rpcfault.Class
	}
	var runs []run
	for _, c := range append(rpcfault.Transient(), rpcfault.Limits()...) {
		runs = append(runs, run{string(c), []rpcfault.Class{c}})
	}
	runs = append(runs, run{"all", append(rpcfault.Transient(), rpcfault.Limits()...)})
	for i, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel() // the classes' waits (Retry-After, hung requests) overlap
			p := fc.traceThrough(t, rpcfault.Options{
				Seed: uint64(i + 1), Rate: 0.2, Classes: r.classes, MaxResults: 4, // the scenario's busiest single-block answer
			})
			counts := p.Counts()
			if len(r.classes) == 1 && counts[r.classes[0]] == 0 {
				t.Errorf("class %s injected no fault in %d requests", r.classes[0], p.Requests())
			}
			if len(r.classes) > 1 && len(counts) < len(r.classes)/2 {
				t.Errorf("only %v injected", counts)
			}
			t.Logf("%d requests, faults %v", p.Requests(), counts)
		})
	}
}

// TestTraceFailover spreads the trace over two endpoints, one of them down
// for good: the trace completes, and both endpoints were asked.
func TestTraceFailover(t *testing.T) {
	fc := startFaultCase(t)
	down, err := rpcfault.Start(rpcfault.Options{Upstream: fc.node.URL(), Fail: func(string, json.RawMessage) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	up, err := rpcfault.Start(rpcfault.Options{Upstream: fc.node.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	out := t.TempDir()
	if code, _, stderr := fc.trace(t, up.URL(), out, "--rpc", down.URL()); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if down.Requests() < 2 || up.Requests() == 0 {
		t.Errorf("requests: %d to the broken endpoint, %d to the healthy one; want both used", down.Requests(), up.Requests())
	}
	sameOutputs(t, fc.want, out)
}

// TestTracePermanentHopFailure fails every eth_getLogs that names one
// address of the first hop: the trace exits 3, writes the outputs, marks the
// second hop's frontier "hop failed", says why, and keeps all it traced
// before, exactly as a trace cut at depth 1.
func TestTracePermanentHopFailure(t *testing.T) {
	fc := startFaultCase(t)
	want := normalizedJSON(t, readOutput(t, fc.want, "graph.json"))
	var hop1 string
	for _, n := range want["nodes"].([]any) {
		m := n.(map[string]any)
		if m["depth"].(float64) == 1 && m["stop"] == "" {
			hop1 = strings.ToLower(m["address"].(string)[2:])
			break
		}
	}
	if hop1 == "" {
		t.Fatal("no followed address at depth 1 in the scenario")
	}
	p, err := rpcfault.Start(rpcfault.Options{Upstream: fc.node.URL(), Fail: func(method string, params json.RawMessage) bool {
		// Its outgoing Transfer events: the address as topic1.
		return method == "eth_getLogs" && strings.Contains(strings.ToLower(string(params)), "000000000000000000000000"+hop1)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out := t.TempDir()
	code, stdout, stderr := fc.trace(t, p.URL(), out)
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d:\n%s", code, exitIncomplete, stderr)
	}
	if !strings.Contains(stdout, "graph.json") || !strings.Contains(stderr, "hop failed") || !strings.Contains(stderr, "503") {
		t.Errorf("stdout %q / stderr %q do not list the outputs and say the hop failed with 503", stdout, stderr)
	}
	report := string(readOutput(t, out, "report.md"))
	if !strings.Contains(report, "hop failed") || !strings.Contains(report, "503 Service Unavailable") {
		t.Errorf("report.md does not say which hop failed and why:\n%s", report)
	}

	cut := t.TempDir()
	if code, _, stderr := fc.trace(t, fc.node.URL(), cut, "--depth", "1"); code != exitIncomplete {
		t.Fatalf("--depth 1: exit %d:\n%s", code, stderr)
	}
	got, atDepth1 := normalizedJSON(t, readOutput(t, out, "graph.json")), normalizedJSON(t, readOutput(t, cut, "graph.json"))
	failed := 0
	for _, doc := range []map[string]any{got, atDepth1} {
		for _, n := range doc["nodes"].([]any) {
			m := n.(map[string]any)
			if m["stop"] == "hop failed" {
				failed++
				m["stop"] = "depth"
			}
		}
		// Value at a node whose hop failed is not followed for that cause,
		// at the depth limit for the cut trace: the amounts are the same.
		for _, a := range doc["summary"].(map[string]any)["assets"].([]any) {
			for _, k := range []string{"buckets", "shares"} {
				m := a.(map[string]any)[k].(map[string]any)
				if v, ok := m[tracer.BucketNotFollowed]; ok {
					m[tracer.BucketDepth] = v
					delete(m, tracer.BucketNotFollowed)
				}
			}
		}
		for _, k := range []string{"stats", "levels", "params"} {
			delete(doc, k)
		}
	}
	if failed == 0 {
		t.Error("no node is marked hop failed")
	}
	if d := cmp.Diff(atDepth1, got); d != "" {
		t.Errorf("the partial trace differs from the trace cut at depth 1 (-depth1 +failed):\n%s", d)
	}
}

// sameOutputs compares two output directories: graph.json with request
// counts and times zeroed, graph.dot and transfers.csv byte for byte, and
// report.md up to its statistics.
func sameOutputs(t *testing.T, wantDir, gotDir string) {
	t.Helper()
	got, want := rpcNeutral(t, readOutput(t, gotDir, "graph.json")), rpcNeutral(t, readOutput(t, wantDir, "graph.json"))
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("graph.json differs from the fault-free trace (-want +got):\n%s", d)
	}
	for _, name := range []string{"graph.dot", "transfers.csv"} {
		if g, w := readOutput(t, gotDir, name), readOutput(t, wantDir, name); !bytes.Equal(g, w) {
			t.Errorf("%s differs from the fault-free trace:\n%s", name, cmp.Diff(string(w), string(g)))
		}
	}
	stats := regexp.MustCompile(`(?s)\n## Stats\n.*`)
	g := stats.ReplaceAllString(string(readOutput(t, gotDir, "report.md")), "")
	w := stats.ReplaceAllString(string(readOutput(t, wantDir, "report.md")), "")
	if g != w {
		t.Errorf("report.md differs from the fault-free trace:\n%s", cmp.Diff(w, g))
	}
}

// rpcNeutral is normalizedJSON with the request and round-trip counts zeroed:
// retries and split queries change them, nothing else.
func rpcNeutral(t *testing.T, data []byte) map[string]any {
	t.Helper()
	doc := normalizedJSON(t, data)
	zero := func(m map[string]any) {
		for _, k := range []string{"rpc_requests", "rpc_batches", "probe_requests"} {
			if _, ok := m[k]; ok {
				m[k] = 0.0
			}
		}
	}
	if stats, ok := doc["stats"].(map[string]any); ok {
		zero(stats)
	}
	if levels, ok := doc["levels"].([]any); ok {
		for _, l := range levels {
			m := l.(map[string]any)
			zero(m)
			if u, ok := m["usage"].(map[string]any); ok {
				zero(u)
			}
		}
	}
	return doc
}

// TestTraceRefusesMixedChains refuses endpoints of different chains (another
// genesis): exit 2, naming both hosts.
func TestTraceRefusesMixedChains(t *testing.T) {
	fc := startFaultCase(t)
	other, err := devnode.Start(devnode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	code, _, stderr := fc.trace(t, fc.node.URL(), t.TempDir(), "--rpc", other.URL())
	if code != exitUsage || !strings.Contains(stderr, "different chains") {
		t.Errorf("exit %d, stderr %q; want 2 and different chains", code, stderr)
	}
}
