package graph

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// WriteFiles writes the same bytes as the four writers on the detected flow.
func TestWriteFilesEqualsWriters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	paths, err := WriteFiles(dir, sampleTrace(), sampleMeta, DOTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Build(sampleTrace(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.Detect(DetectOptions{})
	var j, d, c, r bytes.Buffer
	if err := WriteJSON(&j, f, sampleMeta); err != nil {
		t.Fatal(err)
	}
	if err := WriteDOT(&d, f, DOTOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&c, f); err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(&r, f, sampleMeta); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"graph.json": j.Bytes(), "graph.dot": d.Bytes(), "transfers.csv": c.Bytes(), "report.md": r.Bytes()}
	if len(paths) != len(want) {
		t.Fatalf("wrote %v, want %d files", paths, len(want))
	}
	for _, p := range paths {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if w, ok := want[filepath.Base(p)]; !ok || !bytes.Equal(got, w) || len(got) == 0 {
			t.Errorf("%s: %d bytes differ from its writer's %d", p, len(got), len(w))
		}
	}
}
