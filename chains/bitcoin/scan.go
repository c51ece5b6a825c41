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

// Read makes blocks [from, to] available to Block and the queries below,
// reading each once (Scan) and keeping it. Use Scan for windows too large
// to keep.
func (s *Scanner) Read(ctx context.Context, from, to uint64) error {
	return s.Scan(ctx, from, to, func(b *Block) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.addLocked(b)
		return nil
	})
}

// Scan reads blocks [from, to] forward and calls fn with each, in height
// order: blocks kept by Read are passed as they are, the others come from
// the store or the node (then go to the store) and are not kept, so memory
// holds one step of BlocksPerBatch x MaxConcurrent blocks. Block hashes are
// asked for the whole window first (getblockhash, batched), then each step
// is one round of getblock batches. After each step the scan estimates the
// whole and stops with ErrScanTooLong when that passes MaxDuration.
func (s *Scanner) Scan(ctx context.Context, from, to uint64, fn func(*Block) error) error {
	if to < from {
		return fmt.Errorf("bitcoin: block window [%d,%d] is empty", from, to)
	}
	var kept []*Block
	var want []uint64
	s.mu.Lock()
	for h := from; h <= to; h++ {
		if b := s.blocks[h]; b != nil {
			kept = append(kept, b)
		} else {
			want = append(want, h)
		}
	}
	s.mu.Unlock()
	if len(want) == 0 {
		return eachBlock(kept, fn)
	}
	hashes := map[uint64]string{}
	if s.opts.Store == nil {
		if err := s.blockHashes(ctx, want, hashes); err != nil {
			return err
		}
	}
	step := s.opts.BlocksPerBatch * cap(s.c.sem)
	start := s.now()
	fromNode := 0
	nodeTotal := len(want)
	for i := 0; i < len(want); i += step {
		chunk := want[i:min(i+step, len(want))]
		got := map[uint64]*Block{}
		rest := chunk
		if s.opts.Store != nil {
			stored := s.opts.Store.GetBlocks(ctx, chunk)
			rest = nil
			for _, h := range chunk {
				if b, err := decodeBlock(h, stored[h]); stored[h] != nil && err == nil {
					got[h] = b
					nodeTotal--
				} else {
					rest = append(rest, h)
				}
			}
			if err := s.blockHashes(ctx, rest, hashes); err != nil {
				return err
			}
		}
		if len(rest) > 0 {
			read, err := s.readChunk(ctx, rest, hashes)
			if err != nil {
				return err
			}
			for _, b := range read {
				got[b.Height] = b
			}
			fromNode += len(rest)
		}
		// Kept blocks below this chunk's end, then the chunk, in order.
		var batch []*Block
		for len(kept) > 0 && kept[0].Height < chunk[len(chunk)-1] {
			batch, kept = append(batch, kept[0]), kept[1:]
		}
		for _, h := range chunk {
			batch = append(batch, got[h])
		}
		slices.SortFunc(batch, func(a, b *Block) int { return cmpU64(a.Height, b.Height) })
		if err := eachBlock(batch, fn); err != nil {
			return err
		}
		if fromNode > 0 && fromNode < nodeTotal {
			elapsed := s.now().Sub(start)
			est := elapsed * time.Duration(nodeTotal) / time.Duration(fromNode)
			if est > s.opts.MaxDuration {
				return fmt.Errorf("bitcoin: %w: %d blocks at %v each (measured on the first %d) is about %v, over %v: narrow the block window, or use a node with an address index (btcd --addrindex)",
					ErrScanTooLong, nodeTotal, (elapsed / time.Duration(fromNode)).Round(time.Millisecond), fromNode, est.Round(time.Minute), s.opts.MaxDuration)
			}
		}
	}
	return eachBlock(kept, fn)
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func eachBlock(blocks []*Block, fn func(*Block) error) error {
	for _, b := range blocks {
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

// blockHashes asks getblockhash for the heights not in hashes yet.
func (s *Scanner) blockHashes(ctx context.Context, heights []uint64, hashes map[uint64]string) error {
	var hs []int64
	for _, h := range heights {
		if _, ok := hashes[h]; !ok {
			hs = append(hs, int64(h))
		}
	}
	if len(hs) == 0 {
		return nil
	}
	got, err := s.c.BlockHashes(ctx, hs)
	if err != nil {
		return err
	}
	for i, h := range hs {
		hashes[uint64(h)] = got[i]
	}
	return nil
}

// readChunk reads blocks from the node: getblock in batches of
// BlocksPerBatch run concurrently, then fills the inputs the answers lack
// (from the chunk itself, blocks kept by Read, then getrawtransaction), and
// puts the blocks in the store.
func (s *Scanner) readChunk(ctx context.Context, heights []uint64, hashes map[uint64]string) ([]*Block, error) {
	want := make([]string, len(heights))
	for i, h := range heights {
		want[i] = hashes[h]
	}
	raws := make([]*RawBlock, len(want))
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for i := 0; i < len(want); i += s.opts.BlocksPerBatch {
		j := min(i+s.opts.BlocksPerBatch, len(want))
		wg.Go(func() {
			got, err := s.c.Blocks(ctx, want[i:j])
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
		return nil, first
	}
	blocks := make([]*Block, len(raws))
	var gaps []gap
	own := map[string]*utxo.Tx{}
	for i, rb := range raws {
		if rb.Height != int64(heights[i]) || rb.Hash != want[i] {
			return nil, fmt.Errorf("bitcoin: getblock %s: block %d %s, asked for %d", want[i], rb.Height, rb.Hash, heights[i])
		}
		b, g, err := toBlock(rb)
		if err != nil {
			return nil, fmt.Errorf("bitcoin: getblock %s: %w", rb.Hash, err)
		}
		gaps = append(gaps, g...)
		for k := range b.Txs {
			own[b.Txs[k].TxID] = &b.Txs[k]
		}
		raws[i] = nil // let the decoded answer go
		blocks[i] = b
	}
	fetched := map[string]*utxo.Tx{}
	lookup := func(id string) *utxo.Tx {
		if t := own[id]; t != nil {
			return t
		}
		if t := fetched[id]; t != nil {
			return t
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.txs[id]
	}
	var need []string
	seen := map[string]bool{}
	for _, g := range gaps {
		for _, op := range FillInputs(g.tx, g.missing, lookup) {
			if !seen[op.TxID] {
				seen[op.TxID] = true
				need = append(need, op.TxID)
			}
		}
	}
	if len(need) > 0 {
		raw, err := s.c.RawTransactions(ctx, need)
		if err != nil {
			return nil, err
		}
		for _, r := range raw {
			tx, _, err := ToTx(r, 0, 0, 0)
			if err != nil {
				return nil, fmt.Errorf("bitcoin: getrawtransaction %s: %w", r.TxID, err)
			}
			fetched[tx.TxID] = &tx
		}
		for _, g := range gaps {
			if still := FillInputs(g.tx, g.missing, lookup); len(still) > 0 {
				return nil, fmt.Errorf("bitcoin: tx %s spends %s:%d, which the node did not return", g.tx.TxID, still[0].TxID, still[0].Vout)
			}
		}
	}
	s.mu.Lock()
	s.reads += len(blocks)
	s.mu.Unlock()
	if s.opts.Store != nil {
		put := map[uint64][]byte{}
		for _, b := range blocks {
			if data, err := encodeBlock(b); err == nil {
				put[b.Height] = data
			}
		}
		s.opts.Store.PutBlocks(ctx, put)
	}
	return blocks, nil
}

// gap is a transaction whose inputs (by index) lack their spent output.
type gap struct {
	tx      *utxo.Tx
	missing []int
}

// toBlock converts a verbose block (transform only).
func toBlock(rb *RawBlock) (*Block, []gap, error) {
	if rb.Height < 0 {
		return nil, nil, fmt.Errorf("%w: height %d", errBadResponse, rb.Height)
	}
	h := uint64(rb.Height)
	b := &Block{Height: h, Hash: rb.Hash, Time: rb.Time, Txs: make([]utxo.Tx, len(rb.Txs))}
	var gaps []gap
	for k, rt := range rb.Txs {
		tx, missing, err := ToTx(rt, h, rb.Time, k)
		if err != nil {
			return nil, nil, err
		}
		b.Txs[k] = tx
		if len(missing) > 0 {
			gaps = append(gaps, gap{&b.Txs[k], missing})
		}
	}
	return b, gaps, nil
}

// DecodeBlock converts a getblock answer (verbosity 2 or 3, the result
// only) into a Block; missing counts the inputs the answer gives no spent
// output for (btcd and Core before 25), which the scan fills.
func DecodeBlock(data []byte) (b *Block, missing int, err error) {
	var rb RawBlock
	if err := json.Unmarshal(data, &rb); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", errBadResponse, err)
	}
	if err := rb.normalize(); err != nil {
		return nil, 0, err
	}
	b, gaps, err := toBlock(&rb)
	if err != nil {
		return nil, 0, err
	}
	for _, g := range gaps {
		missing += len(g.missing)
	}
	return b, missing, nil
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
