package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"

	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

// writeOutputs writes graph.json, graph.dot, transfers.csv and report.md into
// dir, and graph.svg when Graphviz is installed. Every file is written whole
// to a temporary name and renamed into place, so a crash or Ctrl-C never
// leaves a half-written output. It returns the paths written.
func writeOutputs(ctx context.Context, dir string, t *tracer.Trace, meta graph.Meta, dotOpts graph.DOTOptions, logf func(string, ...any)) ([]string, error) {
	flow, err := graph.Build(t, graph.Options{})
	if err != nil {
		return nil, err
	}
	flow.Detect(graph.DetectOptions{})
	outputs := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"graph.json", func(w io.Writer) error { return graph.WriteJSON(w, flow, meta) }},
		{"graph.dot", func(w io.Writer) error { return graph.WriteDOT(w, flow, dotOpts) }},
		{"transfers.csv", func(w io.Writer) error { return graph.WriteCSV(w, flow) }},
		{"report.md", func(w io.Writer) error { return graph.WriteReport(w, flow, meta) }},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	var paths []string
	for _, o := range outputs {
		var buf bytes.Buffer
		if err := o.write(&buf); err != nil {
			return paths, fmt.Errorf("output: %s: %w", o.name, err)
		}
		p := filepath.Join(dir, o.name)
		if err := writeFileAtomic(p, buf.Bytes()); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	svg := filepath.Join(dir, "graph.svg")
	switch err := graph.RenderSVG(ctx, filepath.Join(dir, "graph.dot"), svg); {
	case err == nil:
		paths = append(paths, svg)
	case errors.Is(err, graph.ErrNoGraphviz):
		logf("output: Graphviz is not installed: wrote graph.dot but no graph.svg (apt-get install graphviz)")
	default:
		logf("output: rendering graph.svg: %v", err)
	}
	return paths, nil
}

// writeFileAtomic writes data to a temporary file beside path and renames it.
func writeFileAtomic(path string, data []byte) error {
	if err := renameio.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}
