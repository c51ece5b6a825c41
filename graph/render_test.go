package graph

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// needGraphviz skips when prog is missing, except under CI=true where it fails.
func needGraphviz(t *testing.T, prog string) string {
	t.Helper()
	bin, err := exec.LookPath(prog)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed but CI=true: install graphviz", prog)
		}
		t.Skipf("%s not installed", prog)
	}
	return bin
}

// TestGoldenDOTParsesWithGraphviz lays out every golden DOT file (including
// the hostile one) with both dot and sfdp.
func TestGoldenDOTParsesWithGraphviz(t *testing.T) {
	files, err := filepath.Glob("testdata/*.dot.golden")
	if err != nil || len(files) < 4 {
		t.Fatalf("golden DOT files: %v, %v", files, err)
	}
	for _, prog := range []string{"dot", "sfdp"} {
		bin := needGraphviz(t, prog)
		for _, file := range files {
			t.Run(prog+"/"+filepath.Base(file), func(t *testing.T) {
				svg := layout(t, bin, file)
				if !bytes.Contains(svg, []byte("<svg")) {
					t.Fatalf("%s -Tsvg %s wrote no SVG", prog, file)
				}
			})
		}
	}
}

func layout(t *testing.T, bin, file string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-Tsvg", file)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s -Tsvg %s: %v\n%s", filepath.Base(bin), file, err, stderr.String())
	}
	// Graphviz reports syntax errors on stderr even when it exits 0 with a partial graph.
	if strings.Contains(stderr.String(), "syntax error") {
		t.Fatalf("%s -Tsvg %s: %s", filepath.Base(bin), file, stderr.String())
	}
	return stdout.Bytes()
}

