package graph

import (
	"io"
	"testing"
)

// BenchmarkBuildAndWrite builds a 20k-leaf fan-out and writes JSON and DOT.
func BenchmarkBuildAndWrite(b *testing.B) {
	tr := fanoutTrace(20000)
	b.ReportAllocs()
	for b.Loop() {
		f, err := Build(tr, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteJSON(io.Discard, f, Meta{}); err != nil {
			b.Fatal(err)
		}
		if err := WriteDOT(io.Discard, f, DOTOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
