package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/fixtures/devnode"
	"github.com/flowtrace/flowtrace/fixtures/scenario"
)

var update = flag.Bool("update", false, "re-record fixtures/*/ from the in-process dev node")

const fixturesDir = "../../fixtures"

// devTheft is the case recorded from the scenario on the in-process dev node.
var devTheft = filepath.Join(fixturesDir, "dev-theft")

// TestFixtures replays every fixtures/<case>/rpc.replay through the CLI and
// compares the outputs with want.json and want.dot; where the case has a
// truth.json, the trace must find exactly the planted stolen addresses.
// A case over several chains holds rpc.<chain>.replay for each other chain.
// With -update it first re-records dev-theft from the dev node,
// btc-regtest from btcd, two-chain from both and three-evm-cli from three
// dev nodes.
func TestFixtures(t *testing.T) {
	if *update {
		recordDevTheft(t, devTheft)
		recordBitcoinTheft(t, btcTheft)
		recordTwoChain(t, twoChain)
		recordThreeEVM(t, threeEVM)
	}
	cases, _ := filepath.Glob(filepath.Join(fixturesDir, "*", "rpc.replay"))
	if len(cases) == 0 {
		t.Fatal("no fixtures/*/rpc.replay: run make fixtures")
	}
	for _, replay := range cases {
		dir := filepath.Dir(replay)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			out := t.TempDir()
			code, _, stderr := runCLI(t, append(append([]string{"trace", "-q", "--out", out}, replayArgs(t, dir)...), caseArgs(t, dir)...)...)
			if code != exitOK {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			compareWithWant(t, dir, out)
			checkTruth(t, dir, out)
		})
	}
}

// TestLiveDevNodeEqualsReplay plays the scenario on a fresh in-process dev
// node, traces it live over HTTP and wants exactly the recorded outputs.
func TestLiveDevNodeEqualsReplay(t *testing.T) {
	if _, err := os.Stat(filepath.Join(devTheft, "want.json")); err != nil {
		t.Fatalf("no recorded dev-theft case: run make fixtures (%v)", err)
	}
	node, truth := playScenario(t)
	caseDir := t.TempDir()
	if err := scenario.WriteCase(caseDir, truth); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, _, stderr := runCLI(t, append([]string{"trace", "-q", "--rpc", node.URL(), "--out", out}, caseArgs(t, caseDir)...)...)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	compareWithWant(t, devTheft, out)
	checkTruth(t, caseDir, out)
}

// played is the scenario played once for the package on one dev node, which
// the tests only read (each writes its own case folder and outputs).
var played struct {
	once  sync.Once
	node  *devnode.Node
	truth *scenario.Truth
	err   error
}

// playScenario returns the dev node with the scenario played on it: started
// by the first test that asks, shared by the others, closed by TestMain.
func playScenario(t *testing.T) (*devnode.Node, *scenario.Truth) {
	t.Helper()
	played.once.Do(func() {
		node, err := devnode.Start(devnode.Options{Alloc: scenario.DevAlloc()})
		if err != nil {
			played.err = err
			return
		}
		played.node = node
		played.truth, played.err = scenario.Play(context.Background(), scenario.NewDevChain(node), scenario.Config{})
	})
	if played.err != nil {
		t.Fatalf("playing the scenario: %v", played.err)
	}
	return played.node, played.truth
}

// recordDevTheft re-records the dev-theft case: the scenario's truth, the
// node's answers to the trace, and the wanted outputs.
func recordDevTheft(t *testing.T, dir string) {
	node, truth := playScenario(t)
	if err := scenario.WriteCase(dir, truth); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, _, stderr := runCLI(t, append([]string{"trace", "-q", "--rpc", node.URL(), "--record", filepath.Join(dir, "rpc.replay"), "--out", out}, caseArgs(t, dir)...)...)
	if code != exitOK {
		t.Fatalf("recording: exit %d:\n%s", code, stderr)
	}
	for from, to := range map[string]string{"graph.json": "want.json", "graph.dot": "want.dot"} {
		data := readOutput(t, out, from)
		if err := writeFileAtomic(filepath.Join(dir, to), data); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("recorded %s", dir)
}

// caseArgs reads a case's args file (one argument a line); file arguments
// are relative to the case directory.
func caseArgs(t testing.TB, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(string(data))
	for i := 1; i < len(args); i++ {
		if args[i-1] == "--labels" && !filepath.IsAbs(args[i]) {
			args[i] = filepath.Join(dir, args[i])
		}
	}
	return args
}

// compareWithWant compares graph.json (elapsed times aside) and graph.dot with the case's want files.
func compareWithWant(t *testing.T, caseDir, out string) {
	t.Helper()
	got, want := normalizedJSON(t, readOutput(t, out, "graph.json")), normalizedJSON(t, readOutput(t, caseDir, "want.json"))
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("graph.json differs from %s/want.json (-want +got):\n%s", caseDir, d)
	}
	if got, want := readOutput(t, out, "graph.dot"), readOutput(t, caseDir, "want.dot"); !bytes.Equal(got, want) {
		t.Errorf("graph.dot differs from %s/want.dot:\n%s", caseDir, cmp.Diff(string(want), string(got)))
	}
}

// normalizedJSON decodes graph.json with the wall-clock times zeroed.
func normalizedJSON(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("graph.json: %v", err)
	}
	if stats, ok := doc["stats"].(map[string]any); ok {
		stats["elapsed_ms"] = 0.0
	}
	if levels, ok := doc["levels"].([]any); ok {
		for _, l := range levels {
			if m, ok := l.(map[string]any); ok {
				m["elapsed_ms"] = 0.0
			}
		}
	}
	return doc
}

// checkTruth asserts that the trace reached every address that received
// stolen value and none of the noise or poisoning addresses.
func checkTruth(t *testing.T, caseDir, out string) {
	t.Helper()
	truth, err := scenario.ReadTruth(filepath.Join(caseDir, "truth.json"))
	if os.IsNotExist(err) || (err != nil && strings.Contains(err.Error(), "no such file")) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	nodes, patterns := tracedOnChain(t, out, truth.Chain)
	if err := truth.Check(nodes); err != nil {
		t.Error(err)
	}
	// Every planted pattern is found with its members, and nothing else.
	if p := truth.PatternProblems(patterns); len(p) > 0 {
		t.Errorf("patterns differ from the truth:\n%s", strings.Join(p, "\n"))
	}
}

// tracedOnChain reads graph.json's addresses on chain (hand-off nodes on
// other chains are checked as bridge patterns) and its patterns.
func tracedOnChain(t *testing.T, out, chain string) ([]string, []scenario.Found) {
	t.Helper()
	var doc struct {
		Nodes    []struct{ Address, Chain string } `json:"nodes"`
		Patterns []scenario.Found                  `json:"patterns"`
	}
	if err := json.Unmarshal(readOutput(t, out, "graph.json"), &doc); err != nil {
		t.Fatal(err)
	}
	var nodes []string
	for _, n := range doc.Nodes {
		if n.Chain == chain {
			nodes = append(nodes, n.Address)
		}
	}
	return nodes, doc.Patterns
}

func readOutput(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
