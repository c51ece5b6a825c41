package utxo

// FIFO taint: value leaves in the order it came in. The inputs, in input
// order, fill the outputs in output order (then the fee); an output filled
// from part of an input takes that part's taint pro rata (rounded down, the
// rest staying with the input's remainder). It depends on both orders.
type FIFO struct{}

// Name implements TaintModel.
func (FIFO) Name() string { return "fifo" }

func (FIFO) split(lots []lot, slots []int64) []int64 {
	ls := append([]lot(nil), lots...)
	out := make([]int64, len(slots))
	k := 0
	for i, need := range slots {
		for need > 0 && k < len(ls) {
			l := &ls[k]
			if l.value <= need {
				need -= l.value
				out[i] += l.tainted
				k++
				continue
			}
			part, _ := mulDiv(need, l.tainted, l.value)
			l.value -= need
			l.tainted -= part
			out[i] += part
			need = 0
		}
	}
	return out
}
