package tracer

import (
	"context"
	"slices"
	"testing"
)

// hubSource answers, for a contract asked for its outflows, its inflows too
// (as a UTXO transaction's hub answers its inputs).
type hubSource struct{ fakeSource }

func (h *hubSource) Transfers(ctx context.Context, q TransferQuery) ([]Transfer, error) {
	out, err := h.fakeSource.Transfers(ctx, q)
	if err != nil || q.Direction != Outgoing {
		return out, err
	}
	for _, t := range h.transfers {
		if h.contracts[t.To] && slices.Contains(q.Addresses, t.To) {
			out = append(out, t)
		}
	}
	return out, nil
}

// A pass-through's inflow from outside the trace is clean value in its
// balance: haircut shares its outflows pro rata, and the inflow is listed.
func TestWalkPassThroughInflows(t *testing.T) {
	in := eth(2, "seed", "hub", 60)
	outside := eth(2, "outsider", "hub", 40)
	outside.TxHash, outside.Seq, outside.TraceAddress = in.TxHash, 1, []int{1}
	first := eth(2, "hub", "a", 50)
	first.TxHash, first.Seq, first.TraceAddress = in.TxHash, 2, []int{2}
	second := eth(2, "hub", "b", 50)
	second.TxHash, second.Seq, second.TraceAddress = in.TxHash, 3, []int{3}
	src := &hubSource{fakeSource{
		transfers: []Transfer{eth(1, "victim", "seed", 60), in, outside, first, second},
		contracts: map[Address]bool{"hub": true},
	}}
	for _, tc := range []struct {
		model TaintModel
		a, b  int64
	}{{Poison{}, 50, 10}, {Haircut{}, 30, 30}} {
		tr := walk(t, src, Options{Taint: tc.model})
		checkConservation(t, tr)
		got := map[Address]int64{}
		for _, x := range tr.Transfers {
			if x.From == "hub" {
				got[x.To] = x.Tainted.Int64()
			}
		}
		if got["a"] != tc.a || got["b"] != tc.b {
			t.Errorf("%s: a got %d, b %d stolen; want %d, %d", tc.model.Name(), got["a"], got["b"], tc.a, tc.b)
		}
		if !slices.ContainsFunc(tr.Skipped, func(s Skip) bool { return s.ID == outside.ID() && s.Reason != "" }) {
			t.Errorf("%s: the outsider's inflow is not listed: %+v", tc.model.Name(), tr.Skipped)
		}
	}
}
