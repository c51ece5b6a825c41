package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/fixtures/devnode"
	"github.com/flowtrace/flowtrace/fixtures/scenario"
)

var patternsEval = flag.Int("patterns-eval", 2, "generated scenarios TestPatternsEval plays and traces (make patterns-eval: 24)")

// evalCount is one pattern kind's tally over the generated scenarios.
type evalCount struct{ tp, fp, fn int }

// TestPatternsEval plays -patterns-eval randomized scenarios (seeds 1..N,
// reproducible) on fresh in-process dev nodes, traces each through the CLI
// and scores the reported patterns against the planted ones: per kind, a
// reported pattern is a true positive when a planted one has the same kind
// and members. It prints precision and recall per kind and every miss, and
// fails when any kind falls below 0.9 in either, or a trace reaches a wrong
// address.
func TestPatternsEval(t *testing.T) {
	counts := map[string]*evalCount{}
	var misses []string
	for seed := uint64(1); seed <= uint64(*patternsEval); seed++ {
		found, truth, nodeProblems := evalScenario(t, seed)
		for _, p := range nodeProblems {
			t.Errorf("seed %d: %s", seed, p)
		}
		want, got := map[string]string{}, map[string]string{}
		for _, p := range truth.Patterns {
			if p.Kind != scenario.KindHops {
				want[key(p.Kind, p.Members)] = p.Kind
			}
		}
		for _, f := range found {
			got[key(f.Kind, f.Addresses)] = f.Kind
		}
		for k, kind := range got {
			c := count(counts, kind)
			if _, ok := want[k]; ok {
				c.tp++
			} else {
				c.fp++
				misses = append(misses, fmt.Sprintf("seed %d: unexpected %s", seed, k))
			}
		}
		for k, kind := range want {
			if _, ok := got[k]; !ok {
				count(counts, kind).fn++
				misses = append(misses, fmt.Sprintf("seed %d: missing %s", seed, k))
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "patterns over %d generated scenarios (seeds 1..%d):\n%-22s %5s %5s %5s %9s %7s\n", *patternsEval, *patternsEval,
		"kind", "tp", "fp", "fn", "precision", "recall")
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		c := counts[k]
		prec, rec := ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn)
		fmt.Fprintf(&b, "%-22s %5d %5d %5d %9.3f %7.3f\n", k, c.tp, c.fp, c.fn, prec, rec)
		if prec < 0.9 || rec < 0.9 {
			t.Errorf("%s: precision %.3f recall %.3f, want both >= 0.9", k, prec, rec)
		}
	}
	sort.Strings(misses)
	for _, m := range misses {
		fmt.Fprintf(&b, "  %s\n", m)
	}
	t.Log("\n" + b.String())
	if path := os.Getenv("PATTERNS_EVAL_OUT"); path != "" {
		if err := writeFileAtomic(path, []byte(b.String())); err != nil {
			t.Error(err)
		}
	}
}

// evalScenario plays generated scenario seed and traces it.
func evalScenario(t *testing.T, seed uint64) ([]scenario.Found, *scenario.Truth, []string) {
	t.Helper()
	node, err := devnode.Start(devnode.Options{Alloc: scenario.DevAlloc()})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	truth, err := scenario.PlayGenerated(ctx, scenario.NewDevChain(node), seed, scenario.Config{})
	if err != nil {
		t.Fatalf("seed %d: playing: %v", seed, err)
	}
	dir, out := t.TempDir(), t.TempDir()
	if err := scenario.WriteCase(dir, truth); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, append([]string{"trace", "-q", "--rpc", node.URL(), "--out", out}, caseArgs(t, dir)...)...)
	if code != exitOK {
		t.Fatalf("seed %d: trace exit %d:\n%s", seed, code, stderr)
	}
	nodes, patterns := tracedOnChain(t, out, truth.Chain)
	return patterns, truth, truth.Problems(nodes)
}

func count(m map[string]*evalCount, kind string) *evalCount {
	if m[kind] == nil {
		m[kind] = &evalCount{}
	}
	return m[kind]
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// key is the scenario package's pattern identity (kind and members).
func key(kind string, members []string) string {
	p := (&scenario.Truth{Patterns: []scenario.Pattern{{Kind: kind, Members: slices.Clone(members)}}}).PatternProblems(nil)
	return strings.TrimPrefix(p[0], "missing ")
}
