package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A layout that does not finish in the limit leaves graph.svg out (a stale
// one from an earlier run too) with one line saying how to render it.
func TestWriteSVGLeftOutWithOneLine(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "dot"), []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := t.TempDir()
	dotPath, svgPath := filepath.Join(dir, "graph.dot"), filepath.Join(dir, "graph.svg")
	if err := os.WriteFile(dotPath, []byte("digraph flow {\n\tn1[label=\"a\"];\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		timeout time.Duration
		want    string
	}{
		{10 * time.Millisecond, "dot did not lay out 1 nodes in the 10ms left of --render-timeout 10ms; render it with: dot -Tsvg " + dotPath + " -o " + svgPath},
		{0, "(--render-timeout 0); render it with: dot -Tsvg " + dotPath},
	} {
		if err := os.WriteFile(svgPath, []byte("<svg>old</svg>"), 0o644); err != nil {
			t.Fatal(err)
		}
		var lines []string
		got, note := writeSVG(context.Background(), dotPath, svgPath, c.timeout, c.timeout, func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) })
		if got != "" || note != "" {
			t.Errorf("timeout %s: writeSVG = %q, %q; want it left out", c.timeout, got, note)
		}
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "output: graph.svg left out") || !strings.Contains(lines[0], c.want) {
			t.Errorf("timeout %s: logged %q, want one line with %q", c.timeout, lines, c.want)
		}
		if _, err := os.Stat(svgPath); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("timeout %s: the stale graph.svg is still there (%v)", c.timeout, err)
		}
	}
}
