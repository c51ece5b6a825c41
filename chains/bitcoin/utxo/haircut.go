package utxo

import "sort"

// Haircut taint: every output (and the fee) carries the transaction's
// stolen share, value x tainted / inputs. Shares are whole satoshis by
// the largest-remainder method: each slot gets its share rounded down, and
// the satoshis left go one each to the slots with the largest remainders
// (ties: the larger value, then the earlier slot), so no slot gets more
// than its share rounded up. It depends on the inputs only through their
// totals, and on output order only in those ties.
type Haircut struct{}

// Name implements TaintModel.
func (Haircut) Name() string { return "haircut" }

func (Haircut) split(lots []lot, slots []int64) []int64 {
	var total, tainted int64
	for _, l := range lots {
		total += l.value
		tainted += l.tainted
	}
	out := make([]int64, len(slots))
	rem := make([]int64, len(slots))
	left := tainted
	for i, v := range slots {
		out[i], rem[i] = mulDiv(v, tainted, total)
		left -= out[i]
	}
	order := make([]int, len(slots))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		i, j := order[a], order[b]
		if rem[i] != rem[j] {
			return rem[i] > rem[j]
		}
		return slots[i] > slots[j]
	})
	for _, i := range order {
		if left == 0 {
			break
		}
		if rem[i] > 0 {
			out[i]++
			left--
		}
	}
	return out
}
