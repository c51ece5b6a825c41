package utxo

// Poison is poison-first taint: the outputs, in output order, take the
// transaction's stolen value first, each up to its value; the fee takes
// what is left. It depends on the inputs only through their total taint.
type Poison struct{}

// Name implements TaintModel.
func (Poison) Name() string { return "poison" }

func (Poison) split(lots []lot, slots []int64) []int64 {
	var left int64
	for _, l := range lots {
		left += l.tainted
	}
	out := make([]int64, len(slots))
	for i, v := range slots {
		out[i] = min(v, left)
		left -= out[i]
	}
	return out
}
