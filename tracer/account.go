package tracer

import (
	"cmp"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// ErrUnaccounted means the walk read a transfer that ended neither in the
// trace, nor in the seeds' credits, nor under skipped: a bug, never a
// property of the data.
var ErrUnaccounted = errors.New("transfers read but neither traced, credited nor skipped")

// checkAccounted is the walk's invariant: every transfer read for an
// expanded address is a traced transfer, a credit of stolen value to a seed,
// or skipped with a reason.
func (w *walker) checkAccounted(t *Trace) error {
	done := make(map[string]bool, len(w.read))
	if len(w.traced) == len(t.Transfers) {
		for _, id := range w.traced { // the IDs of t.Transfers
			done[id] = true
		}
	} else {
		for _, tr := range t.Transfers {
			done[tr.ID()] = true
		}
	}
	for id := range w.ledger.credits {
		if !w.ledger.clean[id] {
			done[id] = true
		}
	}
	for _, s := range t.Skipped {
		if s.ID != "" && s.Reason != "" && s.Reason != "unaccounted" {
			done[s.ID] = true
		}
	}
	var missing []string
	for id := range w.read {
		if !done[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("tracer: %d %w (first %s)", len(missing), ErrUnaccounted, missing[0])
}

// unexplainedList is the ledger's unexplained outflows in a stable order.
func (l *ledger) unexplainedList() []Unexplained {
	var out []Unexplained
	for _, u := range l.unexplained {
		out = append(out, Unexplained{Address: u.Address, Asset: u.Asset, Amount: new(big.Int).Set(u.Amount), TxHash: u.TxHash, Block: u.Block})
	}
	slices.SortFunc(out, func(a, b Unexplained) int {
		return cmp.Or(strings.Compare(string(a.Address), string(b.Address)), strings.Compare(string(a.Asset), string(b.Asset)))
	})
	return out
}
