package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"time"

	"github.com/google/renameio/v2"
)

// ErrNoGraphviz means the Graphviz layout program is not on PATH.
var ErrNoGraphviz = errors.New("graphviz is not installed (dot/sfdp not on PATH)")

// ErrRenderTimeout means the layout program did not finish within the time
// limit and was killed.
var ErrRenderTimeout = errors.New("graphviz did not finish within the time limit")

// SFDPOver is the node count above which RenderSVG uses sfdp instead of dot
// (Graphviz 2.42: dot takes ~1 s for 200 nodes and ~77 s for 1,000, and can
// fail with "trouble in init_rank" on big graphs; sfdp ~9 s for 3,000).
const SFDPOver = 300

// DefaultRenderTimeout bounds the layout, so that graph.svg never holds a
// trace's other outputs hostage (they are written before it).
const DefaultRenderTimeout = 8 * time.Second

// dotNodeLine matches a node statement of WriteDOT's output.
var dotNodeLine = regexp.MustCompile(`(?m)^\s*n[0-9]+\[`)

// Render says how an SVG was, or was to be, laid out.
type Render struct {
	Program string // dot or sfdp
	Nodes   int    // nodes of the DOT source
	Elapsed time.Duration
}

// Command is the shell command that renders dotPath into svgPath the same way.
func (r Render) Command(dotPath, svgPath string) string {
	return fmt.Sprintf("%s -Tsvg %s -o %s", r.Program, dotPath, svgPath)
}

// RenderSVG lays out the DOT file at dotPath with Graphviz (dot, or sfdp
// above SFDPOver nodes) into svgPath, through a temporary file renamed at
// the end so that svgPath is never half written. The layout program is
// killed after timeout (<= 0: no limit) and the error then wraps
// ErrRenderTimeout; it wraps ErrNoGraphviz when the program is not
// installed. The Render is filled in either way.
func RenderSVG(ctx context.Context, dotPath, svgPath string, timeout time.Duration) (Render, error) {
	src, err := os.ReadFile(dotPath)
	if err != nil {
		return Render{}, fmt.Errorf("graph: render svg: %w", err)
	}
	r := Render{Nodes: len(dotNodeLine.FindAllIndex(src, -1))}
	r.Program = layoutProgram(r.Nodes)
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	began := time.Now()
	err = renderWith(ctx, r.Program, dotPath, svgPath)
	r.Elapsed = time.Since(began)
	if err != nil && timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return r, fmt.Errorf("graph: %s on %d nodes, killed after %s: %w", r.Program, r.Nodes, timeout, ErrRenderTimeout)
	}
	return r, err
}

// layoutProgram picks the Graphviz program for a DOT source by its node count.
func layoutProgram(nodes int) string {
	if nodes > SFDPOver {
		return "sfdp"
	}
	return "dot"
}

func renderWith(ctx context.Context, prog, dotPath, svgPath string) error {
	bin, err := exec.LookPath(prog)
	if err != nil {
		return fmt.Errorf("graph: render svg with %s: %w", prog, ErrNoGraphviz)
	}
	tmp, err := renameio.NewPendingFile(svgPath, renameio.WithPermissions(0o644))
	if err != nil {
		return fmt.Errorf("graph: render svg: %w", err)
	}
	defer tmp.Cleanup() // no-op after CloseAtomicallyReplace

	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-Tsvg", dotPath)
	cmd.Stdout = tmp
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second // killed: do not wait on pipes a child may hold
	if err := cmd.Run(); err != nil {
		msg := bytes.TrimSpace(stderr.Bytes())
		if len(msg) > 500 {
			msg = append(msg[:500:500], "…"...)
		}
		return fmt.Errorf("graph: %s -Tsvg %s: %w: %s", prog, dotPath, err, msg)
	}
	if err := tmp.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("graph: render svg: %w", err)
	}
	return nil
}
