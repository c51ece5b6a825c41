package evm

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"
)

// TestBlockEncoding: a recorded block survives the store's encoding, and
// every truncation or foreign version is refused.
func TestBlockEncoding(t *testing.T) {
	var traces []txTrace
	readJSON(t, recCallTracer, &traces)
	b, err := blockFromTraces(2, traces)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.moves) == 0 {
		t.Fatal("the recorded block has no moves: a weak test")
	}
	data := encodeBlock(b)
	got, err := decodeBlock(2, data)
	if err != nil {
		t.Fatal(err)
	}
	opt := cmp.Comparer(func(a, b uint256.Int) bool { return a.Eq(&b) })
	if d := cmp.Diff(b, got, cmp.AllowUnexported(scannedBlock{}, move{}), opt); d != "" {
		t.Fatal(d)
	}
	t.Logf("block 2: %d transactions, %d moves, %d bytes", len(b.txHash), len(b.moves), len(data))
	if _, err := decodeBlock(3, data); err == nil {
		t.Error("block 2 decoded as block 3")
	}
	for n := range len(data) {
		if _, err := decodeBlock(2, data[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: accepted", n)
		}
	}
	data[0] = blockFormat + 1
	if _, err := decodeBlock(2, data); err == nil {
		t.Error("a foreign format was accepted")
	}
}
