package utxo

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// txOf builds a transaction from input and output values (sats).
func txOf(ins, outs []int64) Tx {
	tx := Tx{TxID: "t"}
	for i, v := range ins {
		tx.Inputs = append(tx.Inputs, Input{Prev: Outpoint{TxID: "p", Vout: uint32(i)}, Value: v})
	}
	for i, v := range outs {
		tx.Outputs = append(tx.Outputs, Output{Index: uint32(i), Value: v})
	}
	return tx
}

func TestSpread(t *testing.T) {
	for _, c := range []struct {
		name       string
		ins, taint []int64
		outs       []int64
		model      TaintModel
		want       []int64
		wantFee    int64
	}{
		// 100 in (60 tainted), outputs 30, 50, fee 20.
		{"poison fills outputs in order", []int64{40, 60}, []int64{0, 60}, []int64{30, 50}, Poison{}, []int64{30, 30}, 0},
		{"poison reaches the fee last", []int64{40, 60}, []int64{40, 60}, []int64{30, 50}, Poison{}, []int64{30, 50}, 20},
		{"haircut pro rata", []int64{40, 60}, []int64{0, 60}, []int64{30, 50}, Haircut{}, []int64{18, 30}, 12},
		// shares 1/3 each of 1: the satoshi goes to the largest value.
		{"haircut remainder to the largest share", []int64{3}, []int64{1}, []int64{1, 2}, Haircut{}, []int64{0, 1}, 0},
		{"fifo clean first input fills the first output", []int64{40, 60}, []int64{0, 60}, []int64{30, 50}, FIFO{}, []int64{0, 40}, 20},
		{"fifo tainted first input", []int64{40, 60}, []int64{40, 0}, []int64{30, 50}, FIFO{}, []int64{30, 10}, 0},
		// one input of 10 with 3 tainted, split 5/5: 5*3/10 = 1 (rounded down), the rest 2 follows.
		{"fifo partial lot rounds down", []int64{10}, []int64{3}, []int64{5, 5}, FIFO{}, []int64{1, 2}, 0},
		{"no taint", []int64{10}, []int64{0}, []int64{9}, Haircut{}, []int64{0}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Spread(c.model, txOf(c.ins, c.outs), c.taint)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(Taint{Outputs: c.want, Fee: c.wantFee}, got); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestSpreadCoinbase(t *testing.T) {
	tx := Tx{TxID: "cb", Inputs: []Input{{Coinbase: true}}, Outputs: []Output{{Value: 312_500_000}}}
	got, err := Spread(Poison{}, tx, []int64{0})
	if err != nil || got.Total() != 0 || len(got.Outputs) != 1 {
		t.Fatalf("coinbase: %+v %v", got, err)
	}
	if _, err := Spread(Poison{}, tx, []int64{1}); err == nil {
		t.Error("a tainted coinbase input is accepted")
	}
}

func TestSpreadBadInput(t *testing.T) {
	for _, c := range []struct {
		name             string
		ins, taint, outs []int64
		want             string
	}{
		{"count", []int64{10}, []int64{1, 2}, []int64{5}, "2 input amounts for 1 inputs"},
		{"taint beyond value", []int64{10}, []int64{11}, []int64{5}, "taints 11 of 10"},
		{"negative taint", []int64{10}, []int64{-1}, []int64{5}, "taints -1 of 10"},
		{"outputs exceed inputs", []int64{10}, []int64{1}, []int64{11}, "exceed inputs"},
		{"negative output", []int64{10}, []int64{1}, []int64{-1}, "value -1"},
		{"input beyond all bitcoin", []int64{MaxMoney + 1}, []int64{1}, []int64{5}, "taints 1 of"},
		{"inputs summing beyond all bitcoin", []int64{MaxMoney, MaxMoney}, []int64{1, 1}, []int64{5}, "inputs sum past"},
		{"outputs summing beyond all bitcoin", []int64{MaxMoney}, []int64{1}, []int64{MaxMoney, MaxMoney}, "outputs sum past"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Spread(Poison{}, txOf(c.ins, c.outs), c.taint)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestModelNamed(t *testing.T) {
	for _, m := range Models() {
		got, err := ModelNamed(m.Name())
		if err != nil || got != m {
			t.Errorf("%s: %v %v", m.Name(), got, err)
		}
	}
	if _, err := ModelNamed("lifo"); err == nil || !strings.Contains(err.Error(), "poison, haircut, fifo") {
		t.Errorf("unknown model: %v", err)
	}
}

// randomTx draws a transaction of 1-12 inputs and 1-12 outputs with values
// up to 21M BTC, a fee, and a random taint per input.
func randomTx(r *rand.Rand) (Tx, []int64) {
	maxV := []int64{1000, 100_000_000, 2_100_000_000_000_000}[r.IntN(3)]
	ins := make([]int64, 1+r.IntN(12))
	taint := make([]int64, len(ins))
	var in int64
	for i := range ins {
		ins[i] = r.Int64N(maxV/int64(len(ins))) + 1
		in += ins[i]
		switch r.IntN(3) {
		case 0:
		case 1:
			taint[i] = ins[i]
		default:
			taint[i] = r.Int64N(ins[i] + 1)
		}
	}
	out := in - r.Int64N(in/10+1) // a fee up to a tenth
	outs := make([]int64, 1+r.IntN(12))
	for i := range outs {
		if i == len(outs)-1 {
			outs[i] = out
			break
		}
		outs[i] = r.Int64N(out/2 + 1)
		out -= outs[i]
	}
	return txOf(ins, outs), taint
}

// TestSpreadProperties checks, over random transactions and every model:
// conservation, no output tainted beyond its value, and the order
// independence each model promises.
func TestSpreadProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 2))
	for n := range 3000 {
		tx, taint := randomTx(r)
		var want int64
		for _, x := range taint {
			want += x
		}
		for _, m := range Models() {
			got, err := Spread(m, tx, taint)
			if err != nil {
				t.Fatalf("#%d %s: %v", n, m.Name(), err)
			}
			if got.Total() != want {
				t.Fatalf("#%d %s: outputs+fee carry %d, inputs %d", n, m.Name(), got.Total(), want)
			}
			for i, o := range got.Outputs {
				if o < 0 || o > tx.Outputs[i].Value {
					t.Fatalf("#%d %s: output %d tainted %d of %d", n, m.Name(), i, o, tx.Outputs[i].Value)
				}
			}
			if got.Fee < 0 || got.Fee > tx.Fee() {
				t.Fatalf("#%d %s: fee tainted %d of %d", n, m.Name(), got.Fee, tx.Fee())
			}
			if m.Name() == "fifo" {
				continue // FIFO is defined by both orders
			}
			// Poison and haircut depend on the inputs only through their totals.
			p := r.Perm(len(tx.Inputs))
			tx2, taint2 := tx, make([]int64, len(taint))
			tx2.Inputs = make([]Input, len(tx.Inputs))
			for i, j := range p {
				tx2.Inputs[i], taint2[i] = tx.Inputs[j], taint[j]
			}
			got2, _ := Spread(m, tx2, taint2)
			if !slices.Equal(got.Outputs, got2.Outputs) || got.Fee != got2.Fee {
				t.Fatalf("#%d %s: input order changes the result: %v / %v", n, m.Name(), got, got2)
			}
			if m.Name() == "haircut" {
				// Each share is within one satoshi of value x tainted / inputs.
				in := tx.Fee()
				for _, o := range tx.Outputs {
					in += o.Value
				}
				for i, o := range got.Outputs {
					q, rem := mulDiv(tx.Outputs[i].Value, want, in)
					if o != q && !(o == q+1 && rem > 0) {
						t.Fatalf("#%d haircut: output %d got %d, share %d+%d/%d", n, i, o, q, rem, in)
					}
				}
			}
		}
	}
}

// FIFO: the first input fills the first output; a tainted first input and
// a clean rest taint the first outputs only.
func TestFIFOOrder(t *testing.T) {
	tx := txOf([]int64{50, 50}, []int64{50, 40})
	got, _ := Spread(FIFO{}, tx, []int64{50, 0})
	if !slices.Equal(got.Outputs, []int64{50, 0}) || got.Fee != 0 {
		t.Fatalf("tainted first input: %+v", got)
	}
	got, _ = Spread(FIFO{}, tx, []int64{0, 50})
	if !slices.Equal(got.Outputs, []int64{0, 40}) || got.Fee != 10 {
		t.Fatalf("tainted second input: %+v", got)
	}
}
