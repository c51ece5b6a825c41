package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/flowtrace/flowtrace/cache"
)

// Bench measures batched gets and sets of hop-sized entries (value bytes,
// batch keys per call); it reports entries per second.
func Bench(b *testing.B, s cache.Store, value, batch int) {
	ctx := context.Background()
	v := make([]byte, value)
	entries := map[string][]byte{}
	keys := make([]string, batch)
	for i := range batch {
		keys[i] = fmt.Sprintf("1337/bench/v1/t/o/0x%040x", i)
		entries[keys[i]] = v
	}
	b.Run("set", func(b *testing.B) {
		for b.Loop() {
			if err := s.SetMany(ctx, entries); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("get", func(b *testing.B) {
		for b.Loop() {
			got, err := s.GetMany(ctx, keys)
			if err != nil || len(got) != batch {
				b.Fatal(len(got), err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
	})
}
