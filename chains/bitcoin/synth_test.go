package bitcoin

import (
	"context"
	"slices"
	"testing"

	"github.com/flowtrace/flowtrace/fixtures/btcsynth"
)

// The scan over a synthetic Core-shaped chain: every block once, in order,
// inputs valued from "prevout" with no further call.
func TestScanSynthetic(t *testing.T) {
	srv, err := btcsynth.Start(btcsynth.Config{Blocks: 9, TxsPerBlock: 40, Templates: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := Dial(srv.URL(), Options{MaxConcurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.ProbeNode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// It serves no getrawtransaction: no transaction index, a block scan.
	if p.Chain != "main" || p.Height != 9 || p.TxIndex || p.Spends != SpendsByBlockScan || p.CheckWindow(2) == nil {
		t.Errorf("probe %+v", p)
	}
	s := NewScanner(c, ScanOptions{BlocksPerBatch: 2})
	var heights []uint64
	txs := 0
	err = s.Scan(context.Background(), 2, 9, func(b *Block) error {
		heights = append(heights, b.Height)
		if b.Hash != btcsynth.Hash(int(b.Height)) || len(b.Txs) != 40 {
			t.Errorf("block %d: hash %s, %d txs", b.Height, b.Hash, len(b.Txs))
		}
		for _, tx := range b.Txs[1:] {
			txs++
			if tx.Fee() < 500 || tx.Fee() >= 5500 || tx.Inputs[0].Address == "" || tx.Outputs[1].Address == "" {
				t.Errorf("tx %s: fee %d, inputs %+v", tx.TxID, tx.Fee(), tx.Inputs)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(heights, want) {
		t.Errorf("visited %v, want %v", heights, want)
	}
	if srv.GetBlocks() != 8 || s.Reads() != 8 || txs != 8*39 {
		t.Errorf("%d getblock calls, %d reads, %d txs; want 8, 8, %d", srv.GetBlocks(), s.Reads(), txs, 8*39)
	}
	if s.Block(2) != nil {
		t.Error("Scan kept a block")
	}
}

// BenchmarkDecodeBlock is the decoding of one mainnet-sized getblock answer
// (3,000 transactions) into utxo.Tx.
func BenchmarkDecodeBlock(b *testing.B) {
	srv, err := btcsynth.Start(btcsynth.Config{Blocks: 2, Templates: 1})
	if err != nil {
		b.Fatal(err)
	}
	srv.Close()
	data := srv.Block(1)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if blk, missing, err := DecodeBlock(data); err != nil || missing != 0 || len(blk.Txs) != 3000 {
			b.Fatal(err)
		}
	}
}
