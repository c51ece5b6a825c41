package tracer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
)

// Options configure a walk.
type Options struct {
	Chain  string
	Seeds  []Address
	Window BlockRange
	// MaxDepth is the number of hops followed from the seeds; <= 0 means no limit.
	MaxDepth int
	// Expand are addresses whose outflows are read even past MaxDepth (one
	// more hop asked for a node, as flowtrace serve does); the recipients
	// stop at the depth limit as usual.
	Expand []Address
	// MinValue is the smallest tainted amount a transfer must carry to be followed.
	MinValue Threshold
	// MaxAddresses caps the addresses in the trace; <= 0 means no limit.
	MaxAddresses int
	// MaxRequests caps the source's JSON-RPC requests (needs a Metered source); <= 0 means no limit.
	MaxRequests int64
	// StopAtContracts makes unlabelled contracts terminals instead of following them.
	StopAtContracts bool
	// Labels names known entities; nil means none.
	Labels Labeler
	// Tokens recognises genuine tokens; nil means none is recognised and
	// every token event is judged by who signed it.
	Tokens TokenRegistry
	// Taint is the taint model; nil means Poison.
	Taint TaintModel
	// CompareTaint are further models whose accounting of the same walk
	// goes into Trace.Alternatives.
	CompareTaint []TaintModel
	// Progress, when set, is called after each level.
	Progress func(LevelStats)
	// TheftTxs are the hashes (0x + 64 hex) of the transactions that moved
	// the stolen value to the seeds; when set, the stolen value is exactly
	// what they moved to the seeds.
	TheftTxs []string
	// FeeSink is where the chain's transaction fees go as transfers (a UTXO
	// chain's miners); value paid there is counted as fees, whatever its
	// amount. "" means fees are no transfers.
	FeeSink Address
	// Native is the chain's own coin: its symbol and decimals (for
	// --min-value in whole units and the summary). The zero value means ETH,
	// 18 decimals.
	Native Token
}

// DefaultNative is the native coin of a walk whose Options.Native is unset.
var DefaultNative = Token{Symbol: "ETH", Decimals: 18}

// native is the walk's native coin.
func (o Options) native() Token {
	if o.Native == (Token{}) {
		return DefaultNative
	}
	return o.Native
}

// ZeroAddress is where mints come from and burns go: never a wallet, so the
// walk never follows it.
const ZeroAddress Address = "0x0000000000000000000000000000000000000000"

// zeroAddressLabel names the zero address when the walk reaches it.
var zeroAddressLabel = Label{Name: "zero address (mints and burns)", Category: CategoryOther, Source: "flowtrace"}

// ErrNoStolenValue means the seeds received nothing in the window, so there
// is nothing to follow.
var ErrNoStolenValue = errors.New("the seeds received no value in the block window")

// Walk follows the value the seeds received in the window, level by level.
// It returns a Trace whenever it got past the seeds, also when a budget, a
// failed hop or a cancelled ctx cut it short (Stats.StopReason says which);
// it returns an error when it could not start, and (with the Trace) when a
// transfer it read was left unaccounted (ErrUnaccounted, a bug).
func Walk(ctx context.Context, src Source, opts Options) (*Trace, error) {
	if len(opts.Seeds) == 0 {
		return nil, errors.New("tracer: no seed addresses")
	}
	if opts.Window.Len() == 0 {
		return nil, fmt.Errorf("tracer: empty block window [%d,%d]", opts.Window.From, opts.Window.To)
	}
	w := newWalker(src, opts)
	start := time.Now()
	if err := w.start(ctx); err != nil {
		return nil, err
	}
	w.run(ctx)
	t := w.result()
	t.Stats.Elapsed = time.Since(start)
	if err := w.checkAccounted(t); err != nil {
		return t, err
	}
	return t, nil
}

// walker holds the state of one walk.
type walker struct {
	src   Source
	opts  Options
	multi ChainWindows // set when src spans several chains
	// windows are the other chains' windows, asked of multi once each.
	windows map[string]BlockRange
	ledger  *ledger
	nodes   map[Address]*nodeState
	// thresholds per asset, in base units.
	thresholds map[Asset]*big.Int
	tokens     map[Address]Token
	described  map[Address]bool
	skipped    []Skip
	read       map[string]bool // IDs of every transfer read
	traced     []string        // IDs of the result's traced transfers
	// pending are the outflows whose recipient was not a node at the last
	// grow (and those booked since): the only ones that can add a node.
	pending    []*event
	basis      string // how the stolen value was derived
	levels     []LevelStats
	stop       StopReason
	stopDetail string
}

