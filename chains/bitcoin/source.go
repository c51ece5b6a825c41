package bitcoin

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/flowtrace/flowtrace/chains/bitcoin/utxo"
	"github.com/flowtrace/flowtrace/tracer"
)

// Pseudo-addresses of the transaction hubs (see Source).
const (
	// TxPrefix starts the address of a transaction's hub: "tx:<txid>".
	TxPrefix = "tx:"
	// FeeAddress receives every transaction's fee: a sink, never a wallet.
	FeeAddress tracer.Address = "fee:miners"
	// NoAddress receives outputs whose script has no address (bare
	// multisig, non-standard scripts) but carry value.
	NoAddress tracer.Address = "script:no-address"
)

// Annotation keys a Source puts on the transfers into a CoinJoin.
const (
	AnnCoinJoinEvidence   = "coinjoin_evidence"
	AnnCoinJoinConfidence = "coinjoin_confidence"
	// AnnChange and AnnChangeConfidence mark the output a transaction most
	// likely returns to its spender (utxo.GuessChange): the reasons, joined
	// by "; ", and the confidence in [0,1].
	AnnChange           = "change_guess"
	AnnChangeConfidence = "change_confidence"
)

// TxAddress is the hub address of transaction txid.
func TxAddress(txid string) tracer.Address { return tracer.Address(TxPrefix + txid) }

// SourceOptions configure a Source.
type SourceOptions struct {
	// Chain is the flowtrace chain name put on transfers (default "bitcoin").
	Chain string
	// Spends overrides the probe's method (SpendsByBlockScan on an indexed
	// node, to compare both); "" keeps the probe's.
	Spends SpendMethod
	// Scan tunes the block scan.
	Scan ScanOptions
	// Concurrency caps the address-index calls in flight (default 4).
	Concurrency int
}

// Source is the walk's view of a Bitcoin node: it implements tracer.Source.
//
// Taint belongs to outputs, so every transaction the walk meets becomes a
// hub, the pseudo-address "tx:<txid>" (TxAddress): one transfer from each
// input's address to the hub (Seq = input index) and one from the hub to
// each output's address (Seq = inputs + output index), plus the fee to
// FeeAddress (last Seq), so value is conserved. Describe calls the hubs
// contracts (pass-throughs the walk follows; do not set StopAtContracts on
// a Bitcoin walk), and the ledger's chain order makes the --taint models
// act per transaction: poison-first by output order, haircut pro rata,
// FIFO. A Bitcoin hop is therefore two levels of the walk. A hub asked
// for its outflows answers its inputs too: the walk books those spent from
// addresses outside the trace as clean value in the hub's balance, so
// haircut and FIFO share the outputs as they should.
//
// Outgoing for an address answers the transactions spending its outputs
// in the window, Incoming those paying it; a hub answers its outputs
// (Outgoing) or inputs (Incoming). Incoming leaves out the transactions an
// asked address spends from too (its change is not new value). On a node with an address index
// (SpendsByAddrIndex) each address is asked directly; otherwise the
// window's blocks are read once, kept, and indexed by address, and every
// level is answered from them.
//
// The output utxo.GuessChange takes for change carries the guess
// (AnnChange, AnnChangeConfidence); the walk follows it like any other.
//
// A CoinJoin (utxo.DetectCoinJoin) stops the walk: the transfers into its
// hub carry the evidence (tracer.AnnMixer, AnnCoinJoinEvidence,
// AnnCoinJoinConfidence), and Labels, which the walk must be given (through
// tracer.Options.Labels, beside any other labeler), names the hub a mixer,
// a terminal. The Source cannot make a terminal by itself.
type Source struct {
	c       *Client
	chain   string
	spends  SpendMethod
	why     string
	conc    int
	scanner *Scanner

	mu        sync.Mutex
	txs       map[string]*utxo.Tx       // every transaction met, by txid
	byAddr    map[string][]string       // address-index answers, txids oldest first
	order     map[uint64]map[string]int // tx positions of blocks (address index)
	coinjoins map[tracer.Address]utxo.CoinJoin
	kept      tracer.BlockRange // the blocks the scanner holds (when hasKept)
	hasKept   bool
	// byTouch indexes the kept blocks' transactions by the addresses they
	// spend from or pay, so a level costs its frontier, not the window.
	byTouch       map[string][]*utxo.Tx
	indexedBlocks map[uint64]bool
}

var (
	_ tracer.Source    = (*Source)(nil)
	_ tracer.Metered   = (*Source)(nil)
	_ tracer.Described = (*Source)(nil)
)

