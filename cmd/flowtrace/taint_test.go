package main

import (
	"encoding/json"
	"math/big"
	"path/filepath"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
)

// taintDoc is the part of graph.json the taint models change.
type taintDoc struct {
	Params       map[string]string `json:"params"`
	Taint        string            `json:"taint"`
	Summary      taintAssets       `json:"summary"`
	Alternatives []struct {
		Taint string `json:"taint"`
		taintAssets
	} `json:"alternatives"`
}

type taintAssets struct {
	Assets []struct {
		Asset     string            `json:"asset"`
		Stolen    string            `json:"stolen"`
		SwappedIn string            `json:"swapped_in"`
		BridgedIn string            `json:"bridged_in"`
		Buckets   map[string]string `json:"buckets"`
	} `json:"assets"`
}

// TestFixturesUnderEveryTaintModel traces every fixture (over all its
// chains) with --taint all: each model's buckets add up to what was stolen
// (plus what swaps bought and bridges paid in),
// and each model alone gives the accounting --taint all shows for it.
func TestFixturesUnderEveryTaintModel(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join(fixturesDir, "*", "rpc.replay"))
	if len(cases) == 0 {
		t.Fatal("no fixtures/*/rpc.replay: run make fixtures")
	}
	trace := func(t *testing.T, replay, model string) taintDoc {
		t.Helper()
		out := t.TempDir()
		args := append(append([]string{"trace", "-q", "--out", out, "--taint", model}, replayArgs(t, filepath.Dir(replay))...), caseArgs(t, filepath.Dir(replay))...)
		if code, _, stderr := runCLI(t, args...); code != exitOK {
			t.Fatalf("--taint %s: exit %d:\n%s", model, code, stderr)
		}
		var d taintDoc
		if err := json.Unmarshal(readOutput(t, out, "graph.json"), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, replay := range cases {
		t.Run(filepath.Base(filepath.Dir(replay)), func(t *testing.T) {
			all := trace(t, replay, "all")
			if all.Taint != "poison" || all.Params["taint"] != "all" || len(all.Alternatives) != 2 ||
				all.Alternatives[0].Taint != "haircut" || all.Alternatives[1].Taint != "fifo" {
				t.Fatalf("--taint all: taint %q, params %q, %d alternatives", all.Taint, all.Params["taint"], len(all.Alternatives))
			}
			byModel := map[string]taintAssets{"poison": all.Summary}
			for _, a := range all.Alternatives {
				byModel[a.Taint] = a.taintAssets
			}
			for model, s := range byModel {
				for _, a := range s.Assets {
					sum, want := new(big.Int), amountOf(t, a.Stolen)
					for _, in := range []string{a.SwappedIn, a.BridgedIn} {
						if in != "" {
							want.Add(want, amountOf(t, in))
						}
					}
					for _, v := range a.Buckets {
						sum.Add(sum, amountOf(t, v))
					}
					if sum.Cmp(want) != 0 {
						t.Errorf("%s, %s: buckets add up to %s, want %s", model, a.Asset, sum, want)
					}
				}
				alone := trace(t, replay, model)
				if alone.Taint != model || alone.Params["taint"] != model {
					t.Errorf("--taint %s: graph.json says %q (params %q)", model, alone.Taint, alone.Params["taint"])
				}
				if d := gocmp.Diff(s, alone.Summary); d != "" {
					t.Errorf("--taint %s differs from its column in --taint all (-all +alone):\n%s", model, d)
				}
			}
		})
	}
}

func amountOf(t *testing.T, s string) *big.Int {
	t.Helper()
	x, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("amount %q", s)
	}
	return x
}