type nodeState struct {
	Node
	chain       string // the chain of the transfer that first reached it
	covered     bool
	coveredFrom uint64
}

func newWalker(src Source, opts Options) *walker {
	multi, _ := src.(ChainWindows)
	return &walker{
		src:        src,
		opts:       opts,
		multi:      multi,
		windows:    map[string]BlockRange{},
		ledger:     newLedger(opts.Taint, opts.Chain),
		read:       map[string]bool{},
		nodes:      map[Address]*nodeState{},
		thresholds: map[Asset]*big.Int{},
		tokens:     map[Address]Token{},
		described:  map[Address]bool{},
	}
}

// start registers the seeds and what they received in the window.
func (w *walker) start(ctx context.Context) error {
	seeds := dedupe(w.opts.Seeds)
	began, before := time.Now(), w.usage()
	// The seeds' description and inflows are independent: one round.
	var (
		d   Descriptions
		in  []Transfer
		err error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		if d, err = w.src.Describe(gctx, seeds, nil); err != nil {
			return fmt.Errorf("tracer: describing the seeds: %w", err)
		}
		return nil
	})
	g.Go(func() (err error) {
		if in, err = w.src.Transfers(gctx, TransferQuery{Direction: Incoming, Addresses: seeds, Window: w.opts.Window}); err != nil {
			return fmt.Errorf("tracer: reading what the seeds received: %w", err)
		}
		return nil
	})
	if err = g.Wait(); err != nil {
		return err
	}
	for _, a := range seeds {
		n := w.addNode(a, w.opts.Chain, 0, w.opts.Window.From, d.Accounts[a])
		n.Category = CategorySeed
	}
	if err := w.describeTokens(ctx, w.newTokens(in)); err != nil {
		return err
	}
	w.credit(in)
	if len(w.ledger.stolen()) == 0 {
		return fmt.Errorf("tracer: %w [%d,%d]", ErrNoStolenValue, w.opts.Window.From, w.opts.Window.To)
	}
	w.ledger.propagate(w.trusted)
	for asset, amount := range w.ledger.stolen() {
		w.thresholds[asset] = w.opts.MinValue.Amount(w.decimals(asset), amount)
	}
	w.record(LevelStats{Level: 0, Frontier: len(seeds), Window: w.opts.Window, Transfers: len(in),
		NewAddresses: len(seeds), Usage: w.usage().Sub(before), Elapsed: time.Since(began)})
	return nil
}

