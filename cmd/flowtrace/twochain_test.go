package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/fixtures/btcnode"
	"github.com/flowtrace/flowtrace/fixtures/devnode"
	"github.com/flowtrace/flowtrace/fixtures/graphdoc"
	"github.com/flowtrace/flowtrace/fixtures/scenario"
	"github.com/flowtrace/flowtrace/fixtures/twochain"
)

// twoChain is the THORChain ETH -> BTC case traced by the CLI over the dev
// node and btcd: rpc.replay is the dev chain's recording,
// rpc.bitcoin-regtest.replay btcd's (TestFixtures replays both).
var twoChain = filepath.Join(fixturesDir, "two-chain")

// playTwoChain plays the story on a fresh dev node and btcd and writes its
// case into dir.
func playTwoChain(t *testing.T, dir string) (ethURL, btcURL string, g *twochain.Case) {
	t.Helper()
	btc := btcnode.ForTest(t)
	eth, err := devnode.Start(devnode.Options{Alloc: scenario.DevAlloc()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eth.Close() })
	g, err = twochain.Play(context.Background(), scenario.NewDevChain(eth), "dev", btc)
	if err != nil {
		t.Fatal(err)
	}
	if err := twochain.WriteCase(dir, g); err != nil {
		t.Fatal(err)
	}
	return eth.URL(), btc.URL, g
}

// recordTwoChain re-records fixtures/two-chain's CLI case: both nodes'
// answers, the case and the wanted outputs.
func recordTwoChain(t *testing.T, dir string) {
	ethURL, btcURL, _ := playTwoChain(t, dir)
	out := t.TempDir()
	code, _, stderr := runCLI(t, append([]string{"trace", "-q", "--rpc", ethURL, "--rpc", "bitcoin-regtest=" + btcURL,
		"--record", filepath.Join(dir, "rpc.replay"), "--record", "bitcoin-regtest=" + filepath.Join(dir, "rpc.bitcoin-regtest.replay"), "--out", out}, caseArgs(t, dir)...)...)
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

// TestTwoChainFixture replays the two-chain case through the CLI (the
// goldens are compared by TestFixtures) and checks it against the story.
func TestTwoChainFixture(t *testing.T) {
	g, err := twochain.ReadCase(twoChain)
	if err != nil {
		t.Fatalf("no recorded two-chain case: run make fixtures (%v)", err)
	}
	out := t.TempDir()
	code, _, stderr := runCLI(t, append(append([]string{"trace", "--out", out}, replayArgs(t, twoChain)...), caseArgs(t, twoChain)...)...)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	checkTwoChain(t, g, out)
	// The progress and final lines name each chain's requests.
	if !strings.Contains(stderr, "requests by chain: dev ") || !strings.Contains(stderr, ", bitcoin-regtest ") {
		t.Errorf("stderr does not name each chain's requests:\n%s", stderr)
	}
}

// TestLiveTwoChainEqualsReplay plays the story again on a fresh dev node and
// btcd, traces it live and wants the recorded trace: the same flow, amounts
// and accounting (keys, addresses and hashes are new on every run).
func TestLiveTwoChainEqualsReplay(t *testing.T) {
	dir := t.TempDir()
	ethURL, btcURL, g := playTwoChain(t, dir)
	out := t.TempDir()
	code, _, stderr := runCLI(t, append([]string{"trace", "-q", "--rpc", ethURL, "--rpc", "bitcoin-regtest=" + btcURL, "--out", out}, caseArgs(t, dir)...)...)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	checkTwoChain(t, g, out)
	if d := cmp.Diff(shapeOf(t, readOutput(t, twoChain, "want.json")), shapeOf(t, readOutput(t, out, "graph.json"))); d != "" {
		t.Errorf("the live trace differs from the recorded one (-replay +live):\n%s", d)
	}
}

// replayArgs are the --replay flags of a case folder: rpc.replay for the
// traced chain, rpc.<chain>.replay for each other chain.
func replayArgs(t *testing.T, dir string) []string {
	t.Helper()
	args := []string{"--replay", filepath.Join(dir, "rpc.replay")}
	others, _ := filepath.Glob(filepath.Join(dir, "rpc.*.replay"))
	for _, f := range others {
		chain := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "rpc."), ".replay")
		args = append(args, "--replay", chain+"="+f)
	}
	return args
}