// NewSource makes a Source over c, using the method p chose.
func NewSource(c *Client, p *Probe, opts SourceOptions) *Source {
	s := &Source{
		c: c, chain: cmpOr(opts.Chain, "bitcoin"), spends: cmpOr(opts.Spends, p.Spends), why: p.Why,
		conc: cmpOr(opts.Concurrency, 4), scanner: NewScanner(c, opts.Scan),
		txs: map[string]*utxo.Tx{}, byAddr: map[string][]string{}, order: map[uint64]map[string]int{},
		coinjoins: map[tracer.Address]utxo.CoinJoin{}, byTouch: map[string][]*utxo.Tx{}, indexedBlocks: map[uint64]bool{},
	}
	if opts.Spends != "" && opts.Spends != p.Spends {
		s.why = "asked for by the caller"
	}
	if s.spends == SpendsByAddrIndex && !p.AddrIndex {
		s.spends, s.why = SpendsByBlockScan, p.Why
	}
	return s
}

// Scanner is the Source's block scanner: a search over the same window
// (the THORChain outbound search) shares its blocks, each read once.
func (s *Source) Scanner() *Scanner { return s.scanner }

// Method says how spends are found, and why.
func (s *Source) Method() (SpendMethod, string) { return s.spends, s.why }

// Methods implements tracer.Described.
func (s *Source) Methods() []string {
	if s.spends == SpendsByAddrIndex {
		return []string{"searchrawtransactions", "getblockheader", "getblockhash", "getblock"}
	}
	return []string{"getblockhash", "getblock", "getrawtransaction"}
}

// Usage implements tracer.Metered.
func (s *Source) Usage() tracer.Usage {
	req, rt := s.c.Usage()
	return tracer.Usage{Requests: req, RoundTrips: rt, BlocksScanned: int64(s.scanner.Reads())}
}

