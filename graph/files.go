package graph

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/google/renameio/v2"

	"github.com/flowtrace/flowtrace/tracer"
)

// WriteFiles builds the flow of t, detects its patterns and writes
// graph.json, graph.dot, transfers.csv and report.md into dir, making dir
// when missing. The four are encoded side by side, each to a temporary
// name, and renamed into place (synced) once all four are whole, so a crash
// never leaves a half-written file. It returns the paths written.
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
	// Each file is encoded straight into its temporary file, side by side;
	// only when all four are whole do they replace the old ones.
	paths := make([]string, len(outputs))
	pending := make([]*renameio.PendingFile, len(outputs))
	errs := make([]error, len(outputs))
	var wg sync.WaitGroup
	for i, o := range outputs {
		paths[i] = filepath.Join(dir, o.name)
		wg.Go(func() { pending[i], errs[i] = encodeTo(paths[i], o.write) })
	}
	wg.Wait()
	if i := slices.IndexFunc(errs, func(err error) bool { return err != nil }); i >= 0 {
		for _, pf := range pending {
			if pf != nil {
				pf.Cleanup()
			}
		}
		return nil, errs[i]
	}
	for i, pf := range pending {
		wg.Go(func() {
			if err := pf.CloseAtomicallyReplace(); err != nil {
				errs[i] = fmt.Errorf("output: %w", err)
			}
			pf.Cleanup() // after a failed replace: removes the temporary file
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

// encodeTo encodes one file into a temporary file beside path, to be renamed
// into place; on an error nothing is left behind.
func encodeTo(path string, write func(io.Writer) error) (*renameio.PendingFile, error) {
	pf, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o644), renameio.WithExistingPermissions())
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	bw := bufio.NewWriterSize(pf, 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		pf.Cleanup()
		return nil, fmt.Errorf("output: %s: %w", filepath.Base(path), err)
	}
	return pf, nil
}
