package evm

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
	"golang.org/x/sync/errgroup"

	"github.com/flowtrace/flowtrace/tracer"
)

// The block scan traces every block of a window once with
// debug_traceBlockByNumber and the callTracer, and keeps each block's value
// movements for the Source's life: a block serves every later query, in
// either direction and for any frontier. The callTracer's top frame carries
// the transaction's from, to and value, so no eth_getBlockByNumber(n, true)
// is needed for top-level transfers.
//
// Blocks are kept as answered: a block near the head that is later reorged
// out is not asked again.

// blockEntry is a block scanned or being scanned; done closes when b or err
// is set.
type blockEntry struct {
	done chan struct{}
	b    *scannedBlock
	err  error
}

// ScanBlocks tells how many blocks a query over w would trace (those not
// scanned yet), or 0 when native transfers do not come from the block scan.
func (s *Source) ScanBlocks(w tracer.BlockRange) uint64 {
	s.probeMu.Lock()
	native := s.native
	if s.mode != NativeAuto {
		native = s.mode
	}
	s.probeMu.Unlock()
	if native != NativeBlockScan && native != "" {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := w.Len()
	if uint64(len(s.blocks)) < n {
		for b := range s.blocks {
			if b >= w.From && b <= w.To {
				n--
			}
		}
		return n
	}
	for b := w.From; b <= w.To && b >= w.From; b++ {
		if s.blocks[b] != nil {
			n--
		}
	}
	return n
}

// scanTransfers answers a query from the scanned blocks of w, scanning the
// ones not seen yet.
func (s *Source) scanTransfers(ctx context.Context, dir tracer.Direction, addrs []common.Address, w tracer.BlockRange) ([]tracer.Transfer, error) {
	if n := s.ScanBlocks(w); n > s.maxBlocks {
		return nil, fmt.Errorf("%w: window [%d,%d] needs %d blocks traced, the limit is %d",
			ErrTooManyBlocks, w.From, w.To, n, s.maxBlocks)
	}
	entries := make([]*blockEntry, 0, w.Len())
	var mine []uint64
	s.mu.Lock()
	for n := w.From; n <= w.To && n >= w.From; n++ {
		e := s.blocks[n]
		if e == nil {
			e = &blockEntry{done: make(chan struct{})}
			s.blocks[n] = e
			mine = append(mine, n)
		}
		entries = append(entries, e)
	}
	s.mu.Unlock()
	s.scanStored(ctx, mine)

	set := make(map[common.Address]bool, len(addrs))
	for _, a := range addrs {
		set[a] = true
	}
	var out []tracer.Transfer
	for _, e := range entries {
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err != nil {
			return nil, e.err
		}
		out = append(out, e.b.transfers(s.chain, dir, set)...)
	}
	return out, nil
}

// scan traces blocks, BatchSize blocks per round trip, and settles their
// entries (which must be in s.blocks, pending). A failed block is removed so
// that a later query asks for it again.
func (s *Source) scan(ctx context.Context, blocks []uint64) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cap(s.c.eps[0].sem) * len(s.c.eps))
	size := max(1, int(s.c.batchSize.Load())/2) // two calls per block
	for start := 0; start < len(blocks); start += size {
		chunk := blocks[start:min(start+size, len(blocks))]
		g.Go(func() error {
			got, err := s.traceBlocks(gctx, chunk)
			s.mu.Lock()
			defer s.mu.Unlock()
			for i, n := range chunk {
				e := s.blocks[n]
				switch {
				case err != nil:
					e.err = err
				case got[i].err != nil:
					e.err = got[i].err
				default:
					e.b = got[i].b
					s.scanned++
				}
				if e.err != nil {
					delete(s.blocks, n)
				}
				close(e.done)
			}
			return err
		})
	}
	_ = g.Wait() // errors are in the entries
}

type traced struct {
	b   *scannedBlock
	err error
}

// header is the part of eth_getBlockByNumber(n, false) the scan checks its
// traces against.
type header struct {
	Number       hexutil.Uint64 `json:"number"`
	Hash         common.Hash    `json:"hash"`
	ParentHash   common.Hash    `json:"parentHash"`
	Transactions []common.Hash  `json:"transactions"`
}