// Transfers implements tracer.Source.
func (s *Source) Transfers(ctx context.Context, q tracer.TransferQuery) ([]tracer.Transfer, error) {
	var hubs, addrs []string
	for _, a := range q.Addresses {
		if id, ok := strings.CutPrefix(string(a), TxPrefix); ok {
			hubs = append(hubs, id)
		} else if a != FeeAddress && a != NoAddress {
			addrs = append(addrs, string(a))
		}
	}
	txs, err := s.addressTxs(ctx, addrs, q)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range hubs {
		if tx := s.txs[id]; tx != nil && inWindow(tx, q.Window) {
			txs = append(txs, tx)
		}
	}
	asked := map[tracer.Address]bool{}
	for _, a := range q.Addresses {
		asked[a] = true
	}
	var out []tracer.Transfer
	seen := map[string]bool{}
	for _, tx := range txs {
		if seen[tx.TxID] {
			continue
		}
		seen[tx.TxID] = true
		if q.Direction == tracer.Incoming && slices.ContainsFunc(tx.Inputs, func(in utxo.Input) bool { return asked[tracer.Address(in.Address)] }) {
			// Change back to a spender is no new value: it is the hub's
			// outflow, read when the walk expands the hub.
			continue
		}
		for _, t := range s.hub(tx) {
			// A hub asked for its outflows answers its inputs too: those
			// from outside the trace are clean value in its balance.
			hubIn := asked[t.To] && strings.HasPrefix(string(t.To), TxPrefix)
			if (q.Direction == tracer.Outgoing && (asked[t.From] || hubIn)) || (q.Direction == tracer.Incoming && asked[t.To]) {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// addressTxs finds the window's transactions spending from (Outgoing) or
// paying (Incoming) addrs, and keeps them for the hubs' queries.
func (s *Source) addressTxs(ctx context.Context, addrs []string, q tracer.TransferQuery) ([]*utxo.Tx, error) {
	if len(addrs) == 0 {
		return nil, nil
	}
	var found []utxo.Tx
	if s.spends == SpendsByAddrIndex {
		var err error
		if found, err = s.indexed(ctx, addrs, q.Window); err != nil {
			return nil, err
		}
	} else {
		if err := s.readWindow(ctx, q.Window); err != nil {
			return nil, err
		}
		found = s.lookup(addrs, q.Window)
	}
	set := toSet(addrs)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*utxo.Tx
	for i := range found {
		tx := &found[i]
		match := slices.ContainsFunc(tx.Inputs, func(in utxo.Input) bool { return set[in.Address] })
		if q.Direction == tracer.Incoming {
			match = slices.ContainsFunc(tx.Outputs, func(o utxo.Output) bool { return set[o.Address] })
		}
		if !match || !inWindow(tx, q.Window) {
			continue
		}
		if known := s.txs[tx.TxID]; known != nil {
			tx = known
		} else {
			s.txs[tx.TxID] = tx
		}
		out = append(out, tx)
	}
	return out, nil
}

// readWindow makes the scanner hold w, reading only what it lacks (the
// levels of a walk ask windows inside the first one).
func (s *Source) readWindow(ctx context.Context, w tracer.BlockRange) error {
	s.mu.Lock()
	done := s.hasKept && w.From >= s.kept.From && w.To <= s.kept.To
	s.mu.Unlock()
	if done {
		return nil
	}
	if err := s.scanner.Read(ctx, w.From, w.To); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for h := w.From; h <= w.To; h++ {
		if s.indexedBlocks[h] {
			continue
		}
		s.indexedBlocks[h] = true
		b := s.scanner.Block(h)
		if b == nil {
			continue
		}
		for k := range b.Txs {
			tx := &b.Txs[k]
			for _, a := range touched(tx) {
				s.byTouch[a] = append(s.byTouch[a], tx)
			}
		}
	}
	if !s.hasKept || w.From < s.kept.From || w.To > s.kept.To {
		if s.hasKept && w.From <= s.kept.To+1 && w.To+1 >= s.kept.From {
			w = tracer.BlockRange{From: min(w.From, s.kept.From), To: max(w.To, s.kept.To)}
		}
		s.kept, s.hasKept = w, true
	}
	return nil
}

// touched lists the addresses tx spends from or pays, once each.
func touched(tx *utxo.Tx) []string {
	var out []string
	for _, in := range tx.Inputs {
		if in.Address != "" && !slices.Contains(out, in.Address) {
			out = append(out, in.Address)
		}
	}
	for _, o := range tx.Outputs {
		if o.Address != "" && !slices.Contains(out, o.Address) {
			out = append(out, o.Address)
		}
	}
	return out
}

// lookup answers from the kept blocks the transactions of w that spend
// from or pay addrs, in chain order.
func (s *Source) lookup(addrs []string, w tracer.BlockRange) []utxo.Tx {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[*utxo.Tx]bool{}
	var out []utxo.Tx
	for _, a := range addrs {
		for _, tx := range s.byTouch[a] {
			if !seen[tx] && inWindow(tx, w) {
				seen[tx] = true
				out = append(out, *tx)
			}
		}
	}
	slices.SortFunc(out, func(a, b utxo.Tx) int { return cmp.Or(cmp.Compare(a.Block, b.Block), cmp.Compare(a.Index, b.Index)) })
	return out
}

// indexed asks the address index for each address (once per trace, in
// parallel), and places each transaction in its block (getblockhash and
// getblock verbosity 1, batched, once per block) so that chain order holds
// between transactions of one block.
func (s *Source) indexed(ctx context.Context, addrs []string, w tracer.BlockRange) ([]utxo.Tx, error) {
	s.mu.Lock()
	var ask []string
	for _, a := range addrs {
		if _, ok := s.byAddr[a]; !ok {
			ask = append(ask, a)
		}
	}
	s.mu.Unlock()
	answers := make([][]utxo.Tx, len(ask))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.conc)
	for i, a := range ask {
		g.Go(func() error {
			txs, err := s.c.AddressTxs(gctx, a)
			answers[i] = txs
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var heights []uint64
	s.mu.Lock()
	for i, a := range ask {
		ids := []string{}
		for k := range answers[i] {
			tx := answers[i][k]
			ids = append(ids, tx.TxID)
			if s.txs[tx.TxID] == nil {
				s.txs[tx.TxID] = &tx
			}
			if _, ok := s.order[tx.Block]; !ok && !slices.Contains(heights, tx.Block) {
				heights = append(heights, tx.Block)
			}
		}
		s.byAddr[a] = ids
	}
	s.mu.Unlock()
	if err := s.placeTxs(ctx, heights); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []utxo.Tx
	for _, a := range addrs {
		for _, id := range s.byAddr[a] {
			tx := s.txs[id]
			if pos, ok := s.order[tx.Block][id]; ok {
				tx.Index = pos
			}
			if inWindow(tx, w) {
				out = append(out, *tx)
			}
		}
	}
	return out, nil
}

// placeTxs reads the transaction order of blocks at heights.
func (s *Source) placeTxs(ctx context.Context, heights []uint64) error {
	if len(heights) == 0 {
		return nil
	}
	slices.Sort(heights)
	hs := make([]int64, len(heights))
	for i, h := range heights {
		hs[i] = int64(h)
	}
	hashes, err := s.c.BlockHashes(ctx, hs)
	if err != nil {
		return err
	}
	blocks := make([]blockTxIDs, len(hashes))
	calls := make([]*call, len(hashes))
	for i, h := range hashes {
		calls[i] = &call{Method: "getblock", Params: []any{h, 1}, Result: &blocks[i]}
	}
	if err := s.c.batch(ctx, calls); err != nil {
		return fmt.Errorf("bitcoin: getblock: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, cl := range calls {
		if cl.Err != nil {
			return fmt.Errorf("bitcoin: getblock %s: %w", hashes[i], cl.Err)
		}
		pos := make(map[string]int, len(blocks[i].Tx))
		for k, id := range blocks[i].Tx {
			pos[id] = k
		}
		s.order[heights[i]] = pos
	}
	return nil
}

func inWindow(tx *utxo.Tx, w tracer.BlockRange) bool { return tx.Block >= w.From && tx.Block <= w.To }

// hub lists tx's transfers: inputs to the hub, the hub to outputs and the
// fee. Called with s.mu held.
func (s *Source) hub(tx *utxo.Tx) []tracer.Transfer {
	node := TxAddress(tx.TxID)
	var ann map[string]string
	if cj, ok := s.coinjoins[node]; ok {
		ann = coinJoinAnnotations(cj)
	} else if cj, ok := utxo.DetectCoinJoin(*tx); ok {
		s.coinjoins[node] = cj
		ann = coinJoinAnnotations(cj)
	}
	var signer tracer.Address
	if len(tx.Inputs) > 0 {
		signer = tracer.Address(tx.Inputs[0].Address)
	}
	mk := func(seq int, from, to tracer.Address, sats int64) tracer.Transfer {
		return tracer.Transfer{
			Chain: s.chain, TxHash: tx.TxID, BlockNumber: tx.Block, TxIndex: uint(max(tx.Index, 0)),
			Seq: seq, LogIndex: -1, TraceAddress: []int{seq}, Kind: tracer.KindNative,
			From: from, To: to, Asset: tracer.NativeAsset, Amount: big.NewInt(sats), TxFrom: signer,
		}
	}
	var out []tracer.Transfer
	for i, in := range tx.Inputs {
		if in.Coinbase || in.Address == "" {
			continue // a coinbase spends nothing; a script without address is nobody's
		}
		t := mk(i, tracer.Address(in.Address), node, in.Value)
		t.Annotations = ann
		out = append(out, t)
	}
	n := len(tx.Inputs)
	change, guessed := utxo.GuessChange(*tx)
	for k, o := range tx.Outputs {
		if o.Value <= 0 {
			continue // OP_RETURN
		}
		to := tracer.Address(o.Address)
		if to == "" {
			to = NoAddress
		}
		t := mk(n+int(o.Index), node, to, o.Value)
		if guessed && change.Output == k {
			t.Annotations = map[string]string{
				AnnChange:           strings.Join(change.Reasons, "; "),
				AnnChangeConfidence: strconv.FormatFloat(change.Confidence, 'f', 2, 64),
			}
		}
		out = append(out, t)
	}
	if fee := tx.Fee(); fee > 0 {
		out = append(out, mk(n+len(tx.Outputs), node, FeeAddress, fee))
	}
	return out
}

func coinJoinAnnotations(cj utxo.CoinJoin) map[string]string {
	return map[string]string{
		tracer.AnnMixer:       "coinjoin:" + string(cj.Kind),
		AnnCoinJoinEvidence:   cj.Reason,
		AnnCoinJoinConfidence: strconv.FormatFloat(cj.Confidence, 'f', 2, 64),
	}
}

// Describe implements tracer.Source: hubs are pass-through contracts of
// category transaction, FeeAddress the fee sink (category fees, a
// terminal), every other address a plain account; Bitcoin has no tokens.
func (s *Source) Describe(_ context.Context, accounts, _ []tracer.Address) (tracer.Descriptions, error) {
	d := tracer.Descriptions{Accounts: map[tracer.Address]tracer.Account{}, Tokens: map[tracer.Address]tracer.Token{}}
	for _, a := range accounts {
		switch {
		case strings.HasPrefix(string(a), TxPrefix):
			d.Accounts[a] = tracer.Account{IsContract: true, Category: tracer.CategoryTransaction}
		case a == FeeAddress:
			d.Accounts[a] = tracer.Account{Category: tracer.CategoryFees}
		default:
			d.Accounts[a] = tracer.Account{}
		}
	}
	return d, nil
}

// Labels is a tracer.Labeler that names the CoinJoins the Source met as
// mixers (terminals). Give it to the walk beside any other labeler.
func (s *Source) Labels() tracer.Labeler { return coinJoinLabels{s} }

type coinJoinLabels struct{ s *Source }

func (l coinJoinLabels) Lookup(chain string, a tracer.Address) (tracer.Label, bool) {
	if chain != l.s.chain {
		return tracer.Label{}, false
	}
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	cj, ok := l.s.coinjoins[a]
	if !ok {
		return tracer.Label{}, false
	}
	return tracer.Label{
		Name:     fmt.Sprintf("CoinJoin (%s, confidence %.2f)", cj.Kind, cj.Confidence),
		Category: tracer.CategoryMixer,
		Source:   "flowtrace CoinJoin detection: " + cj.Reason,
	}, true
}
