package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/renameio/v2"

	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

// writeOutputs writes graph.json, graph.dot, transfers.csv and report.md into
// dir, then graph.svg when Graphviz is installed and lays it out before
// renderTimeout has passed since the writing began (<= 0: no graph.svg), so
// that all outputs together take about renderTimeout at most. Every file is written whole to a
// temporary name and renamed into place, so a crash or Ctrl-C never leaves a
// half-written output; a graph.svg that could not be made is left out with
// one line saying how to render it. It returns the paths written.
func writeOutputs(ctx context.Context, dir string, t *tracer.Trace, meta graph.Meta, dotOpts graph.DOTOptions, renderTimeout time.Duration, logf func(string, ...any)) ([]string, error) {
	began := time.Now()
	paths, err := graph.WriteFiles(dir, t, meta, dotOpts)
	if err != nil {
		return paths, err
	}
	svg, note := writeSVG(ctx, filepath.Join(dir, "graph.dot"), filepath.Join(dir, "graph.svg"), renderTimeout, time.Until(began.Add(renderTimeout)), logf)
	if svg != "" {
		paths = append(paths, svg)
	}
	logf("output: wrote %d files in %s%s", len(paths), time.Since(began).Round(time.Millisecond), note)
	return paths, nil
}

// writeSVG renders graph.svg in the time left of the outputs' limit. It returns its path, or "" when
// it was left out (a stale graph.svg of an earlier run is removed, so that
// the folder never shows another trace's picture), and a note on how it was
// laid out for the closing line.
func writeSVG(ctx context.Context, dotPath, svgPath string, limit, left time.Duration, logf func(string, ...any)) (string, string) {
	r, err := graph.Render{}, error(nil)
	if limit > 0 {
		r, err = graph.RenderSVG(ctx, dotPath, svgPath, max(left, time.Millisecond))
		if err == nil {
			return svgPath, fmt.Sprintf("; graph.svg laid out by %s (%d nodes) in %s", r.Program, r.Nodes, r.Elapsed.Round(time.Millisecond))
		}
	}
	if rmErr := os.Remove(svgPath); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		logf("output: removing the stale %s: %v", svgPath, rmErr)
	}
	switch {
	case limit <= 0:
		logf("output: graph.svg left out (--render-timeout 0); render it with: dot -Tsvg %s -o %s (sfdp for big graphs)", dotPath, svgPath)
	case errors.Is(err, graph.ErrNoGraphviz):
		logf("output: Graphviz is not installed: wrote graph.dot but no graph.svg (apt-get install graphviz, then: %s)", r.Command(dotPath, svgPath))
	case errors.Is(err, graph.ErrRenderTimeout):
		logf("output: graph.svg left out: %s did not lay out %d nodes in the %s left of --render-timeout %s; render it with: %s",
			r.Program, r.Nodes, left.Round(time.Millisecond), limit, r.Command(dotPath, svgPath))
	default:
		logf("output: graph.svg left out: %v", err)
	}
	return "", ""
}

// writeFileAtomic writes data to a temporary file beside path and renames it.
func writeFileAtomic(path string, data []byte) error {
	if err := renameio.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}