// traceBlocks traces blocks with debug_traceBlockByNumber and checks each
// answer against the block's header (eth_getBlockByNumber, same batch): the
// header is of the block asked, the traces are of its transactions in order,
// and consecutive blocks link by parent hash. Blocks that fail the checks
// are asked again; a block still inconsistent fails with errInconsistent.
func (s *Source) traceBlocks(ctx context.Context, blocks []uint64) ([]traced, error) {
	elems := make([]rpc.BatchElem, 2*len(blocks))
	for i, n := range blocks {
		elems[2*i] = rpc.BatchElem{
			Method: "debug_traceBlockByNumber",
			Args:   []any{hexutil.Uint64(n), callTracer},
			Result: new([]txTrace),
		}
		elems[2*i+1] = rpc.BatchElem{
			Method: "eth_getBlockByNumber",
			Args:   []any{hexutil.Uint64(n), false},
			Result: new(*header),
		}
	}
	check := func() map[int]error {
		bad := map[int]error{}
		var prev *header
		for i, n := range blocks {
			tr, hd := elems[2*i], elems[2*i+1]
			if i > 0 && blocks[i-1] != n-1 {
				prev = nil
			}
			if tr.Error != nil || hd.Error != nil {
				prev = nil
				continue
			}
			h := *hd.Result.(**header)
			if err := checkBlock(n, h, *tr.Result.(*[]txTrace), prev); err != nil {
				bad[2*i], bad[2*i+1] = err, err
				if prev != nil && h != nil && h.ParentHash != prev.Hash {
					bad[2*i-2], bad[2*i-1] = err, err // either may be the wrong one
				}
			}
			prev = h
		}
		return bad
	}
	if err := s.c.batchChecked(ctx, nil, elems, check); err != nil {
		return nil, fmt.Errorf("evm: debug_traceBlockByNumber [%d,%d]: %w", blocks[0], blocks[len(blocks)-1], err)
	}
	out := make([]traced, len(blocks))
	for i, n := range blocks {
		tr, hd := elems[2*i], elems[2*i+1]
		switch {
		case tr.Error != nil:
			out[i].err = fmt.Errorf("evm: debug_traceBlockByNumber %d: %w", n, mapErr(tr.Error))
			continue
		case hd.Error != nil:
			out[i].err = fmt.Errorf("evm: eth_getBlockByNumber %d: %w", n, mapErr(hd.Error))
			continue
		}
		b, err := blockFromTraces(n, *tr.Result.(*[]txTrace))
		if err != nil {
			err = fmt.Errorf("evm: debug_traceBlockByNumber: %w", err)
		}
		out[i] = traced{b, err}
	}
	return out, nil
}

// checkBlock checks the traces of block n against its header h and the
// header of block n-1, when known.
func checkBlock(n uint64, h *header, traces []txTrace, prev *header) error {
	switch {
	case h == nil:
		return fmt.Errorf("block %d: no header (the node may still be syncing)", n)
	case uint64(h.Number) != n:
		return fmt.Errorf("block %d: the node answered block %d", n, uint64(h.Number))
	case prev != nil && h.ParentHash != prev.Hash:
		return fmt.Errorf("block %d: parent hash %s is not the hash %s of block %d", n, h.ParentHash.Hex(), prev.Hash.Hex(), n-1)
	case len(traces) != len(h.Transactions):
		return fmt.Errorf("block %d: %d traces for %d transactions", n, len(traces), len(h.Transactions))
	}
	for i, t := range traces {
		if t.TxHash != h.Transactions[i] && t.TxHash != (common.Hash{}) { // some nodes leave txHash out
			return fmt.Errorf("block %d: trace %d is of tx %s, the block's is %s", n, i, t.TxHash.Hex(), h.Transactions[i].Hex())
		}
	}
	return nil
}

// scannedTxFrom is the signer of a transaction of a scanned block, if known.
// The caller holds s.mu.
func (s *Source) scannedTxFrom(block uint64, txIndex uint, hash common.Hash) (common.Address, bool) {
	e := s.blocks[block]
	if e == nil || e.b == nil || txIndex >= uint(len(e.b.txHash)) || e.b.txHash[txIndex] != hash {
		return common.Address{}, false
	}
	return e.b.txFrom[txIndex], true
}
