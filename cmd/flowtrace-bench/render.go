package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/fixtures/synthnode"
)

// renderBound is the bound on writing every output of a
// 3,000-address trace, graph.svg included (or left out with one line).
const renderBound = 10 * time.Second

// outputLine is the CLI's line saying how long the outputs took.
var outputLine = regexp.MustCompile(`(?m)^output: wrote (\d+) files in ([0-9.]+m?s)(.*)$`)

// leftOutLine is the CLI's one line on a graph.svg it could not make.
var leftOutLine = regexp.MustCompile(`(?m)^output: (graph.svg left out|Graphviz is not installed).*$`)

// renderRow traces a generated flow of n addresses with the flowtrace binary
// (as a user runs it) and reports how long writing its outputs took.
func renderRow(ctx context.Context, t *Table, bin string, n int) error {
	g := synthnode.Generate(synthnode.Config{Seed: 41, Addresses: n, Hops: 6})
	srv, err := synthnode.Start(g, synthnode.Options{BatchLimit: 1000, MaxAddresses: 1000})
	if err != nil {
		return err
	}
	defer srv.Close()
	dir, err := os.MkdirTemp("", "flowtrace-bench-render-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var csv strings.Builder
	csv.WriteString("chain,address,label,category,source\n")
	for _, a := range g.Exchanges {
		fmt.Fprintf(&csv, "dev,%s,Exchange deposit,exchange,synthnode\n", a.Hex())
	}
	labelsPath := filepath.Join(dir, "labels.csv")
	if err := os.WriteFile(labelsPath, []byte(csv.String()), 0o644); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, "trace", "--rpc", srv.URL(), "--chain", "dev", "--native", "trace_filter",
		"--seed", g.Seeds[0].Hex(), "--from-block", strconv.FormatUint(g.From, 10), "--to-block", strconv.FormatUint(g.To, 10),
		"--min-value", "0", "--no-bundled-labels", "--labels", labelsPath, "--out", filepath.Join(dir, "out"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s trace: %w\n%s", bin, err, tail(stderr.String(), 800))
	}
	m := outputLine.FindStringSubmatch(stderr.String())
	if m == nil {
		return fmt.Errorf("%s trace printed no %q line:\n%s", bin, "output: wrote N files in T", tail(stderr.String(), 800))
	}
	took, err := time.ParseDuration(m[2])
	if err != nil {
		return err
	}
	files, _ := strconv.Atoi(m[1])
	_, svgErr := os.Stat(filepath.Join(dir, "out", "graph.svg"))
	svg := "graph.svg written"
	if svgErr != nil {
		svg = "graph.svg left out"
		if l := leftOutLine.FindString(stderr.String()); l != "" {
			svg += " (" + l + ")"
		}
	}
	t.add(Row{Section: "render", Name: fmt.Sprintf("all outputs of a %d-address trace", len(g.Stolen)+len(g.Seeds)),
		Measured: fmt.Sprintf("%s, %d files, %s%s", ms(took), files, svg, m[3]),
		Bound:    "< " + renderBound.String() + " (graph.svg included, or left out with one line)",
		Verdict:  verdict(took < renderBound),
		Figures:  map[string]float64{"outputs_ms": msf(took), "files": float64(files), "svg": boolFigure(svgErr == nil)}})
	return nil
}

func boolFigure(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
