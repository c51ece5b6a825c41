package graph

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/renameio/v2"

	"github.com/flowtrace/flowtrace/tracer"
)

// WriteFiles builds the flow of t, detects its patterns and writes
// graph.json, graph.dot, transfers.csv and report.md into dir, making dir
// when missing. The four are encoded side by side, then each written whole
// to a temporary name and renamed into place (synced), so a crash never
// leaves a half-written file. It returns the paths written.
func WriteFiles(dir string, t *tracer.Trace, meta Meta, dotOpts DOTOptions) ([]string, error) {
	flow, err := Build(t, Options{Windows: meta.Windows})
	if err != nil {
		return nil, err
	}
	flow.Detect(DetectOptions{})
	outputs := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"graph.json", func(w io.Writer) error { return WriteJSON(w, flow, meta) }},
		{"graph.dot", func(w io.Writer) error { return WriteDOT(w, flow, dotOpts) }},
		{"transfers.csv", func(w io.Writer) error { return WriteCSV(w, flow) }},
		{"report.md", func(w io.Writer) error { return WriteReport(w, flow, meta) }},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	bufs := make([]bytes.Buffer, len(outputs))
	errs := make([]error, len(outputs))
	var wg sync.WaitGroup
	for i, o := range outputs {
		wg.Go(func() {
			if err := o.write(&bufs[i]); err != nil {
				errs[i] = fmt.Errorf("output: %s: %w", o.name, err)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	paths := make([]string, len(outputs))
	for i, o := range outputs {
		paths[i] = filepath.Join(dir, o.name)
		wg.Go(func() {
			if err := renameio.WriteFile(paths[i], bufs[i].Bytes(), 0o644); err != nil {
				errs[i] = fmt.Errorf("output: %w", err)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return paths[:i], err
		}
	}
	return paths, nil
}