// run expands the frontier level by level until nothing is left or a limit
// hits. Level 0 was the seeds' inflows; level k reaches the addresses k hops away.
func (w *walker) run(ctx context.Context) {
	for level := 1; ; level++ {
		frontier, hops := w.frontier()
		if len(frontier) == 0 {
			return
		}
		if err := ctx.Err(); err != nil {
			w.halt(frontier, StopInterrupted, NodeInterrupted, err.Error())
			return
		}
		before := w.usage()
		if w.opts.MaxRequests > 0 && before.Requests >= w.opts.MaxRequests {
			w.halt(frontier, StopRequests, NodeBudget, fmt.Sprintf("%d requests used, budget %d", before.Requests, w.opts.MaxRequests))
			return
		}
		began := time.Now()
		found, err := w.readHops(ctx, hops)
		if err != nil {
			if ctx.Err() != nil {
				w.halt(frontier, StopInterrupted, NodeInterrupted, ctx.Err().Error())
			} else {
				w.halt(frontier, StopHopFailed, NodeHopFailed, err.Error())
			}
			return
		}
		window := hops[0].window
		inFrontier := map[Address]bool{}
		for _, h := range hops {
			for _, a := range h.addrs {
				inFrontier[a] = true
				n := w.nodes[a]
				if !n.covered || h.window.From < n.coveredFrom {
					n.coveredFrom = h.window.From
				}
				n.covered = true
			}
		}
		// Tokens first met in this hop (a swap into a new token) are judged
		// with their metadata: a Source that describes ahead has it already.
		if err := w.describeTokens(ctx, w.newTokens(found)); err != nil {
			w.halt(frontier, StopHopFailed, NodeHopFailed, err.Error())
			return
		}
		for _, t := range found {
			id := t.ID()
			w.read[id] = true
			switch {
			case !inFrontier[t.From] && w.ledger.isOutflow(id):
				// read before as its sender's outflow: booked already
			case !inFrontier[t.From] && w.passThroughInflow(t, inFrontier):
				w.ledger.addCredit(t, false)
				w.skip(t, "clean inflow of a pass-through from outside the trace (counted in its balance)")
			case !inFrontier[t.From]:
				w.skip(t, "not sent by an address of this level (the source answered more than asked)")
			case t.From == t.To:
				w.skip(t, "self-transfer (moves nothing)")
			default:
				if e, fresh := w.ledger.addOutflow(t, id); fresh {
					w.pending = append(w.pending, e)
				}
			}
		}
		w.ledger.propagate(w.trusted)
		w.bridgedThresholds()
		added, err := w.grow(ctx, level)
		w.record(LevelStats{
			Level: level, Frontier: len(frontier), Window: window, Transfers: len(found),
			NewAddresses: added, Usage: w.usage().Sub(before), Elapsed: time.Since(began),
		})
		if err != nil {
			next, _ := w.frontier()
			if ctx.Err() != nil {
				w.halt(next, StopInterrupted, NodeInterrupted, ctx.Err().Error())
			} else {
				w.halt(next, StopHopFailed, NodeHopFailed, err.Error())
			}
			return
		}
		if w.stop != "" {
			next, _ := w.frontier()
			w.halt(next, w.stop, NodeBudget, w.stopDetail)
			return
		}
	}
}

// bridgedThresholds sets the threshold of an asset first met as a
// bridge's payout (another chain's coin): the same rule, applied to what the
// bridges paid out of it.
func (w *walker) bridgedThresholds() {
	_, in := w.ledger.bridgedTotals()
	for asset, x := range in {
		if _, ok := w.thresholds[asset]; !ok && x.Sign() > 0 {
			w.thresholds[asset] = w.opts.MinValue.Amount(w.decimals(asset), x)
		}
	}
}

// passThroughInflow reports whether t, answered for a contract of this
// level, brings it value its sender's expansion did not (a UTXO
// transaction's inputs from outside the trace): known clean value in its
// balance, so the taint models share its outflows as they should. Should
// the sender be expanded later, its outflow takes the place of the credit.
func (w *walker) passThroughInflow(t Transfer, inFrontier map[Address]bool) bool {
	n, ok := w.nodes[t.To]
	return inFrontier[t.To] && ok && n.IsContract && w.trusted(t)
}

// record keeps a level's figures and reports them.
func (w *walker) record(l LevelStats) {
	w.levels = append(w.levels, l)
	if w.opts.Progress != nil {
		w.opts.Progress(l)
	}
}

// hop is one Transfers call of a level: the frontier's addresses on one
// chain, and the window that covers them all.
type hop struct {
	chain  string
	addrs  []Address
	window BlockRange
}

// frontier lists the nodes whose outflows must be read next, and the hops
// that read them: one per chain (one in all on a single chain), each from
// the earliest tainted inflow not yet covered on that chain. The walk's own
// chain comes first.
func (w *walker) frontier() ([]Address, []hop) {
	var out []Address
	byChain := map[string]*hop{}
	for a, n := range w.nodes {
		if n.Stop != NodeFollowed {
			continue
		}
		first, ok := w.ledger.firstInflow(a)
		if !ok || (n.covered && first >= n.coveredFrom) {
			continue
		}
		if w.opts.MaxDepth > 0 && n.Depth >= w.opts.MaxDepth && !slices.Contains(w.opts.Expand, a) {
			n.Stop = NodeDepth
			continue
		}
		out = append(out, a)
		chain := w.opts.Chain
		if w.multi != nil {
			chain = n.chain
		}
		h := byChain[chain]
		if h == nil {
			h = &hop{chain: chain, window: BlockRange{From: first, To: w.opts.Window.To}}
			if chain == w.opts.Chain {
				h.window.From = min(first, w.opts.Window.To)
			}
			byChain[chain] = h
		}
		h.addrs = append(h.addrs, a)
		h.window.From = min(h.window.From, first)
	}
	slices.Sort(out)
	var hops []hop
	for _, c := range slices.Sorted(maps.Keys(byChain)) {
		h := *byChain[c]
		slices.Sort(h.addrs)
		if c == w.opts.Chain {
			hops = append([]hop{h}, hops...)
		} else {
			hops = append(hops, h)
		}
	}
	return out, hops
}

