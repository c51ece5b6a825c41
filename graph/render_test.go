package graph

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
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
	if err := RenderSVG(context.Background(), "testdata/sample.dot.golden", svgPath); err != nil {
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
	if err := RenderSVG(context.Background(), bad, out); err == nil || !strings.Contains(err.Error(), "dot -Tsvg") {
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
	if got := layoutProgram(b.Bytes()); got != "sfdp" {
		t.Fatalf("layoutProgram(%d nodes) = %s, want sfdp", len(f.Nodes()), got)
	}
	b.Reset()
	if err := WriteDOT(&b, f, DOTOptions{}); err != nil { // collapsed: a handful of nodes
		t.Fatal(err)
	}
	if got := layoutProgram(b.Bytes()); got != "dot" {
		t.Fatalf("layoutProgram(collapsed) = %s, want dot", got)
	}
	dir := t.TempDir()
	dotPath := filepath.Join(dir, "graph.dot")
	b.Reset()
	_ = WriteDOT(&b, f, DOTOptions{Full: true})
	if err := os.WriteFile(dotPath, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := RenderSVG(context.Background(), dotPath, filepath.Join(dir, "graph.svg")); err != nil {
		t.Fatal(err)
	}
}

func TestRenderSVGWithoutGraphviz(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := RenderSVG(context.Background(), "testdata/sample.dot.golden", filepath.Join(t.TempDir(), "g.svg"))
	if !errors.Is(err, ErrNoGraphviz) {
		t.Fatalf("RenderSVG without graphviz = %v, want ErrNoGraphviz", err)
	}
	if err := RenderSVG(context.Background(), "testdata/missing.dot", "x.svg"); err == nil || errors.Is(err, ErrNoGraphviz) {
		t.Errorf("RenderSVG(missing file) = %v, want a read error", err)
	}
}
