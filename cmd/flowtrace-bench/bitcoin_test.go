package main

import (
	"testing"
	"time"
)

// The Bitcoin scan row on a small window: one getblock per block, the
// figures filled (its verdict depends on the machine's load: not asserted).
func TestBTCScanRow(t *testing.T) {
	tab := &Table{}
	if err := btcScanRow(t.Context(), tab, 20, time.Millisecond, t.Output()); err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 1 {
		t.Fatalf("%d rows", len(tab.Rows))
	}
	f := tab.Rows[0].Figures
	if f["blocks"] != 20 || f["txs"] != 20*3000 || f["round_trips"] != 6 || f["decode_ms_per_block"] <= 0 || f["bound_ms"] <= 0 {
		t.Errorf("figures %v; want 20 blocks, 60,000 txs, 6 round trips (the hashes, then 5 batches of 4 blocks)", f)
	}
	t.Logf("peak %.0f MiB", f["peak_bytes"]/(1<<20))
	// The bound (500 MiB) holds the node's blocks and the scan; the
	// race detector's shadow memory is allowed on top of it.
	if bound := float64(500<<20) * raceMemoryFactor; f["peak_bytes"] <= 0 || f["peak_bytes"] >= bound {
		t.Errorf("peak %.0f MiB, want under %.0f MiB", f["peak_bytes"]/(1<<20), bound/(1<<20))
	}
}
