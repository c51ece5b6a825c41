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
	nodes, err := graphAddresses(o.Graph)
	if err != nil {
		fmt.Fprintf(stderr, "flowtrace-scenario: %v\n", err)
		return 1
	}
	problems := t.Problems(nodes)
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "flowtrace-scenario: graph differs from the truth in %d addresses (%d nodes, %d stolen expected)\n",
			len(problems), len(nodes), len(t.Stolen))
		return 1
	}
	fmt.Fprintf(stdout, "exact: %d nodes, all %d stolen addresses found, no noise or poisoning\n", len(nodes), len(t.Stolen))
	return 0
}

// graphAddresses reads the node addresses of a flowtrace graph.json.
func graphAddresses(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var g struct {
		Nodes []struct {
			Address string `json:"address"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if g.Nodes == nil {
		return nil, fmt.Errorf("%s: no \"nodes\" array", path)
	}
	out := make([]string, 0, len(g.Nodes))
	for i, n := range g.Nodes {
		if n.Address == "" {
			return nil, fmt.Errorf("%s: node %d has no address", path, i)
		}
		out = append(out, n.Address)
	}
	return out, nil
}
