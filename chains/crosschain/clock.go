package crosschain

import (
	"context"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/bitcoin"
)

// Clock tells a chain's block times.
type Clock interface {
	// BlockTime is block n's time, unix seconds.
	BlockTime(ctx context.Context, n uint64) (int64, error)
	// Head is the latest block's number.
	Head(ctx context.Context) (uint64, error)
}

// FirstAtOrAfter is the first block whose time is at or after t, found by
// bisection over [0, head]; head+1 when there is none yet. Block times are
// taken as non-decreasing (Bitcoin's are, to within the two hours the
// bridges' search bounds allow for).
func FirstAtOrAfter(ctx context.Context, c Clock, t int64) (uint64, error) {
	head, err := c.Head(ctx)
	if err != nil {
		return 0, err
	}
	lo, hi := uint64(0), head+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		bt, err := c.BlockTime(ctx, mid)
		if err != nil {
			return 0, err
		}
		if bt >= t {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// LastAtOrBefore is the last block whose time is at or before t (0 when
// none is), capped at the head.
func LastAtOrBefore(ctx context.Context, c Clock, t int64) (uint64, error) {
	n, err := FirstAtOrAfter(ctx, c, t+1)
	if err != nil || n == 0 {
		return 0, err
	}
	return n - 1, nil
}

// cachedClock keeps every block time asked (block times are final) and
// the head first asked: one trace sees one head per chain.
type cachedClock struct {
	Clock
	mu    sync.Mutex
	times map[uint64]int64
	head  *uint64
}

func (c *cachedClock) Head(ctx context.Context) (uint64, error) {
	c.mu.Lock()
	h := c.head
	c.mu.Unlock()
	if h != nil {
		return *h, nil
	}
	n, err := c.Clock.Head(ctx)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.head = &n
	c.mu.Unlock()
	return n, nil
}

func cached(c Clock) *cachedClock {
	if cc, ok := c.(*cachedClock); ok {
		return cc
	}
	return &cachedClock{Clock: c, times: map[uint64]int64{}}
}

func (c *cachedClock) BlockTime(ctx context.Context, n uint64) (int64, error) {
	c.mu.Lock()
	t, ok := c.times[n]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := c.Clock.BlockTime(ctx, n)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.times[n] = t
	c.mu.Unlock()
	return t, nil
}

// EVMClock reads an EVM node's block times (eth_getBlockByNumber without
// transactions, eth_blockNumber).
type EVMClock struct{ C *rpc.Client }

// BlockTime implements Clock.
func (e EVMClock) BlockTime(ctx context.Context, n uint64) (int64, error) {
	var h *struct {
		Time hexutil.Uint64 `json:"timestamp"`
	}
	if err := e.C.CallContext(ctx, &h, "eth_getBlockByNumber", hexutil.Uint64(n), false); err != nil {
		return 0, fmt.Errorf("crosschain: eth_getBlockByNumber %d: %w", n, err)
	}
	if h == nil {
		return 0, fmt.Errorf("crosschain: eth_getBlockByNumber %d: no such block", n)
	}
	return int64(h.Time), nil
}

// Head implements Clock.
func (e EVMClock) Head(ctx context.Context) (uint64, error) {
	var n hexutil.Uint64
	if err := e.C.CallContext(ctx, &n, "eth_blockNumber"); err != nil {
		return 0, fmt.Errorf("crosschain: eth_blockNumber: %w", err)
	}
	return uint64(n), nil
}

// BitcoinClock reads a Bitcoin node's block times (getblockhash,
// getblockheader, getblockchaininfo).
type BitcoinClock struct{ C *bitcoin.Client }

// BlockTime implements Clock.
func (b BitcoinClock) BlockTime(ctx context.Context, n uint64) (int64, error) {
	ts, err := b.C.BlockTimes(ctx, []int64{int64(n)})
	if err != nil {
		return 0, err
	}
	return ts[0], nil
}

// Head implements Clock.
func (b BitcoinClock) Head(ctx context.Context) (uint64, error) {
	ci, err := b.C.BlockchainInfo(ctx)
	if err != nil {
		return 0, err
	}
	return uint64(ci.Blocks), nil
}
