package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flowtrace/flowtrace/fixtures/devnode"
	"github.com/flowtrace/flowtrace/fixtures/scenario"
)

// TestTraceNodeWithoutNativeMethods: a node that serves neither trace_filter
// nor debug_traceBlockByNumber is refused with the methods it lacks and what
// would work, before any output is written.
func TestTraceNodeWithoutNativeMethods(t *testing.T) {
	node, err := devnode.Start(devnode.Options{Alloc: scenario.DevAlloc(), Modules: []string{"eth", "net", "web3"}})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runCLI(t, "trace", "--rpc", node.URL(), "--chain", "dev", "--seed", goodSeed, "--from-block", "0", "--out", out)
	if code != exitUsage {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
	}
	for _, want := range []string{"trace_filter", "debug_traceBlockByNumber", "--native off"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output directory exists after a refused node")
	}
}

// TestTraceRefusesHugeScan: a window that needs more blocks scanned than
// --max-blocks is refused with an estimate and the ways out.
func TestTraceRefusesHugeScan(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"trace", "--replay", filepath.Join(devTheft, "rpc.replay"), "--out", out, "--max-blocks", "5"}, caseArgs(t, devTheft)...)
	code, _, stderr := runCLI(t, args...)
	if code != exitUsage {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
	}
	for _, want := range []string{"needs a scan of 39 blocks", "--max-blocks", "--to-block", "trace_filter"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output directory exists after a refused window")
	}
}

// cancelOn is a stderr that cancels a context once it sees a marker line.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.marker) {
		c.cancel()
	}
	return len(p), nil
}

// TestTraceInterruptWritesPartialOutputs: Ctrl-C during the walk writes what
// was traced so far, marked interrupted, and exits 130.
func TestTraceInterruptWritesPartialOutputs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelOn{marker: "level 2:", cancel: cancel}
	out := t.TempDir()
	args := append([]string{"trace", "--replay", filepath.Join(devTheft, "rpc.replay"), "--out", out}, caseArgs(t, devTheft)...)
	code := run(ctx, args, &bytes.Buffer{}, stderr)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, stderr.buf.String())
	}
	var doc struct {
		Nodes []struct {
			Depth int
			Chain string
			Stop  string
		}
		Stats struct {
			StopReason string `json:"stop_reason"`
		}
	}
	if err := json.Unmarshal(readOutput(t, out, "graph.json"), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Stats.StopReason != "interrupted" {
		t.Errorf("stop_reason = %q, want interrupted", doc.Stats.StopReason)
	}
	interrupted, deepest := 0, 0
	for _, n := range doc.Nodes {
		if n.Chain != "dev" {
			continue // a bridge hand-off node on another chain, one past its router
		}
		deepest = max(deepest, n.Depth)
		if n.Stop == "interrupted" {
			interrupted++
		}
	}
	if deepest != 2 || interrupted == 0 {
		t.Errorf("deepest node %d, %d nodes marked interrupted; want the walk cut after level 2 with its frontier marked", deepest, interrupted)
	}
	for _, name := range []string{"graph.dot", "transfers.csv", "report.md"} {
		readOutput(t, out, name)
	}
}

// TestFixtureDOTRenders: the recorded graph.dot of every case parses with
// both Graphviz layouts (required in CI).
func TestFixtureDOTRenders(t *testing.T) {
	dots, _ := filepath.Glob(filepath.Join(fixturesDir, "*", "want.dot"))
	if len(dots) == 0 {
		t.Fatal("no fixtures/*/want.dot")
	}
	for _, prog := range []string{"dot", "sfdp"} {
		if _, err := exec.LookPath(prog); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (apt-get install graphviz); CI requires it", prog)
			}
			t.Skipf("%s is not installed (apt-get install graphviz)", prog)
		}
		for _, dot := range dots {
			cmd := exec.Command(prog, "-Tsvg", dot)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			svg, err := cmd.Output()
			if err != nil || !bytes.Contains(svg, []byte("</svg>")) {
				t.Errorf("%s -Tsvg %s: %v\n%s", prog, dot, err, stderr.String())
			}
		}
	}
}
