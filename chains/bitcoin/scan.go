package bitcoin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/flowtrace/flowtrace/chains/bitcoin/utxo"
)

// BlockStore keeps scanned blocks beyond a Scanner's life, so that traces
// over the same blocks read each block from the node once. It holds only
// final blocks; a store that fails answers nothing. cache.Blocks
// implements it (the same shape as evm.BlockStore).
type BlockStore interface {
	// GetBlocks returns the encoded blocks it holds among numbers.
	GetBlocks(ctx context.Context, numbers []uint64) map[uint64][]byte
	// PutBlocks keeps encoded blocks (it may drop those not final).
	PutBlocks(ctx context.Context, blocks map[uint64][]byte)
}

// Block is a block converted for the walk: its transactions with every
// input's spent address and value filled.
type Block struct {
	Height uint64
	Hash   string
	Time   int64
	Txs    []utxo.Tx
}

// blockFormat is the version of an encoded Block.
const blockFormat = 1

type storedBlock struct {
	V int `json:"v"`
	Block
}

func encodeBlock(b *Block) ([]byte, error) {
	return json.Marshal(storedBlock{V: blockFormat, Block: *b})
}

var errBadBlock = errors.New("bitcoin: undecodable stored block")

func decodeBlock(n uint64, data []byte) (*Block, error) {
	var s storedBlock
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&s); err != nil || s.V != blockFormat || s.Height != n || s.Hash == "" {
		return nil, errBadBlock
	}
	return &s.Block, nil
}

// ScanOptions tune a Scanner.
type ScanOptions struct {
	// BlocksPerBatch is the getblock calls per round trip (default 4: a
	// verbose mainnet block is a few MB).
	BlocksPerBatch int
	// MaxDuration refuses a scan estimated to take longer (default 1 h).
	MaxDuration time.Duration
	// Store keeps final blocks between traces (nil: none).
	Store BlockStore
}

// Scanner reads a window's blocks forward, each block once per trace, and
// answers which transactions spend from or pay addresses, and which carry
// an OP_RETURN matching a test.
type Scanner struct {
	c    *Client
	opts ScanOptions

	mu     sync.Mutex
	blocks map[uint64]*Block
	txs    map[string]*utxo.Tx // every transaction read, for filling inputs
	reads  int                 // blocks read from the node
	now    func() time.Time    // the clock of the scan estimate
}

// NewScanner makes a scanner over c.
func NewScanner(c *Client, opts ScanOptions) *Scanner {
	opts.BlocksPerBatch = cmpOr(opts.BlocksPerBatch, 4)
	opts.MaxDuration = cmpOr(opts.MaxDuration, time.Hour)
	return &Scanner{c: c, opts: opts, blocks: map[uint64]*Block{}, txs: map[string]*utxo.Tx{}, now: time.Now}
}

// Reads is how many blocks the scanner read from the node (not the store).
func (s *Scanner) Reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// ErrScanTooLong is a window whose scan is estimated over MaxDuration.
var ErrScanTooLong = errors.New("the block scan would take too long")

// Read makes blocks [from, to] available, reading from the store or the
// node those not read yet, oldest first. After the first round trips it
// estimates the whole scan and stops with ErrScanTooLong when that passes
// MaxDuration.
func (s *Scanner) Read(ctx context.Context, from, to uint64) error {
	if to < from {
		return fmt.Errorf("bitcoin: block window [%d,%d] is empty", from, to)
	}
	var want []uint64
	s.mu.Lock()
	for h := from; h <= to; h++ {
		if s.blocks[h] == nil {
			want = append(want, h)
		}
	}
	s.mu.Unlock()
	if len(want) == 0 {
		return nil
	}
	if s.opts.Store != nil {
		stored := s.opts.Store.GetBlocks(ctx, want)
		rest := want[:0:0]
		s.mu.Lock()
		for _, h := range want {
			b, err := decodeBlock(h, stored[h])
			if stored[h] == nil || err != nil {
				rest = append(rest, h)
				continue
			}
			s.addLocked(b)
		}
		s.mu.Unlock()
		want = rest
	}
	step := s.opts.BlocksPerBatch * cap(s.c.sem)
	start := s.now()
	for i := 0; i < len(want); i += step {
		chunk := want[i:min(i+step, len(want))]
		if err := s.readChunk(ctx, chunk); err != nil {
			return err
		}
		if done := i + len(chunk); done < len(want) {
			elapsed := s.now().Sub(start)
			est := elapsed * time.Duration(len(want)) / time.Duration(done)
			if est > s.opts.MaxDuration {
				return fmt.Errorf("bitcoin: %w: %d blocks at %v each (measured on the first %d) is about %v, over %v: narrow the block window, or use a node with an address index (btcd --addrindex)",
					ErrScanTooLong, len(want), (elapsed / time.Duration(done)).Round(time.Millisecond), done, est.Round(time.Minute), s.opts.MaxDuration)
			}
		}
	}
	return nil
}

