package evm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// BlockStore keeps scanned blocks beyond a Source's life, so that traces
// over the same blocks (on this machine, or any sharing the store) trace
// each block once. It holds only final blocks; a store that fails answers
// nothing. cache.Blocks implements it.
type BlockStore interface {
	// GetBlocks returns the encoded blocks it holds among numbers.
	GetBlocks(ctx context.Context, numbers []uint64) map[uint64][]byte
	// PutBlocks keeps encoded blocks (it may drop those not final).
	PutBlocks(ctx context.Context, blocks map[uint64][]byte)
}

// UseBlockStore makes the block scan read scanned blocks from bs before
// tracing them, and put the blocks it traces there. Call it before the
// first Transfers.
func (s *Source) UseBlockStore(bs BlockStore) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blockStore = bs
}

// CountAsProbe counts the requests made so far as identifying the chain
// (tracer.Usage.ProbeRequests): call it after Probe (and BlockHash), before
// the trace.
func (s *Source) CountAsProbe() { s.probeRequests.Store(s.Usage().Requests) }

// BlockHash returns the hash of block n (eth_getBlockByNumber).
func (s *Source) BlockHash(ctx context.Context, n uint64) (string, error) {
	var h *struct {
		Hash common.Hash `json:"hash"`
	}
	elems := []rpc.BatchElem{{Method: "eth_getBlockByNumber", Args: []any{hexutil.Uint64(n), false}, Result: &h}}
	if err := s.c.batch(ctx, elems); err != nil {
		return "", fmt.Errorf("evm: eth_getBlockByNumber %d: %w", n, err)
	}
	if elems[0].Error != nil {
		return "", fmt.Errorf("evm: eth_getBlockByNumber %d: %w", n, mapErr(elems[0].Error))
	}
	if h == nil {
		return "", fmt.Errorf("evm: eth_getBlockByNumber %d: no such block", n)
	}
	return h.Hash.Hex(), nil
}

// scanStored settles the pending entries of blocks from the block store,
// traces the rest (scan) and puts those traced into the store.
func (s *Source) scanStored(ctx context.Context, blocks []uint64) {
	s.mu.Lock()
	bs := s.blockStore
	s.mu.Unlock()
	if bs == nil || len(blocks) == 0 {
		s.scan(ctx, blocks)
		return
	}
	stored := bs.GetBlocks(ctx, blocks)
	var rest []uint64
	entries := map[uint64]*blockEntry{}
	s.mu.Lock()
	for _, n := range blocks {
		e := s.blocks[n]
		entries[n] = e
		b, err := decodeBlock(n, stored[n])
		if stored[n] == nil || err != nil {
			rest = append(rest, n)
			continue
		}
		e.b = b
		close(e.done)
	}
	s.mu.Unlock()
	s.scan(ctx, rest)
	put := map[uint64][]byte{}
	for _, n := range rest {
		if e := entries[n]; e.err == nil && e.b != nil {
			put[n] = encodeBlock(e.b)
		}
	}
	if len(put) > 0 {
		bs.PutBlocks(ctx, put)
	}
}

// blockFormat is the version byte of an encoded scannedBlock.
const blockFormat = 1

// encodeBlock writes b compactly: per transaction its hash and signer, per
// move its parties, value, transaction, order and call path.
func encodeBlock(b *scannedBlock) []byte {
	out := []byte{blockFormat}
	out = binary.AppendUvarint(out, b.number)
	out = binary.AppendUvarint(out, uint64(len(b.txHash)))
	for i := range b.txHash {
		out = append(out, b.txHash[i][:]...)
		out = append(out, b.txFrom[i][:]...)
	}
	out = binary.AppendUvarint(out, uint64(len(b.moves)))
	for _, m := range b.moves {
		out = append(out, m.from[:]...)
		out = append(out, m.to[:]...)
		v := m.value.Bytes()
		out = append(out, byte(len(v)))
		out = append(out, v...)
		out = binary.AppendUvarint(out, uint64(m.tx))
		out = binary.AppendUvarint(out, uint64(m.seq))
		out = binary.AppendUvarint(out, uint64(len(m.path)))
		for _, p := range m.path {
			out = binary.AppendUvarint(out, uint64(p))
		}
	}
	return out
}

var errBadBlock = errors.New("evm: undecodable stored block")

// decodeBlock reads what encodeBlock wrote for block n; anything else
// (another format, another block, truncated) is an error.
func decodeBlock(n uint64, data []byte) (*scannedBlock, error) {
	if len(data) == 0 || data[0] != blockFormat {
		return nil, errBadBlock
	}
	r := data[1:]
	bad := false
	uv := func() uint64 {
		v, k := binary.Uvarint(r)
		if k <= 0 {
			bad = true
			return 0
		}
		r = r[k:]
		return v
	}
	take := func(k int) []byte {
		if k > len(r) || bad {
			bad = true
			return make([]byte, k)
		}
		p := r[:k]
		r = r[k:]
		return p
	}
	b := &scannedBlock{number: uv()}
	ntx := uv()
	if bad || b.number != n || ntx > uint64(len(r))/52 {
		return nil, errBadBlock
	}
	b.txHash = make([]common.Hash, ntx)
	b.txFrom = make([]common.Address, ntx)
	for i := range b.txHash {
		copy(b.txHash[i][:], take(32))
		copy(b.txFrom[i][:], take(20))
	}
	nm := uv()
	if bad || nm > uint64(len(r))/44 {
		return nil, errBadBlock
	}
	b.moves = make([]move, 0, nm)
	for range nm {
		var m move
		copy(m.from[:], take(20))
		copy(m.to[:], take(20))
		vl := int(take(1)[0])
		if vl > 32 {
			return nil, errBadBlock
		}
		m.value.SetBytes(take(vl))
		tx, seq := uv(), uv()
		if tx >= ntx || seq > 1<<32-1 {
			return nil, errBadBlock
		}
		m.tx, m.seq = uint32(tx), uint32(seq)
		np := uv()
		if np > uint64(len(r)) {
			return nil, errBadBlock
		}
		if np > 0 {
			m.path = make([]int, np)
			for k := range m.path {
				m.path[k] = int(uv())
			}
		}
		if bad {
			return nil, errBadBlock
		}
		b.moves = append(b.moves, m)
	}
	if bad || len(r) != 0 {
		return nil, errBadBlock
	}
	return b, nil
}
