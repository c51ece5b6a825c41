package evm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/tracer"
)

// rangeQuery is one OR-list of addresses over a block range.
type rangeQuery struct {
	addrs    []common.Address
	from, to uint64
}

// splitRanges runs queries in batched rounds. An element the node refuses as
// too large (range or result size) is split in halves, by block range or,
// for a single block, by address list, and asked again in the next round.
// decode is called with each answered query and its element's result.
func (s *Source) splitRanges(ctx context.Context, method string, qs []rangeQuery,
	elem func(q rangeQuery) rpc.BatchElem, decode func(q rangeQuery, e rpc.BatchElem) error) error {
	for len(qs) > 0 {
		elems := make([]rpc.BatchElem, len(qs))
		for i, q := range qs {
			elems[i] = elem(q)
		}
		if err := s.c.batch(ctx, elems); err != nil {
			return fmt.Errorf("evm: %s [%d,%d]: %w", method, qs[0].from, qs[len(qs)-1].to, err)
		}
		var next []rangeQuery
		for i, e := range elems {
			q := qs[i]
			if e.Error != nil {
				switch {
				case tooManyAddresses(e.Error) && len(q.addrs) > 1:
					h := len(q.addrs) / 2
					next = append(next, rangeQuery{q.addrs[:h], q.from, q.to}, rangeQuery{q.addrs[h:], q.from, q.to})
					continue
				case tooLarge(e.Error) && q.from < q.to:
					mid := q.from + (q.to-q.from)/2
					next = append(next, rangeQuery{q.addrs, q.from, mid}, rangeQuery{q.addrs, mid + 1, q.to})
					continue
				case tooLarge(e.Error) && len(q.addrs) > 1:
					h := len(q.addrs) / 2
					next = append(next, rangeQuery{q.addrs[:h], q.from, q.to}, rangeQuery{q.addrs[h:], q.from, q.to})
					continue
				}
				return fmt.Errorf("evm: %s [%d,%d]: %w", method, q.from, q.to, mapErr(e.Error))
			}
			if err := decode(q, e); err != nil {
				return fmt.Errorf("evm: %s [%d,%d]: %w", method, q.from, q.to, err)
			}
		}
		qs = next
	}
	return nil
}

// tooLarge reports whether the node refused a query for its block range or
// result size (wording differs between nodes and providers).
func tooLarge(err error) bool {
	var he rpc.HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusRequestEntityTooLarge {
		return true
	}
	var re rpc.Error
	if !errors.As(err, &re) {
		return false
	}
	m := strings.ToLower(re.Error())
	if isRateLimitMsg(m) || strings.Contains(m, "beyond current head") || strings.Contains(m, "invalid block range") {
		return false
	}
	if re.ErrorCode() == -32005 {
		return true
	}
	for _, s := range []string{
		"query returned more than", "block range too large", "block range is too large", "block range limit",
		"range too large", "range is too large", "max block range", "maximum block range",
		"limit exceeded", "too many results", "response too large", "response size",
		"exceed maximum", "exceeds maximum", "max results", "query timeout", "too many blocks",
	} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// tooManyAddresses reports whether the node refused an OR-list for its
// length (geth: at most 1000 topics per position, "exceed max topics", and
// --rpc.logquerylimit, "exceed max addresses or topics per search position").
func tooManyAddresses(err error) bool {
	var re rpc.Error
	if !errors.As(err, &re) {
		return false
	}
	m := strings.ToLower(re.Error())
	return strings.Contains(m, "exceed max topics") || strings.Contains(m, "exceed max addresses")
}

// tokenTransfers asks eth_getLogs for the Transfer events sent (topic1) or
// received (topic2) by addrs: one request per OR-list of AddressesPerQuery
// addresses for the whole window, all in one batch.
func (s *Source) tokenTransfers(ctx context.Context, dir tracer.Direction, addrs []common.Address, w tracer.BlockRange) ([]tracer.Transfer, error) {
	var qs []rangeQuery
	for _, c := range chunks(addrs, s.addressesPerQuery) {
		qs = append(qs, rangeQuery{c, w.From, w.To})
	}
	var out []tracer.Transfer
	err := s.splitRanges(ctx, "eth_getLogs", qs,
		func(q rangeQuery) rpc.BatchElem {
			return rpc.BatchElem{Method: "eth_getLogs", Args: []any{logFilter(dir, q)}, Result: new([]types.Log)}
		},
		func(q rangeQuery, e rpc.BatchElem) error {
			logs := *e.Result.(*[]types.Log)
			for _, l := range logs {
				if l.BlockNumber < q.from || l.BlockNumber > q.to {
					return fmt.Errorf("node answered a log of block %d outside the range asked", l.BlockNumber)
				}
			}
			out = append(out, logsToTransfers(s.chain, logs)...)
			return nil
		})
	return out, err
}

// logFilter is the eth_getLogs filter of q's Transfer events in direction dir.
func logFilter(dir tracer.Direction, q rangeQuery) map[string]any {
	topics := make([]common.Hash, len(q.addrs))
	for i, a := range q.addrs {
		topics[i] = common.BytesToHash(a.Bytes())
	}
	t := []any{[]common.Hash{transferTopic}, topics}
	if dir == tracer.Incoming {
		t = []any{[]common.Hash{transferTopic}, nil, topics}
	}
	return map[string]any{
		"fromBlock": hexutil.Uint64(q.from),
		"toBlock":   hexutil.Uint64(q.to),
		"topics":    t,
	}
}

// fillTxFrom sets TxFrom on the non-zero token transfers that lack it: from
// the scanned blocks, the memo, or one batch of eth_getTransactionByHash for
// the transactions not seen yet.
func (s *Source) fillTxFrom(ctx context.Context, ts []tracer.Transfer) error {
	var missing []common.Hash
	s.mu.Lock()
	for i := range ts {
		t := &ts[i]
		if t.TxFrom != "" || (t.Kind != tracer.KindERC20 && t.Kind != tracer.KindERC721) || t.Amount.Sign() == 0 {
			continue
		}
		h := common.HexToHash(t.TxHash)
		if from, ok := s.txFrom[h]; ok {
			t.TxFrom = addr(from)
		} else if from, ok := s.scannedTxFrom(t.BlockNumber, t.TxIndex, h); ok {
			t.TxFrom = addr(from)
		} else if !slices.Contains(missing, h) {
			missing = append(missing, h)
		}
	}
	s.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	type tx struct {
		From common.Address `json:"from"`
	}
	elems := make([]rpc.BatchElem, len(missing))
	for i, h := range missing {
		elems[i] = rpc.BatchElem{Method: "eth_getTransactionByHash", Args: []any{h}, Result: new(*tx)}
	}
	if err := s.c.batch(ctx, elems); err != nil {
		return fmt.Errorf("evm: eth_getTransactionByHash: %w", err)
	}
	from := make(map[common.Hash]common.Address, len(missing))
	for i, e := range elems {
		if e.Error != nil {
			return fmt.Errorf("evm: eth_getTransactionByHash %s: %w", missing[i].Hex(), mapErr(e.Error))
		}
		got := *e.Result.(**tx)
		if got == nil {
			return fmt.Errorf("evm: eth_getTransactionByHash %s: %w", missing[i].Hex(), tracer.ErrNotFound)
		}
		from[missing[i]] = got.From
	}
	s.mu.Lock()
	maps.Copy(s.txFrom, from)
	s.mu.Unlock()
	for i := range ts {
		if f, ok := from[common.HexToHash(ts[i].TxHash)]; ok && ts[i].TxFrom == "" {
			ts[i].TxFrom = addr(f)
		}
	}
	return nil
}