// readChunk reads consecutive-or-not heights: hashes, then blocks in
// batches of BlocksPerBatch run concurrently, then fills inputs.
func (s *Scanner) readChunk(ctx context.Context, heights []uint64) error {
	hs := make([]int64, len(heights))
	for i, h := range heights {
		hs[i] = int64(h)
	}
	hashes, err := s.c.BlockHashes(ctx, hs)
	if err != nil {
		return err
	}
	raws := make([]*RawBlock, len(hashes))
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for i := 0; i < len(hashes); i += s.opts.BlocksPerBatch {
		j := min(i+s.opts.BlocksPerBatch, len(hashes))
		wg.Go(func() {
			got, err := s.c.Blocks(ctx, hashes[i:j])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				first = cmpOr(first, err)
				return
			}
			copy(raws[i:j], got)
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	blocks := make([]*Block, len(raws))
	type gap struct {
		block, tx int
		missing   []int
	}
	var gaps []gap
	for i, rb := range raws {
		if rb.Height != hs[i] {
			return fmt.Errorf("bitcoin: getblock %s: height %d, asked for %d", rb.Hash, rb.Height, hs[i])
		}
		b := &Block{Height: heights[i], Hash: rb.Hash, Time: rb.Time, Txs: make([]utxo.Tx, len(rb.Txs))}
		for k, rt := range rb.Txs {
			tx, missing, err := ToTx(rt, heights[i], rb.Time, k)
			if err != nil {
				return fmt.Errorf("bitcoin: getblock %s: %w", rb.Hash, err)
			}
			b.Txs[k] = tx
			if len(missing) > 0 {
				gaps = append(gaps, gap{i, k, missing})
			}
		}
		blocks[i] = b
	}
	// Inputs spent from this window's own transactions, then from any
	// read before, then fetched (getrawtransaction, batched).
	s.mu.Lock()
	for _, b := range blocks {
		for k := range b.Txs {
			s.txs[b.Txs[k].TxID] = &b.Txs[k]
		}
	}
	var need []string
	seen := map[string]bool{}
	for _, g := range gaps {
		tx := &blocks[g.block].Txs[g.tx]
		for _, op := range FillInputs(tx, g.missing, s.txs) {
			if !seen[op.TxID] {
				seen[op.TxID] = true
				need = append(need, op.TxID)
			}
		}
	}
	s.mu.Unlock()
	if len(need) > 0 {
		raw, err := s.c.RawTransactions(ctx, need)
		if err != nil {
			return err
		}
		s.mu.Lock()
		for _, r := range raw {
			tx, _, err := ToTx(r, 0, 0, 0)
			if err != nil {
				s.mu.Unlock()
				return fmt.Errorf("bitcoin: getrawtransaction %s: %w", r.TxID, err)
			}
			s.txs[tx.TxID] = &tx
		}
		for _, g := range gaps {
			tx := &blocks[g.block].Txs[g.tx]
			if still := FillInputs(tx, g.missing, s.txs); len(still) > 0 {
				s.mu.Unlock()
				return fmt.Errorf("bitcoin: tx %s spends %s:%d, which the node did not return", tx.TxID, still[0].TxID, still[0].Vout)
			}
		}
		s.mu.Unlock()
	}
	put := map[uint64][]byte{}
	s.mu.Lock()
	for _, b := range blocks {
		s.addLocked(b)
		s.reads++
		if s.opts.Store != nil {
			if data, err := encodeBlock(b); err == nil {
				put[b.Height] = data
			}
		}
	}
	s.mu.Unlock()
	if len(put) > 0 {
		s.opts.Store.PutBlocks(ctx, put)
	}
	return nil
}

func (s *Scanner) addLocked(b *Block) {
	s.blocks[b.Height] = b
	for k := range b.Txs {
		s.txs[b.Txs[k].TxID] = &b.Txs[k]
	}
}

// Block returns block h if read.
func (s *Scanner) Block(h uint64) *Block {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.blocks[h]
}

// each calls f on the read transactions of [from, to] in chain order.
func (s *Scanner) each(from, to uint64, f func(tx *utxo.Tx)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h := from; h <= to; h++ {
		if b := s.blocks[h]; b != nil {
			for k := range b.Txs {
				f(&b.Txs[k])
			}
		}
	}
}

// Spending returns the read transactions of [from, to] with an input spent
// from one of addrs, in chain order.
func (s *Scanner) Spending(from, to uint64, addrs []string) []utxo.Tx {
	set := toSet(addrs)
	var out []utxo.Tx
	s.each(from, to, func(tx *utxo.Tx) {
		if slices.ContainsFunc(tx.Inputs, func(in utxo.Input) bool { return set[in.Address] }) {
			out = append(out, *tx)
		}
	})
	return out
}

// Paying returns the read transactions of [from, to] with an output to one
// of addrs, in chain order.
func (s *Scanner) Paying(from, to uint64, addrs []string) []utxo.Tx {
	set := toSet(addrs)
	var out []utxo.Tx
	s.each(from, to, func(tx *utxo.Tx) {
		if slices.ContainsFunc(tx.Outputs, func(o utxo.Output) bool { return set[o.Address] }) {
			out = append(out, *tx)
		}
	})
	return out
}

// OpReturns returns the read transactions of [from, to] whose block time is
// at or after the unix time after and that carry an OP_RETURN output for
// which match is true (the THORChain outbound search: OUT:<hash>).
func (s *Scanner) OpReturns(from, to uint64, after int64, match func(data []byte) bool) []utxo.Tx {
	var out []utxo.Tx
	s.each(from, to, func(tx *utxo.Tx) {
		if tx.Time < after {
			return
		}
		if slices.ContainsFunc(tx.Outputs, func(o utxo.Output) bool { return o.OpReturn != nil && match(o.OpReturn) }) {
			out = append(out, *tx)
		}
	})
	return out
}

func toSet(addrs []string) map[string]bool {
	set := make(map[string]bool, len(addrs))
	for _, a := range addrs {
		if a != "" {
			set[a] = true
		}
	}
	return set
}
