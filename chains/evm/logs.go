package evm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/evm/providers"
	"github.com/flowtrace/flowtrace/tracer"
)

// rangeQuery is one OR-list of addresses over a block range.
type rangeQuery struct {
	addrs    []common.Address
	from, to uint64
	tries    int // answers rejected as inconsistent so far
	// after and page ask one page of a paged method's answer (trace_filter's
	// after / count); page 0 asks for the whole answer.
	after, page int
}

// pagedMethods take after / count: an answer the node caps is read page by
// page instead of split by block range.
var pagedMethods = map[string]bool{"trace_filter": true}

// limits are the range and OR-list sizes a node refused, learned per method
// and kept for the Source's life: later queries are split up front.
type limits struct {
	mu    sync.Mutex
	span  map[string]uint64 // most blocks per query
	addrs map[string]int    // most addresses per query
	page  map[string]int    // most entries per answer, for pagedMethods
}

func (l *limits) learnPage(method string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.page == nil {
		l.page = map[string]int{}
	}
	if cur, ok := l.page[method]; !ok || n < cur {
		l.page[method] = n
	}
}

func (l *limits) pageSize(method string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.page[method]
}

func (l *limits) learnSpan(method string, n uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.span == nil {
		l.span = map[string]uint64{}
	}
	if cur, ok := l.span[method]; !ok || n < cur {
		l.span[method] = n
	}
}

func (l *limits) learnAddrs(method string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.addrs == nil {
		l.addrs = map[string]int{}
	}
	if cur, ok := l.addrs[method]; !ok || n < cur {
		l.addrs[method] = n
	}
}

// split cuts q to the limits learned for method.
func (l *limits) split(method string, q rangeQuery) []rangeQuery {
	l.mu.Lock()
	span, maxAddrs := l.span[method], l.addrs[method]
	l.mu.Unlock()
	var out []rangeQuery
	addrLists := [][]common.Address{q.addrs}
	if maxAddrs > 0 {
		addrLists = chunks(q.addrs, maxAddrs)
	}
	for _, a := range addrLists {
		if span == 0 {
			out = append(out, rangeQuery{addrs: a, from: q.from, to: q.to})
			continue
		}
		for from := q.from; from <= q.to; from += span {
			out = append(out, rangeQuery{addrs: a, from: from, to: min(q.to, from+span-1)})
			if from+span < from { // overflow
				break
			}
		}
	}
	return out
}

