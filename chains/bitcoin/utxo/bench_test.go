package utxo

import (
	"math/rand/v2"
	"testing"
)

// benchBlock is a mainnet-sized block of 3,000 random transactions.
func benchBlock() ([]Tx, [][]int64) {
	r := rand.New(rand.NewPCG(1, 2))
	txs := make([]Tx, 3000)
	taint := make([][]int64, len(txs))
	for i := range txs {
		txs[i], taint[i] = randomTx(r)
		for j := range txs[i].Inputs {
			txs[i].Inputs[j].Address = p2wpkh(r.IntN(5000))
		}
		for j := range txs[i].Outputs {
			txs[i].Outputs[j].Address = p2wpkh(r.IntN(5000))
		}
	}
	return txs, taint
}

// BenchmarkBlockLogic runs everything this package does per transaction
// (taint under each model, change guess, CoinJoin check, clustering) over
// one 3,000-transaction block: the logic's share of a block scan.
func BenchmarkBlockLogic(b *testing.B) {
	txs, taint := benchBlock()
	b.ReportAllocs()
	for b.Loop() {
		c := NewClusters()
		for i, tx := range txs {
			for _, m := range Models() {
				if _, err := Spread(m, tx, taint[i]); err != nil {
					b.Fatal(err)
				}
			}
			GuessChange(tx)
			c.Add(tx)
		}
	}
}

func BenchmarkDetectCoinJoin(b *testing.B) {
	txs := []Tx{wabiSabiTx(), whirlpoolTx(5, 5_000_000, []int64{1_000}), batchedPayout(), payment()}
	b.ReportAllocs()
	for b.Loop() {
		for _, tx := range txs {
			DetectCoinJoin(tx)
		}
	}
}
