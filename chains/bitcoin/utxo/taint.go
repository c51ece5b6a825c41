package utxo

import (
	"fmt"
	"math/bits"
	"strings"
)

// TaintModel decides how a transaction's tainted inputs taint its outputs.
// The models mirror the EVM ones (tracer: poison, haircut, fifo) with the
// transaction in place of an address's purse: the inputs are what arrived,
// in input order, and the outputs are what leaves, in output order.
//
// The fee is the last "output": the miner is paid after every output, so
// under poison-first and FIFO the fee takes taint only once the outputs
// before it are served, and under haircut it takes its pro-rata share.
// Every model conserves taint (outputs + fee = inputs) and never taints an
// output beyond its value. Each model is one file: poison.go, haircut.go,
// fifo.go.
type TaintModel interface {
	// Name is the model's name, as in --taint.
	Name() string
	// split spreads the lots' taint over slots (output values, then the
	// fee), whose values sum to the lots' values.
	split(lots []lot, slots []int64) []int64
}

// MaxMoney is the most satoshis that can exist (21 million BTC): no value
// or sum of values beyond it is a real amount.
const MaxMoney = 21_000_000 * 100_000_000

// lot is one input: its value and its tainted part.
type lot struct{ value, tainted int64 }

// Models lists the UTXO taint models, in the order of tracer.TaintModels.
func Models() []TaintModel { return []TaintModel{Poison{}, Haircut{}, FIFO{}} }

// ModelNamed returns the model named name (the names of --taint).
func ModelNamed(name string) (TaintModel, error) {
	var names []string
	for _, m := range Models() {
		if m.Name() == name {
			return m, nil
		}
		names = append(names, m.Name())
	}
	return nil, fmt.Errorf("utxo: taint model %q: want one of %s", name, strings.Join(names, ", "))
}

// Taint is the stolen part of each output of a transaction and of its fee,
// in satoshis.
type Taint struct {
	Outputs []int64 // by output position (not Output.Index)
	Fee     int64
}

// Total is the taint of the outputs and the fee together.
func (t Taint) Total() int64 {
	s := t.Fee
	for _, o := range t.Outputs {
		s += o
	}
	return s
}

// Spread applies m to tx: inputs[i] is the tainted part of tx.Inputs[i]
// (0 <= inputs[i] <= its value). A coinbase transaction spends nothing and
// passes no taint. It fails when the amounts are inconsistent (a taint
// beyond its input's value, outputs worth more than the inputs).
func Spread(m TaintModel, tx Tx, inputs []int64) (Taint, error) {
	if len(inputs) != len(tx.Inputs) {
		return Taint{}, fmt.Errorf("utxo: taint %s: %d input amounts for %d inputs", tx.TxID, len(inputs), len(tx.Inputs))
	}
	res := Taint{Outputs: make([]int64, len(tx.Outputs))}
	lots := make([]lot, len(tx.Inputs))
	var in, tainted int64
	for i, x := range tx.Inputs {
		if x.Coinbase {
			if inputs[i] != 0 {
				return Taint{}, fmt.Errorf("utxo: taint %s: coinbase input %d tainted", tx.TxID, i)
			}
			return res, nil
		}
		if x.Value < 0 || x.Value > MaxMoney || inputs[i] < 0 || inputs[i] > x.Value {
			return Taint{}, fmt.Errorf("utxo: taint %s: input %d taints %d of %d sats", tx.TxID, i, inputs[i], x.Value)
		}
		lots[i] = lot{x.Value, inputs[i]}
		in += x.Value
		tainted += inputs[i]
		if in > MaxMoney {
			return Taint{}, fmt.Errorf("utxo: taint %s: inputs sum past 21 million BTC", tx.TxID)
		}
	}
	slots := make([]int64, len(tx.Outputs)+1)
	var out int64
	for i, o := range tx.Outputs {
		if o.Value < 0 || o.Value > MaxMoney {
			return Taint{}, fmt.Errorf("utxo: taint %s: output %d has value %d", tx.TxID, i, o.Value)
		}
		slots[i] = o.Value
		out += o.Value
		if out > MaxMoney {
			return Taint{}, fmt.Errorf("utxo: taint %s: outputs sum past 21 million BTC", tx.TxID)
		}
	}
	if out > in {
		return Taint{}, fmt.Errorf("utxo: taint %s: outputs %d sats exceed inputs %d sats", tx.TxID, out, in)
	}
	slots[len(tx.Outputs)] = in - out
	if tainted == 0 {
		return res, nil
	}
	got := m.split(lots, slots)
	copy(res.Outputs, got[:len(tx.Outputs)])
	res.Fee = got[len(tx.Outputs)]
	return res, nil
}

// mulDiv is a*b/c rounded down, with its remainder, for 0 <= a*b/c < 2^63
// (a, b, c >= 0, c > 0): the 128-bit product does not overflow.
func mulDiv(a, b, c int64) (q, r int64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	uq, ur := bits.Div64(hi, lo, uint64(c))
	return int64(uq), int64(ur)
}