// checkTwoChain asserts what the story makes true of the outputs in out.
func checkTwoChain(t *testing.T, g *twochain.Case, out string) {
	t.Helper()
	for _, p := range g.Check(readOutput(t, out, "graph.json"), readOutput(t, out, "report.md")) {
		t.Error(p)
	}
}

// shapeOf is a trace's graph.json without what changes from run to run
// (keys, addresses, hashes, blocks): each node's chain, category and
// amounts, each edge's chain, asset and amounts, the patterns' kinds and
// the accounting, sorted.
func shapeOf(t *testing.T, data []byte) map[string][]string {
	d, err := graphdoc.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	s := map[string][]string{}
	for _, n := range d.Nodes {
		s["nodes"] = append(s["nodes"], fmt.Sprint(n.Chain, " ", n.Category, " ", n.Received))
	}
	for _, e := range d.Edges {
		s["edges"] = append(s["edges"], fmt.Sprint(e.Chain, " ", e.Asset, " ", e.Amount, " ", e.Tainted))
	}
	for _, p := range d.Patterns {
		s["patterns"] = append(s["patterns"], fmt.Sprint(p.Kind, " ", len(p.Addresses), " ", len(p.Evidence), " ", p.Detail["pairing"]))
	}
	for _, a := range d.Summary.Assets {
		s["summary"] = append(s["summary"], fmt.Sprint(a.Chain, " ", a.Asset, " ", a.Stolen, " ", a.Buckets, " ", a.BridgedIn))
	}
	for _, v := range s {
		slices.Sort(v)
	}
	return s
}

// TestCrossChainBadInput: nodes of other chains that cannot make a trace
// over several chains are exit 2, one line, nothing written.
func TestCrossChainBadInput(t *testing.T) {
	t.Setenv(evmRPCEnv, "")
	t.Setenv(bitcoinRPCEnv, "")
	g, err := twochain.ReadCase(twoChain)
	if err != nil {
		t.Fatal(err)
	}
	ethReplay, btcReplay := filepath.Join(twoChain, "rpc.replay"), filepath.Join(twoChain, "rpc.bitcoin-regtest.replay")
	window := []string{"--chain", "dev", "--seed", g.Thief, "--from-block", fmt.Sprint(g.From), "--to-block", fmt.Sprint(g.To)}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown chain", []string{"--rpc", "http://127.0.0.1:1/", "--rpc", "dogecoin=http://u:secretpw@127.0.0.1:1/"},
			`--rpc dogecoin=URL: unknown chain "dogecoin"`},
		{"neither chain is the traced one", []string{"--rpc", "bitcoin-regtest=http://u:secretpw@127.0.0.1:1/", "--rpc", "bitcoin=http://u:secretpw@127.0.0.1:2/"},
			"--rpc names nodes of bitcoin and bitcoin-regtest but none of the traced chain dev"},
		{"a chain no bridge reaches", []string{"--chain", "bitcoin-regtest", "--rpc", "http://u:secretpw@127.0.0.1:1/", "--rpc", "arbitrum=http://u:secretpw@127.0.0.1:2/"},
			"--rpc arbitrum=URL: no bridge is followed from bitcoin-regtest to arbitrum yet"},
		{"a node of another network than its key", []string{"--replay", ethReplay, "--replay", "bitcoin=" + btcReplay},
			"the node given for bitcoin serves bitcoin-regtest (getblockchaininfo chain \"regtest\"): give it as --rpc bitcoin-regtest=URL"},
		{"unknown chain in --replay", []string{"--replay", ethReplay, "--replay", "doge=" + btcReplay}, `--replay doge=FILE: unknown chain "doge"`},
		{"a file for another chain only", []string{"--rpc", "http://127.0.0.1:1/", "--replay", "bitcoin-regtest=" + btcReplay},
			"--replay bitcoin-regtest=FILE: no file for the traced chain dev"},
		{"record and replay", []string{"--replay", ethReplay, "--record", "bitcoin-regtest=x.replay"},
			"--record bitcoin-regtest=FILE: no file for the traced chain dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCLI(t, append(append([]string{"trace", "-q", "--out", out}, window...), tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 with %q", code, stderr, tc.want)
			}
			if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines != 1 {
				t.Errorf("%d lines on stderr, want one:\n%s", lines, stderr)
			}
			if strings.Contains(stderr+stdout, "secretpw") {
				t.Errorf("a node's password is printed: %s", stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("the output folder was written (%v)", err)
			}
		})
	}
}