// readHops asks the source for the outflows of each hop, in order. A chain
// other than the walk's own reads up to the end of its window (asked once).
func (w *walker) readHops(ctx context.Context, hops []hop) ([]Transfer, error) {
	var found []Transfer
	for i := range hops {
		h := &hops[i]
		if h.chain != w.opts.Chain {
			cw, ok := w.windows[h.chain]
			if !ok {
				var err error
				if cw, err = w.multi.ChainWindow(ctx, h.chain, w.opts.Window); err != nil {
					return nil, fmt.Errorf("tracer: the window on %s: %w", h.chain, err)
				}
				w.windows[h.chain] = cw
			}
			h.window = BlockRange{From: max(min(h.window.From, cw.To), cw.From), To: cw.To}
		}
		ts, err := w.src.Transfers(ctx, TransferQuery{Direction: Outgoing, Addresses: h.addrs, Window: h.window})
		if err != nil {
			return nil, err
		}
		found = append(found, ts...)
	}
	return found, nil
}

// grow adds the recipients that newly received at least the threshold.
func (w *walker) grow(ctx context.Context, depth int) (int, error) {
	var fresh []Address
	firstSeen := map[Address]uint64{}
	chainOf := map[Address]string{}
	left := w.pending[:0]
	for _, e := range w.pending {
		t := &e.t
		if _, known := w.nodes[t.To]; known {
			continue // for good: nodes stay
		}
		left = append(left, e)
		if !w.keptEvent(e) {
			continue
		}
		if _, seen := firstSeen[t.To]; !seen {
			fresh = append(fresh, t.To)
			firstSeen[t.To] = t.BlockNumber
			chainOf[t.To] = cmp.Or(t.Chain, w.opts.Chain)
		}
		firstSeen[t.To] = min(firstSeen[t.To], t.BlockNumber)
	}
	clear(w.pending[len(left):])
	w.pending = left
	slices.Sort(fresh)
	if w.opts.MaxAddresses > 0 && len(w.nodes)+len(fresh) > w.opts.MaxAddresses {
		room := max(w.opts.MaxAddresses-len(w.nodes), 0)
		for _, a := range fresh[room:] {
			w.skipped = append(w.skipped, Skip{Address: a, Reason: "address budget"})
		}
		fresh = fresh[:room]
		w.stop, w.stopDetail = StopAddresses, fmt.Sprintf("--max-addresses %d reached", w.opts.MaxAddresses)
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	d, err := w.src.Describe(ctx, fresh, nil)
	if err != nil {
		return 0, fmt.Errorf("tracer: describing %d new addresses: %w", len(fresh), err)
	}
	for _, a := range fresh {
		w.addNode(a, chainOf[a], depth, firstSeen[a], d.Accounts[a])
	}
	return len(fresh), nil
}

// addNode registers an address reached at depth and classifies it.
func (w *walker) addNode(a Address, chain string, depth int, block uint64, acct Account) *nodeState {
	n := &nodeState{Node: Node{Address: a, Depth: depth, FirstSeenBlock: block, IsContract: acct.IsContract}, chain: chain}
	n.Category = CategoryEOA
	if acct.IsContract {
		n.Category = CategoryContract
	}
	if acct.Category != "" {
		n.Category = acct.Category
	}
	if w.opts.Labels != nil {
		if l, ok := w.opts.Labels.Lookup(w.opts.Chain, a); ok {
			n.Labels = append(n.Labels, l)
			n.Category = l.Category
		}
	}
	if a == ZeroAddress && len(n.Labels) == 0 {
		n.Labels = append(n.Labels, zeroAddressLabel)
		n.Category = CategoryOther
	}
	switch {
	case depth > 0 && a == ZeroAddress:
		n.Stop = NodeTerminal // value sent there is burned, not held by a wallet
	case depth > 0 && terminal(n.Category):
		n.Stop = NodeTerminal
	case depth > 0 && acct.IsContract && len(n.Labels) == 0 && w.opts.StopAtContracts:
		n.Stop = NodeContract
	}
	w.nodes[a] = n
	return n
}

// terminal reports whether the walk stops at an entity of category c.
func terminal(c Category) bool {
	switch c {
	case CategoryExchange, CategoryBridge, CategoryMixer, CategoryDEX, CategoryFees:
		return true
	}
	return false
}

// halt stops the walk, marking the nodes left unexpanded.
func (w *walker) halt(left []Address, reason StopReason, stop NodeStop, detail string) {
	for _, a := range left {
		w.nodes[a].Stop = stop
	}
	w.stop, w.stopDetail = reason, detail
}

// newTokens lists the tokens ts move that were not described yet.
func (w *walker) newTokens(ts []Transfer) []Address {
	var tokens []Address
	seen := map[Asset]bool{}
	for _, t := range ts {
		if t.Asset != NativeAsset && !w.described[Address(t.Asset)] && !seen[t.Asset] {
			seen[t.Asset] = true
			tokens = append(tokens, Address(t.Asset))
		}
	}
	slices.Sort(tokens)
	return tokens
}

// describeTokens fetches token metadata once per token.
func (w *walker) describeTokens(ctx context.Context, tokens []Address) error {
	if len(tokens) == 0 {
		return nil
	}
	d, err := w.src.Describe(ctx, nil, tokens)
	if err != nil {
		return fmt.Errorf("tracer: describing %d tokens: %w", len(tokens), err)
	}
	for _, a := range tokens {
		w.described[a] = true
		if tok, ok := d.Tokens[a]; ok {
			w.tokens[a] = tok
		}
	}
	return nil
}

// skip lists a transfer read but not followed, with its reason.
func (w *walker) skip(t Transfer, reason string) {
	w.skipped = append(w.skipped, skipOf(t, reason))
}

func skipOf(t Transfer, reason string) Skip {
	var amount *big.Int
	if t.Amount != nil {
		amount = new(big.Int).Set(t.Amount)
	}
	return Skip{Address: t.To, TxHash: t.TxHash, Reason: reason, ID: t.ID(), Asset: t.Asset, Amount: amount}
}

// followable reports whether a transfer moves real value of a known asset.
func (w *walker) followable(t Transfer) bool {
	if t.Amount == nil || t.Amount.Sign() <= 0 || t.Kind == KindERC721 {
		return false
	}
	if t.Asset.Native() {
		return true
	}
	_, ok := w.tokens[Address(t.Asset)]
	return ok
}

// trusted reports whether a transfer may carry taint: it must be followable
// and genuine.
func (w *walker) trusted(t Transfer) bool {
	return w.followable(t) && w.trust(t) == TrustGenuine
}

// kept reports whether a traced transfer carried at least the threshold.
func (w *walker) kept(t Transfer) bool { return w.keptTaint(t.Asset, w.ledger.taint(t.ID())) }

// keptEvent is kept for a booked outflow.
func (w *walker) keptEvent(e *event) bool { return w.keptTaint(e.t.Asset, w.ledger.tainted[e.n]) }

// keptTaint reports whether x, the stolen part of a transfer of asset, is
// at least the threshold.
func (w *walker) keptTaint(asset Asset, x *big.Int) bool {
	if x == nil || x.Sign() == 0 {
		return false
	}
	th := w.thresholds[asset]
	return th == nil || x.Cmp(th) >= 0
}

func (w *walker) decimals(a Asset) uint8 {
	if a == NativeAsset {
		return w.opts.native().Decimals
	}
	return w.tokens[Address(a)].Decimals
}

func (w *walker) usage() Usage {
	if m, ok := w.src.(Metered); ok {
		return m.Usage()
	}
	return Usage{}
}

func dedupe(as []Address) []Address {
	out := slices.Clone(as)
	slices.Sort(out)
	return slices.Compact(out)
}
