package evm

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/tracer"
)

// traceFilter asks trace_filter for the value traces sent (fromAddress) or
// received (toAddress) by addrs: one request per OR-list for the window,
// split like eth_getLogs when the node refuses the size, or read in pages
// (after / count) when the node caps its answers and says at how many.
func (s *Source) traceFilter(ctx context.Context, dir tracer.Direction, addrs []common.Address, w tracer.BlockRange) ([]tracer.Transfer, error) {
	side := "fromAddress"
	if dir == tracer.Incoming {
		side = "toAddress"
	}
	var qs []rangeQuery
	for _, c := range chunks(addrs, s.addressesPerQuery) {
		qs = append(qs, rangeQuery{addrs: c, from: w.From, to: w.To})
	}
	var out []tracer.Transfer
	err := s.splitRanges(ctx, "trace_filter", qs,
		func(q rangeQuery) rpc.BatchElem {
			f := map[string]any{
				"fromBlock": hexutil.Uint64(q.from),
				"toBlock":   hexutil.Uint64(q.to),
				side:        q.addrs,
			}
			if q.page > 0 {
				f["after"], f["count"] = q.after, q.page
			}
			return rpc.BatchElem{Method: "trace_filter", Args: []any{f}, Result: new([]parityTrace)}
		},
		func(q rangeQuery, e rpc.BatchElem) error {
			traces := *e.Result.(*[]parityTrace)
			for _, t := range traces {
				if t.BlockNumber < q.from || t.BlockNumber > q.to {
					return fmt.Errorf("%w: a trace of block %d outside the range asked", errInconsistent, t.BlockNumber)
				}
			}
			out = append(out, tracesToTransfers(s.chain, traces)...)
			return nil
		})
	return out, err
}