// splitRanges runs queries in batched rounds. An element the node refuses as
// too large (range or result size) is split in halves, by block range or,
// for a single block, by address list, and asked again in the next round;
// the smaller size is remembered for later queries. An answer that decode
// rejects as inconsistent (wrapping errInconsistent) is asked again, with
// backoff, up to the retry limit. decode is called with each answered query
// and its element's result, and must keep nothing from an answer it rejects.
// For pagedMethods, an answer refused for its number of entries, with the
// cap stated, is read in pages of that size (elem must send q.after and
// q.page when q.page > 0): a full page asks for the next.
func (s *Source) splitRanges(ctx context.Context, method string, qs []rangeQuery,
	elem func(q rangeQuery) rpc.BatchElem, decode func(q rangeQuery, e rpc.BatchElem) error) error {
	var pre []rangeQuery
	for _, q := range qs {
		pre = append(pre, s.limits.split(method, q)...)
	}
	qs = pre
	for round := 0; len(qs) > 0; round++ {
		elems := make([]rpc.BatchElem, len(qs))
		for i := range qs {
			if pagedMethods[method] && qs[i].after == 0 {
				qs[i].page = s.limits.pageSize(method)
			}
			elems[i] = elem(qs[i])
		}
		if err := s.c.batch(ctx, elems); err != nil {
			return fmt.Errorf("evm: %s [%d,%d]: %w", method, qs[0].from, qs[len(qs)-1].to, err)
		}
		var next []rangeQuery
		reask := 0
		for i, e := range elems {
			q := qs[i]
			if e.Error != nil {
				switch {
				case tooManyAddresses(e.Error) && len(q.addrs) > 1:
					h := len(q.addrs) / 2
					s.limits.learnAddrs(method, len(q.addrs)-h)
					next = append(next, rangeQuery{addrs: q.addrs[:h], from: q.from, to: q.to}, rangeQuery{addrs: q.addrs[h:], from: q.from, to: q.to})
					continue
				case tooLarge(e.Error) && pagedMethods[method] && q.page == 0 && statedResults(e.Error) > 0:
					// The node caps its answers and says at how many: ask in pages.
					s.limits.learnPage(method, statedResults(e.Error))
					next = append(next, rangeQuery{addrs: q.addrs, from: q.from, to: q.to})
					continue
				case tooLarge(e.Error) && q.from < q.to:
					if span, limit := statedSpan(e.Error); span > 0 && span <= q.to-q.from {
						// The node said how many blocks it takes. A stated
						// limit holds for later queries; a range suggested
						// for this one (it depends on the density of logs)
						// is used for this one only.
						if limit {
							s.limits.learnSpan(method, span)
							next = append(next, s.limits.split(method, rangeQuery{addrs: q.addrs, from: q.from, to: q.to})...)
						} else {
							next = append(next, rangeQuery{addrs: q.addrs, from: q.from, to: q.from + span - 1},
								rangeQuery{addrs: q.addrs, from: q.from + span, to: q.to})
						}
						continue
					}
					mid := q.from + (q.to-q.from)/2
					s.limits.learnSpan(method, mid-q.from+1)
					next = append(next, rangeQuery{addrs: q.addrs, from: q.from, to: mid}, rangeQuery{addrs: q.addrs, from: mid + 1, to: q.to})
					continue
				case tooLarge(e.Error) && len(q.addrs) > 1:
					h := len(q.addrs) / 2
					next = append(next, rangeQuery{addrs: q.addrs[:h], from: q.from, to: q.to}, rangeQuery{addrs: q.addrs[h:], from: q.from, to: q.to})
					continue
				}
				return fmt.Errorf("evm: %s [%d,%d]: %w", method, q.from, q.to, mapErr(e.Error))
			}
			if err := decode(q, e); err != nil {
				if errors.Is(err, errInconsistent) && q.tries+1 < s.c.attempts {
					q.tries++
					next = append(next, q)
					reask = max(reask, q.tries)
					continue
				}
				return fmt.Errorf("evm: %s [%d,%d]: %w", method, q.from, q.to, err)
			}
			if q.page > 0 && reflect.ValueOf(e.Result).Elem().Len() >= q.page {
				next = append(next, rangeQuery{addrs: q.addrs, from: q.from, to: q.to, after: q.after + q.page, page: q.page})
			}
		}
		if reask > 0 {
			if _, err := s.c.sleep(ctx, reask-1, 0); err != nil {
				return err
			}
		}
		qs = next
	}
	return nil
}

