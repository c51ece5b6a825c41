package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/fixtures/threeevm"
)

// threeEVM is stolen ETH traced by the CLI from Ethereum over Across to
// Arbitrum and over Stargate to Base, on three dev nodes answering those
// chains' ids: rpc.replay is Ethereum's recording, rpc.arbitrum.replay and
// rpc.base.replay the others' (TestFixtures replays all three).
var threeEVM = filepath.Join(fixturesDir, "three-evm-cli")

// playThreeEVM plays the story on three fresh dev nodes and writes its case
// and arguments into dir; it returns each chain's node URL.
func playThreeEVM(t *testing.T, dir string) (map[string]string, *threeevm.Case) {
	t.Helper()
	nodes, err := threeevm.StartNodes()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { threeevm.Close(nodes) })
	g, err := threeevm.Play(context.Background(), nodes)
	if err != nil {
		t.Fatal(err)
	}
	if err := threeevm.WriteCase(dir, g); err != nil {
		t.Fatal(err)
	}
	if err := threeevm.WriteArgs(dir, g); err != nil {
		t.Fatal(err)
	}
	urls := map[string]string{}
	for name, n := range nodes {
		urls[name] = n.URL()
	}
	return urls, g
}

// threeEVMNodes are the --rpc flags of the three nodes: Ethereum's plain,
// the others' as CHAIN=URL.
func threeEVMNodes(urls map[string]string) []string {
	args := []string{"--rpc", urls["ethereum"]}
	for _, name := range threeevm.Chains[1:] {
		args = append(args, "--rpc", name+"="+urls[name])
	}
	return args
}

// recordThreeEVM re-records fixtures/three-evm-cli: the three nodes'
// answers, the case and the wanted outputs.
func recordThreeEVM(t *testing.T, dir string) {
	urls, _ := playThreeEVM(t, dir)
	out := t.TempDir()
	args := append([]string{"trace", "-q", "--out", out, "--record", filepath.Join(dir, "rpc.replay")}, threeEVMNodes(urls)...)
	for _, name := range threeevm.Chains[1:] {
		args = append(args, "--record", name+"="+filepath.Join(dir, "rpc."+name+".replay"))
	}
	code, _, stderr := runCLI(t, append(args, caseArgs(t, dir)...)...)
	if code != exitOK {
		t.Fatalf("recording: exit %d:\n%s", code, stderr)
	}
	for from, to := range map[string]string{"graph.json": "want.json", "graph.dot": "want.dot"} {
		if err := writeFileAtomic(filepath.Join(dir, to), readOutput(t, out, from)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("recorded %s", dir)
}

// TestThreeEVMFixture replays the three-chain case through the CLI (the
// goldens are compared by TestFixtures) and checks it against the story.
func TestThreeEVMFixture(t *testing.T) {
	g, err := threeevm.ReadCase(threeEVM)
	if err != nil {
		t.Fatalf("no recorded three-evm case: run make fixtures (%v)", err)
	}
	out := t.TempDir()
	code, _, stderr := runCLI(t, append(append([]string{"trace", "--out", out}, replayArgs(t, threeEVM)...), caseArgs(t, threeEVM)...)...)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	checkThreeEVM(t, g, out)
	for _, want := range []string{"requests by chain: ethereum ", ", arbitrum ", ", base "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name each chain's requests (%q):\n%s", want, stderr)
		}
	}
}

// TestLiveThreeEVMEqualsReplay plays the story again on three fresh dev
// nodes, traces it live and wants the recorded trace: the same flow,
// amounts and accounting (hashes and blocks are new on every run).
func TestLiveThreeEVMEqualsReplay(t *testing.T) {
	dir := t.TempDir()
	urls, g := playThreeEVM(t, dir)
	out := t.TempDir()
	code, _, stderr := runCLI(t, append(append([]string{"trace", "-q", "--out", out}, threeEVMNodes(urls)...), caseArgs(t, dir)...)...)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	checkThreeEVM(t, g, out)
	if d := cmp.Diff(shapeOf(t, readOutput(t, threeEVM, "want.json")), shapeOf(t, readOutput(t, out, "graph.json"))); d != "" {
		t.Errorf("the live trace differs from the recorded one (-replay +live):\n%s", d)
	}
}

// checkThreeEVM asserts what the story makes true of the outputs in out.
func checkThreeEVM(t *testing.T, g *threeevm.Case, out string) {
	t.Helper()
	for _, p := range g.Check(readOutput(t, out, "graph.json"), readOutput(t, out, "report.md")) {
		t.Error(p)
	}
}

// The story's check fails on a trace that pairs the wrong legs or reaches
// a noise address: it can tell a wrong trace from a right one.
func TestThreeEVMCheckCatchesAWrongTrace(t *testing.T) {
	g, err := threeevm.ReadCase(threeEVM)
	if err != nil {
		t.Fatalf("no recorded three-evm case: run make fixtures (%v)", err)
	}
	graphJSON, report := readOutput(t, threeEVM, "want.json"), []byte("## Across chains\n")
	if p := g.Check(graphJSON, report); len(p) == 0 {
		t.Error("a report without the bridge tables passes the check")
	}
	wrong := *g
	wrong.Fill, wrong.Receipt = g.Receipt, g.Fill
	wrong.Noise = append(slices.Clone(g.Noise), g.Stolen[4])
	p := strings.Join(wrong.Check(graphJSON, report), "\n")
	for _, want := range []string{"paired bridges (deposit -> fill)", "noise " + strings.TrimPrefix(g.Stolen[4], "base:")} {
		if !strings.Contains(p, want) {
			t.Errorf("the check of a wrong case does not say %q:\n%s", want, p)
		}
	}
}

// The dev nodes answer the real chains' ids from other genesis blocks:
// without --skip-genesis-check the node is refused with one line naming
// the flag, exit 2, nothing written.
func TestThreeEVMGenesisChecked(t *testing.T) {
	args := slices.DeleteFunc(caseArgs(t, threeEVM), func(a string) bool { return a == "--skip-genesis-check" })
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runCLI(t, append(append([]string{"trace", "-q", "--out", out}, replayArgs(t, threeEVM)...), args...)...)
	if code != exitUsage || !strings.Contains(stderr, "not ethereum's") || !strings.Contains(stderr, "--skip-genesis-check") {
		t.Fatalf("exit %d, stderr %q; want exit 2 naming ethereum's genesis and --skip-genesis-check", code, stderr)
	}
	if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines != 1 {
		t.Errorf("%d lines on stderr, want one:\n%s", lines, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the output folder was written (%v)", err)
	}
}
