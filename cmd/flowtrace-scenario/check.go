package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/flowtrace/flowtrace/fixtures/scenario"
)

type checkOptions struct {
	Truth string
	Graph string
}

func parseCheck(args []string, stderr io.Writer) (checkOptions, error) {
	var o checkOptions
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Truth, "truth", "", "truth.json written by play")
	fs.StringVar(&o.Graph, "graph", "", "graph.json written by flowtrace trace")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.Truth == "" || o.Graph == "" || fs.NArg() > 0 {
		return o, errors.New("check needs --truth and --graph and no other arguments")
	}
	return o, nil
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	o, err := parseCheck(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "flowtrace-scenario: %v\n", err)
		}
		return 2
	}
	t, err := scenario.ReadTruth(o.Truth)
	if err != nil {
		fmt.Fprintf(stderr, "flowtrace-scenario: %v\n", err)
		return 1
	}
	nodes, found, err := graphAddresses(o.Graph, t.Chain)
	if err != nil {
		fmt.Fprintf(stderr, "flowtrace-scenario: %v\n", err)
		return 1
	}
	problems := append(t.Problems(nodes), t.PatternProblems(found)...)
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "flowtrace-scenario: graph differs from the truth in %d addresses or patterns (%d nodes, %d stolen expected)\n",
			len(problems), len(nodes), len(t.Stolen))
		return 1
	}
	fmt.Fprintf(stdout, "exact: %d nodes, all %d stolen addresses found, no noise or poisoning; %d patterns as planted\n",
		len(nodes), len(t.Stolen), len(found))
	return 0
}

// graphAddresses reads the node addresses on chain (hand-off nodes on other
// chains aside) and the patterns of a flowtrace graph.json.
func graphAddresses(path, chain string) ([]string, []scenario.Found, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var g struct {
		Nodes []struct {
			Address string `json:"address"`
			Chain   string `json:"chain"`
		} `json:"nodes"`
		Patterns []scenario.Found `json:"patterns"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if g.Nodes == nil {
		return nil, nil, fmt.Errorf("%s: no \"nodes\" array", path)
	}
	out := make([]string, 0, len(g.Nodes))
	for i, n := range g.Nodes {
		if n.Address == "" {
			return nil, nil, fmt.Errorf("%s: node %d has no address", path, i)
		}
		if n.Chain == "" || n.Chain == chain {
			out = append(out, n.Address)
		}
	}
	return out, g.Patterns, nil
}