// tooLarge reports whether the node refused a query for its block range or
// result size (wording differs between nodes and providers).
func tooLarge(err error) bool {
	if errors.Is(err, errResponseTooLarge) {
		return true
	}
	var he rpc.HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusRequestEntityTooLarge {
		return true
	}
	var re rpc.Error
	if !errors.As(err, &re) {
		return false
	}
	m := strings.ToLower(errText(re))
	if isRateLimitMsg(m) || strings.Contains(m, "beyond current head") || strings.Contains(m, "invalid block range") {
		return false
	}
	if re.ErrorCode() == -32005 {
		return true
	}
	if l, ok := providers.Parse(m); ok && l.Form.Kind != providers.Batch {
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

// statedSpan is the most blocks per query a node's refusal states (a
// maximum, or the width of the range it suggests), 0 when it states none,
// and whether it is a limit (rather than a suggestion for this query).
func statedSpan(err error) (uint64, bool) {
	var re rpc.Error
	if !errors.As(err, &re) {
		return 0, false
	}
	if l, ok := providers.Parse(errText(re)); ok {
		return l.Span(), l.Form.Kind == providers.Range
	}
	return 0, false
}

// statedResults is the most entries per answer a node's refusal states, 0
// when it states none.
func statedResults(err error) int {
	var re rpc.Error
	if !errors.As(err, &re) {
		return 0
	}
	if l, ok := providers.Parse(errText(re)); ok && (l.Form.Kind == providers.Results || l.Form.Kind == providers.Suggest) {
		return int(l.Max)
	}
	return 0
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
	return s.logTransfers(ctx, addrs, w,
		func(q rangeQuery) map[string]any { return logFilter(dir, q) },
		func(q rangeQuery, logs []types.Log) ([]tracer.Transfer, error) {
			if err := checkLogs(logs, dir, q); err != nil {
				return nil, err
			}
			return logsToTransfers(s.chain, logs), nil
		})
}

// logTransfers asks eth_getLogs with the filters filter builds for addrs,
// AddressesPerQuery addresses a request for the whole window, all in one
// batch (split where the node asks), and decodes each answer with decode.
func (s *Source) logTransfers(ctx context.Context, addrs []common.Address, w tracer.BlockRange,
	filter func(rangeQuery) map[string]any, decode func(rangeQuery, []types.Log) ([]tracer.Transfer, error)) ([]tracer.Transfer, error) {
	var qs []rangeQuery
	for _, c := range chunks(addrs, s.addressesPerQuery) {
		qs = append(qs, rangeQuery{addrs: c, from: w.From, to: w.To})
	}
	var out []tracer.Transfer
	err := s.splitRanges(ctx, "eth_getLogs", qs,
		func(q rangeQuery) rpc.BatchElem {
			return rpc.BatchElem{Method: "eth_getLogs", Args: []any{filter(q)}, Result: new([]types.Log)}
		},
		func(q rangeQuery, e rpc.BatchElem) error {
			got, err := decode(q, *e.Result.(*[]types.Log))
			if err != nil {
				return err
			}
			out = append(out, got...)
			return nil
		})
	return out, err
}

// logFilter is the eth_getLogs filter of q's Transfer events in direction dir.
func logFilter(dir tracer.Direction, q rangeQuery) map[string]any {
	topics := topicList(q.addrs)
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
		Hash common.Hash    `json:"hash"`
		From common.Address `json:"from"`
	}
	elems := make([]rpc.BatchElem, len(missing))
	for i, h := range missing {
		elems[i] = rpc.BatchElem{Method: "eth_getTransactionByHash", Args: []any{h}, Result: new(*tx)}
	}
	// The transactions come from logs the node served: a null answer is a
	// node still indexing, another hash a wrong answer. Ask again.
	check := func() map[int]error {
		bad := map[int]error{}
		for i, e := range elems {
			if e.Error != nil {
				continue
			}
			switch got := *e.Result.(**tx); {
			case got == nil:
				bad[i] = fmt.Errorf("%w (the node may still be indexing)", tracer.ErrNotFound)
			case got.Hash != missing[i]:
				bad[i] = fmt.Errorf("answered tx %s", got.Hash.Hex())
			}
		}
		return bad
	}
	if err := s.c.batchChecked(ctx, nil, elems, check); err != nil {
		return fmt.Errorf("evm: eth_getTransactionByHash: %w", err)
	}
	from := make(map[common.Hash]common.Address, len(missing))
	for i, e := range elems {
		if e.Error != nil {
			return fmt.Errorf("evm: eth_getTransactionByHash %s: %w", missing[i].Hex(), mapErr(e.Error))
		}
		from[missing[i]] = (*e.Result.(**tx)).From
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

// checkLogs checks that the node answered what was asked: Transfer logs of
// the range, sent (topic1) or received (topic2) by the query's addresses.
func checkLogs(logs []types.Log, dir tracer.Direction, q rangeQuery) error {
	pos := 1
	if dir == tracer.Incoming {
		pos = 2
	}
	asked := make(map[common.Hash]bool, len(q.addrs))
	for _, a := range q.addrs {
		asked[common.BytesToHash(a.Bytes())] = true
	}
	for _, l := range logs {
		switch {
		case l.BlockNumber < q.from || l.BlockNumber > q.to:
			return fmt.Errorf("%w: a log of block %d outside the range asked", errInconsistent, l.BlockNumber)
		case l.Index > maxLogIndex:
			return fmt.Errorf("%w: log index %d", errInconsistent, l.Index)
		case len(l.Topics) <= pos || l.Topics[0] != transferTopic || !asked[l.Topics[pos]]:
			return fmt.Errorf("%w: a log in tx %s that does not match the filter", errInconsistent, l.TxHash.Hex())
		}
	}
	return nil
}
