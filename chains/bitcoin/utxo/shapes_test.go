package utxo

import (
	"fmt"
	"slices"
	"testing"
)

// peelRun builds n chained peel steps from 10 BTC, each peeling pct
// percent to a fresh address and passing the rest on.
func peelRun(n int, pct int64) []Tx {
	var txs []Tx
	prev, value := Outpoint{TxID: "seed", Vout: 0}, int64(1_000_000_000)
	for i := range n {
		peel := value * pct / 100
		rest := value - peel - 1_000
		tx := Tx{TxID: fmt.Sprintf("peel%d", i), Inputs: []Input{{Prev: prev, Address: p2wpkh(500 + i), Value: value}},
			Outputs: []Output{{Index: 0, Address: p2wpkh(600 + i), Value: peel}, {Index: 1, Address: p2wpkh(501 + i), Value: rest}}}
		if i%2 == 1 { // the rest first: order does not matter
			tx.Outputs[0], tx.Outputs[1] = Output{Index: 0, Address: p2wpkh(501 + i), Value: rest}, Output{Index: 1, Address: p2wpkh(600 + i), Value: peel}
		}
		txs = append(txs, tx)
		rIdx := uint32(1)
		if i%2 == 1 {
			rIdx = 0
		}
		prev, value = Outpoint{TxID: tx.TxID, Vout: rIdx}, rest
	}
	return txs
}

func TestPeelChain(t *testing.T) {
	steps, ok := PeelChain(peelRun(5, 10), ShapeOptions{})
	if !ok || len(steps) != 5 {
		t.Fatalf("5 peels of 10%%: %d steps, %v", len(steps), ok)
	}
	for i, s := range steps {
		if s.PeelValue >= s.RestValue || s.TxID != fmt.Sprintf("peel%d", i) {
			t.Errorf("step %d: %+v", i, s)
		}
		// The first peel is a round 1 BTC: the rest is change by the round rule.
		if want := map[bool]float64{true: 0.6, false: 0}[i == 0]; s.RestIsChange != want {
			t.Errorf("step %d: rest is change %v, want %v", i, s.RestIsChange, want)
		}
	}
	if _, ok := PeelChain(peelRun(2, 10), ShapeOptions{}); ok {
		t.Error("2 steps make a chain (default 3)")
	}
	if steps, ok := PeelChain(peelRun(5, 45), ShapeOptions{}); ok || len(steps) != 0 {
		t.Errorf("45%% splits are peels: %v", steps)
	}
	if _, ok := PeelChain(peelRun(5, 45), ShapeOptions{MaxPeelPercent: 50}); !ok {
		t.Error("MaxPeelPercent 50 does not admit 45% peels")
	}
	// A step that spends something else breaks the chain there.
	run := peelRun(5, 10)
	run[3].Inputs[0].Prev = Outpoint{TxID: "elsewhere"}
	if steps, ok := PeelChain(run, ShapeOptions{}); !ok || len(steps) != 3 {
		t.Errorf("broken at 3: %d steps, %v", len(steps), ok)
	}
	// A CoinJoin, a payment with three outputs: not peel steps.
	if _, ok := PeelOf(whirlpoolTx(5, 1_000_000, []int64{1_000}), ShapeOptions{}); ok {
		t.Error("a CoinJoin is a peel step")
	}
	three := txOf([]int64{100}, []int64{10, 20, 60})
	if _, ok := PeelOf(three, ShapeOptions{}); ok {
		t.Error("three outputs make a peel step")
	}
}

func TestScatter(t *testing.T) {
	batch := batchedPayout() // 30 fresh outputs
	sc, ok := ScatterOf([]Tx{batch}, nil, ShapeOptions{})
	if !ok || len(sc.Recipients) != 30 || sc.Txs != 1 || !slices.IsSorted(sc.Recipients) {
		t.Fatalf("batch: %d recipients, %d txs, %v", len(sc.Recipients), sc.Txs, ok)
	}
	var sum int64
	for _, o := range batch.Outputs {
		sum += o.Value
	}
	if sc.Value != sum {
		t.Errorf("value %d, want %d", sc.Value, sum)
	}
	// A run of peels pays 5 fresh addresses over 5 transactions, and the
	// last rest; the other rests go to the next step's input address.
	sc, ok = ScatterOf(peelRun(5, 10), nil, ShapeOptions{})
	if !ok || len(sc.Recipients) != 6 || sc.Txs != 5 || slices.Contains(sc.Recipients, p2wpkh(503)) {
		t.Fatalf("peel run: %+v %v", sc, ok)
	}
	// Addresses with a history are not fresh.
	known := func(a string) bool { return a == p2wpkh(600) || a == p2wpkh(601) || a == p2wpkh(602) }
	if sc, ok := ScatterOf(peelRun(5, 10), known, ShapeOptions{}); ok || len(sc.Recipients) != 3 {
		t.Errorf("with history: %+v %v", sc, ok)
	}
	if _, ok := ScatterOf([]Tx{payment()}, nil, ShapeOptions{}); ok {
		t.Error("a payment is a scatter")
	}
	if sc, ok := ScatterOf([]Tx{wabiSabiTx()}, nil, ShapeOptions{}); ok || sc.Txs != 0 {
		t.Error("a CoinJoin is a scatter")
	}
}