// TestGraphvizRejectsUnescapedQuote shows the check above can fail: an
// unescaped quote in a label (what dominikbraun's draw.DOT writes) does not parse.
func TestGraphvizRejectsUnescapedQuote(t *testing.T) {
	bin := needGraphviz(t, "dot")
	path := filepath.Join(t.TempDir(), "bad.dot")
	if err := os.WriteFile(path, []byte("digraph g {\n\ta[label=\"say \"hi\"\"];\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(bin, "-Tsvg", "-o", os.DevNull, path).Run(); err == nil {
		t.Fatal("dot accepted an unescaped quote; the parse check proves nothing")
	}
}

func TestHostileLabelsReachSVG(t *testing.T) {
	bin := needGraphviz(t, "dot")
	svg := layout(t, bin, "testdata/hostile.dot.golden")
	// The injected text is a label, not DOT: no node n1 -> n2 edge was created
	// and the text shows up escaped in the SVG.
	if !bytes.Contains(svg, []byte("n1 &#45;&gt; n2 [label=&quot;pwn")) {
		t.Errorf("injected label text not rendered as text:\n%s", svg)
	}
	if bytes.Contains(svg, []byte("<html>")) {
		t.Error("raw <html> reached the SVG")
	}
}

func TestRenderSVG(t *testing.T) {
	needGraphviz(t, "dot")
	dir := t.TempDir()
	svgPath := filepath.Join(dir, "graph.svg")
	if _, err := RenderSVG(context.Background(), "testdata/sample.dot.golden", svgPath, 0); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil || !bytes.Contains(svg, []byte("THORChain Router")) {
		t.Fatalf("graph.svg lacks the bridge label (%v)", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	// A broken DOT file fails and leaves no SVG behind.
	bad := filepath.Join(dir, "bad.dot")
	if err := os.WriteFile(bad, []byte("digraph {"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bad.svg")
	if _, err := RenderSVG(context.Background(), bad, out, 0); err == nil || !strings.Contains(err.Error(), "dot -Tsvg") {
		t.Errorf("RenderSVG(broken) = %v, want a dot -Tsvg error", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("broken render left %s: %v", out, err)
	}
}

func TestRenderSVGLargeUsesSFDP(t *testing.T) {
	needGraphviz(t, "sfdp")
	f, err := Build(fanoutTrace(SFDPOver+10), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteDOT(&b, f, DOTOptions{Full: true}); err != nil {
		t.Fatal(err)
	}
	if got := layoutProgram(len(dotNodeLine.FindAll(b.Bytes(), -1))); got != "sfdp" {
		t.Fatalf("layoutProgram(%d nodes) = %s, want sfdp", len(f.Nodes()), got)
	}
	b.Reset()
	if err := WriteDOT(&b, f, DOTOptions{}); err != nil { // collapsed: a handful of nodes
		t.Fatal(err)
	}
	if got := layoutProgram(len(dotNodeLine.FindAll(b.Bytes(), -1))); got != "dot" {
		t.Fatalf("layoutProgram(collapsed) = %s, want dot", got)
	}
	dir := t.TempDir()
	dotPath := filepath.Join(dir, "graph.dot")
	b.Reset()
	_ = WriteDOT(&b, f, DOTOptions{Full: true})
	if err := os.WriteFile(dotPath, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := RenderSVG(context.Background(), dotPath, filepath.Join(dir, "graph.svg"), 0)
	if err != nil || r.Program != "sfdp" || r.Nodes <= SFDPOver {
		t.Fatalf("RenderSVG = %+v, %v; want sfdp on over %d nodes", r, err, SFDPOver)
	}
}

func TestRenderSVGWithoutGraphviz(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := RenderSVG(context.Background(), "testdata/sample.dot.golden", filepath.Join(t.TempDir(), "g.svg"), 0)
	if !errors.Is(err, ErrNoGraphviz) {
		t.Fatalf("RenderSVG without graphviz = %v, want ErrNoGraphviz", err)
	}
	if _, err := RenderSVG(context.Background(), "testdata/missing.dot", "x.svg", 0); err == nil || errors.Is(err, ErrNoGraphviz) {
		t.Errorf("RenderSVG(missing file) = %v, want a read error", err)
	}
}

// A layout program that does not finish is killed at the time limit, and
// no graph.svg is left behind. The fake dot never ends, so the limit hits
// however fast the machine is.
func TestRenderSVGTimeLimitKillsTheLayout(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "dot"), []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := t.TempDir()
	svg := filepath.Join(dir, "graph.svg")
	r, err := RenderSVG(context.Background(), "testdata/sample.dot.golden", svg, 10*time.Millisecond)
	if !errors.Is(err, ErrRenderTimeout) {
		t.Fatalf("RenderSVG = %v, want ErrRenderTimeout", err)
	}
	if r.Program != "dot" || r.Nodes == 0 {
		t.Errorf("Render = %+v, want dot and the node count", r)
	}
	if got := r.Command("g.dot", "g.svg"); got != "dot -Tsvg g.dot -o g.svg" {
		t.Errorf("Command = %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a killed layout left %v", entries)
	}
}

// A drawing laid out by sfdp carries the edge amounts as tooltips, not labels
// (labels make sfdp several times slower); a small one keeps its labels.
func TestWriteDOTLargeDrawingMovesAmountsToTooltips(t *testing.T) {
	for _, c := range []struct {
		n     int
		label bool
	}{{5, true}, {SFDPOver + 10, false}} {
		f, err := Build(fanoutTrace(c.n), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteDOT(&b, f, DOTOptions{Full: true}); err != nil {
			t.Fatal(err)
		}
		edge := regexp.MustCompile(`(?m)^\s*n[0-9]+->n[0-9]+\[(.*)\];$`).FindSubmatch(b.Bytes())
		if edge == nil {
			t.Fatalf("%d nodes: no edge in\n%s", c.n, b.String())
		}
		if got := bytes.Contains(edge[1], []byte("label=")); got != c.label || !bytes.Contains(edge[1], []byte(" tx)")) {
			t.Errorf("%d nodes: edge attributes %s, want label %v and the amount", c.n, edge[1], c.label)
		}
	}
}
