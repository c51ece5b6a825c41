package main

import (
	"context"
	"io"
	"testing"

	"github.com/flowtrace/flowtrace/cache/memory"
	"github.com/flowtrace/flowtrace/fixtures/synthnode"
	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

// synthTrace walks the 6-hop synthetic flow of n addresses on an in-process
// node, as the cache rows do.
func synthTrace(tb testing.TB, n int) *tracer.Trace {
	ctx := context.Background()
	g := synthnode.Generate(synthnode.Config{Seed: 21, Addresses: n, Hops: 6})
	srv, err := synthnode.Start(g, synthnode.Options{BatchLimit: 1000, MaxAddresses: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	defer srv.Close()
	nd, err := openCached(ctx, srv.URL(), memory.New(), "outputs")
	if err != nil {
		tb.Fatal(err)
	}
	defer nd.src.Close()
	tr, err := nd.walk(ctx, g)
	if err == nil {
		err = exact(tr, g)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

// BenchmarkOutputs times each step from a trace to the four files on the
// 3,000-address synthetic trace: Build, Detect and each writer.
func BenchmarkOutputs(b *testing.B) {
	tr := synthTrace(b, 3000)
	meta := graph.Meta{}
	built := func(b *testing.B) *graph.Flow {
		f, err := graph.Build(tr, graph.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	b.Run("Build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			built(b)
		}
	})
	b.Run("Detect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			f := built(b)
			b.StartTimer()
			f.Detect(graph.DetectOptions{})
		}
	})
	f := built(b)
	f.Detect(graph.DetectOptions{})
	writers := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"WriteJSON", func(w io.Writer) error { return graph.WriteJSON(w, f, meta) }},
		{"WriteDOT", func(w io.Writer) error { return graph.WriteDOT(w, f, graph.DOTOptions{}) }},
		{"WriteCSV", func(w io.Writer) error { return graph.WriteCSV(w, f) }},
		{"WriteReport", func(w io.Writer) error { return graph.WriteReport(w, f, meta) }},
	}
	for _, wr := range writers {
		b.Run(wr.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := wr.write(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteFiles is the whole step after a warm walk: Build, Detect
// and the four files written into a folder, as flowtrace trace writes them.
func BenchmarkWriteFiles(b *testing.B) {
	tr := synthTrace(b, 3000)
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := graph.WriteFiles(dir, tr, graph.Meta{}, graph.DOTOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
