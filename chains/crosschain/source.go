package crosschain

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowtrace/flowtrace/chains/thorchain"
	"github.com/flowtrace/flowtrace/tracer"
)

// Chain is one chain of a trace.
type Chain struct {
	// Name is the flowtrace chain name ("ethereum", "bitcoin"): the
	// qualifier of the chain's addresses when it is not the primary, and
	// the tracer.AnnDestChain of the deposits bridged to it.
	Name   string
	Source tracer.Source
	Clock  Clock
	// Coin is the metadata of the chain's native coin (BTC, 8 decimals).
	Coin tracer.Token
	// Labels names the chain's own finds (a Bitcoin Source's CoinJoins); optional.
	Labels tracer.Labeler
}

// Source is a tracer.Source over several chains: the primary chain's
// addresses as they are, the others' qualified "<chain>:<address>", and
// the hubs of the paired bridge swaps ("<bridge>:<swap>"). See the package
// documentation.
type Source struct {
	primary Chain
	others  map[string]Chain
	pairers map[[2]string]Pairer // by bridge and destination chain

	mu       sync.Mutex
	windows  map[windowKey]tracer.BlockRange
	pairings map[string]pairingOf                 // by deposit ID
	hubs     map[tracer.Address][]tracer.Transfer // the payouts of each hub
	swaps    map[tracer.Address]string            // each hub's label, from its pairing
}

type windowKey struct {
	chain string
	w     tracer.BlockRange
}

type pairingOf struct {
	p   Pairing
	hub tracer.Address
	to  string // the destination chain
}

var (
	_ tracer.Source       = (*Source)(nil)
	_ tracer.ChainWindows = (*Source)(nil)
	_ tracer.Metered      = (*Source)(nil)
	_ tracer.Described    = (*Source)(nil)
)

// New makes a Source whose walk runs on primary and goes on to others
// through the pairers' bridges. Chain names must be distinct and none may
// be a pairer's bridge name.
func New(primary Chain, others []Chain, pairers ...Pairer) (*Source, error) {
	s := &Source{primary: primary, others: map[string]Chain{}, pairers: map[[2]string]Pairer{},
		windows: map[windowKey]tracer.BlockRange{}, pairings: map[string]pairingOf{},
		hubs: map[tracer.Address][]tracer.Transfer{}, swaps: map[tracer.Address]string{}}
	if primary.Source == nil || primary.Clock == nil || primary.Name == "" {
		return nil, errors.New("crosschain: the primary chain needs a name, a Source and a Clock")
	}
	primary.Clock = cached(primary.Clock)
	s.primary = primary
	for _, c := range others {
		if c.Source == nil || c.Clock == nil || c.Name == "" {
			return nil, fmt.Errorf("crosschain: chain %q needs a name, a Source and a Clock", c.Name)
		}
		if _, dup := s.others[c.Name]; dup || c.Name == primary.Name {
			return nil, fmt.Errorf("crosschain: chain %q given twice", c.Name)
		}
		c.Clock = cached(c.Clock)
		s.others[c.Name] = c
	}
	for _, p := range pairers {
		if _, ok := s.others[p.Chain()]; !ok {
			return nil, fmt.Errorf("crosschain: %s pairs deposits to %s, which is not a chain of the trace", p.Bridge(), p.Chain())
		}
		if _, clash := s.others[p.Bridge()]; clash || p.Bridge() == primary.Name {
			return nil, fmt.Errorf("crosschain: bridge %q has a chain's name", p.Bridge())
		}
		s.pairers[[2]string{p.Bridge(), p.Chain()}] = p
	}
	return s, nil
}

// route says where an address belongs: a chain other than the primary (with
// the address unqualified), a hub, or the primary.
func (s *Source) route(a tracer.Address) (chain string, addr tracer.Address, hub bool) {
	prefix, rest, ok := strings.Cut(string(a), ":")
	if !ok {
		return "", a, false
	}
	if _, ok := s.others[prefix]; ok {
		return prefix, tracer.Address(rest), false
	}
	for k := range s.pairers {
		if k[0] == prefix {
			return prefix, a, true
		}
	}
	return "", a, false
}

// Transfers implements tracer.Source.
func (s *Source) Transfers(ctx context.Context, q tracer.TransferQuery) ([]tracer.Transfer, error) {
	var primary, hubs []tracer.Address
	byChain := map[string][]tracer.Address{}
	for _, a := range q.Addresses {
		switch chain, addr, hub := s.route(a); {
		case hub:
			hubs = append(hubs, a)
		case chain != "":
			byChain[chain] = append(byChain[chain], addr)
		default:
			primary = append(primary, a)
		}
	}
	var out []tracer.Transfer
	if len(primary) > 0 {
		pq := q
		pq.Addresses = primary
		ts, err := s.primary.Source.Transfers(ctx, pq)
		if err != nil {
			return nil, err
		}
		if q.Direction == tracer.Outgoing {
			if ts, err = s.continueDeposits(ctx, ts, q.Window.To); err != nil {
				return nil, err
			}
		}
		out = append(out, ts...)
	}
	for _, name := range slices.Sorted(maps.Keys(byChain)) {
		c := s.others[name]
		cq := q
		cq.Addresses = byChain[name]
		ts, err := c.Source.Transfers(ctx, cq)
		if err != nil {
			return nil, fmt.Errorf("crosschain: %s: %w", name, err)
		}
		for _, t := range ts {
			out = append(out, qualify(name, t))
		}
	}
	if q.Direction == tracer.Outgoing {
		s.mu.Lock()
		for _, h := range hubs {
			out = append(out, s.hubs[h]...)
		}
		s.mu.Unlock()
	}
	return out, nil
}

// qualify writes t's addresses and asset as those of chain.
func qualify(chain string, t tracer.Transfer) tracer.Transfer {
	t.Chain = chain
	t.From, t.To = tracer.Qualify(chain, t.From), tracer.Qualify(chain, t.To)
	if t.TxFrom != "" {
		t.TxFrom = tracer.Qualify(chain, t.TxFrom)
	}
	t.Asset = tracer.QualifyAsset(chain, t.Asset)
	return t
}

// continueDeposits pairs the bridge deposits among ts (each once per trace)
// and answers the paired ones sent to their swap's hub, the others as they
// are; every deposit a pairer handles says what its search found.
func (s *Source) continueDeposits(ctx context.Context, ts []tracer.Transfer, primaryEnd uint64) ([]tracer.Transfer, error) {
	type ask struct {
		deps []Deposit
		idx  []int
	}
	asks := map[[2]string]*ask{}
	for i, t := range ts {
		key := [2]string{t.Annotations[tracer.AnnBridge], t.Annotations[tracer.AnnDestChain]}
		if _, ok := s.pairers[key]; !ok {
			continue
		}
		s.mu.Lock()
		_, done := s.pairings[t.ID()]
		s.mu.Unlock()
		if done {
			continue
		}
		at, err := s.primary.Clock.BlockTime(ctx, t.BlockNumber)
		if err != nil {
			return nil, err
		}
		a := asks[key]
		if a == nil {
			a = &ask{}
			asks[key] = a
		}
		a.deps = append(a.deps, Deposit{Transfer: t, Time: at})
		a.idx = append(a.idx, i)
	}
	for _, key := range slices.SortedFunc(maps.Keys(asks), func(a, b [2]string) int { return strings.Compare(a[0]+" "+a[1], b[0]+" "+b[1]) }) {
		p, a := s.pairers[key], asks[key]
		end, err := s.chainEnd(ctx, p.Chain(), primaryEnd)
		if err != nil {
			return nil, err
		}
		prs, err := p.Pair(ctx, a.deps, end)
		if err != nil {
			return nil, fmt.Errorf("crosschain: pairing %s deposits on %s: %w", p.Bridge(), p.Chain(), err)
		}
		s.mu.Lock()
		for k, pr := range prs {
			d := a.deps[k]
			hub := tracer.Address(p.Bridge() + ":" + p.Swap(d))
			s.pairings[d.Transfer.ID()] = pairingOf{p: pr, hub: hub, to: p.Chain()}
			if len(pr.Legs) > 0 {
				s.hubs[hub] = payouts(p, d, hub, pr)
				s.swaps[hub] = fmt.Sprintf("%s swap %s (%s on %s)", p.Bridge(), p.Swap(d), pr.Status, p.Chain())
			}
		}
		s.mu.Unlock()
	}
	out := make([]tracer.Transfer, len(ts))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, t := range ts {
		out[i] = t
		po, ok := s.pairings[t.ID()]
		if !ok {
			continue
		}
		ann := maps.Clone(t.Annotations)
		ann[tracer.AnnPairing] = po.p.Status
		ann[tracer.AnnPairingDetail] = po.p.Detail
		if len(po.p.Legs) > 0 {
			ann[tracer.AnnBridgeContract] = string(t.To)
			ann[tracer.AnnInboundTx] = t.TxHash
			ann[tracer.AnnOutboundTx] = legIDs(po.p.Legs)
			out[i].To = po.hub
		}
		out[i].Annotations = ann
	}
	return out, nil
}

// payouts are a paired deposit's payouts: the hub pays each leg's
// destination on the pairer's chain, converting the deposit.
func payouts(p Pairer, d Deposit, hub tracer.Address, pr Pairing) []tracer.Transfer {
	chain := p.Chain()
	kind := tracer.ConversionBridged
	if pr.Status == StatusRefunded {
		kind = tracer.ConversionRefunded
	}
	var out []tracer.Transfer
	for _, l := range pr.Legs {
		out = append(out, tracer.Transfer{
			Chain: chain, TxHash: l.TxID, BlockNumber: l.Block, TxIndex: uint(l.Index), Seq: l.Output, LogIndex: -1,
			Kind: tracer.KindNative, From: hub, To: tracer.Qualify(chain, tracer.Address(l.To)),
			Asset: tracer.QualifyAsset(chain, tracer.NativeAsset), Amount: l.Amount, TxFrom: tracer.Qualify(chain, tracer.Address(l.Vault)),
			Annotations: map[string]string{
				tracer.AnnConverts: d.Transfer.ID(), tracer.AnnConversion: kind, tracer.AnnBridge: p.Bridge(),
				tracer.AnnInboundTx: d.Transfer.TxHash, tracer.AnnOutboundTx: l.TxID, tracer.AnnMemo: l.Memo,
				tracer.AnnVault: l.Vault, tracer.AnnDelay: strconv.FormatInt(l.Delay, 10),
				tracer.AnnPairing: pr.Status, tracer.AnnPairingDetail: pr.Detail,
			},
		})
	}
	return out
}

func legIDs(legs []Leg) string {
	ids := make([]string, len(legs))
	for i, l := range legs {
		ids[i] = l.TxID
	}
	return strings.Join(ids, " ")
}

// ChainWindow implements tracer.ChainWindows: chain's blocks from the time
// of w's first block (less the bridges' block-time skew) to the time of its
// last block plus the longest search bound of the bridges into chain.
func (s *Source) ChainWindow(ctx context.Context, chain string, w tracer.BlockRange) (tracer.BlockRange, error) {
	c, ok := s.others[chain]
	if !ok {
		return w, nil
	}
	key := windowKey{chain, w}
	s.mu.Lock()
	got, ok := s.windows[key]
	s.mu.Unlock()
	if ok {
		return got, nil
	}
	t0, err := s.primary.Clock.BlockTime(ctx, w.From)
	if err != nil {
		return tracer.BlockRange{}, err
	}
	from, err := FirstAtOrAfter(ctx, c.Clock, t0-thorchain.BlockTimeSkew)
	if err != nil {
		return tracer.BlockRange{}, fmt.Errorf("crosschain: %s: %w", chain, err)
	}
	to, err := s.chainEnd(ctx, chain, w.To)
	if err != nil {
		return tracer.BlockRange{}, err
	}
	got = tracer.BlockRange{From: from, To: max(to, from)}
	s.mu.Lock()
	s.windows[key] = got
	s.mu.Unlock()
	return got, nil
}

// chainEnd is the last block of chain at the time of the primary's block
// primaryTo plus the longest search bound of the bridges into chain.
func (s *Source) chainEnd(ctx context.Context, chain string, primaryTo uint64) (uint64, error) {
	var delay time.Duration
	for k, p := range s.pairers {
		if k[1] == chain {
			delay = max(delay, p.MaxDelay())
		}
	}
	t1, err := s.primary.Clock.BlockTime(ctx, primaryTo)
	if err != nil {
		return 0, err
	}
	to, err := LastAtOrBefore(ctx, s.others[chain].Clock, t1+int64(delay/time.Second)+thorchain.BlockTimeSkew)
	if err != nil {
		return 0, fmt.Errorf("crosschain: %s: %w", chain, err)
	}
	return to, nil
}

// Describe implements tracer.Source.
func (s *Source) Describe(ctx context.Context, accounts, tokens []tracer.Address) (tracer.Descriptions, error) {
	d := tracer.Descriptions{Accounts: map[tracer.Address]tracer.Account{}, Tokens: map[tracer.Address]tracer.Token{}}
	type asked struct{ accounts, tokens []tracer.Address }
	var primary asked
	byChain := map[string]*asked{}
	at := func(chain string) *asked {
		if byChain[chain] == nil {
			byChain[chain] = &asked{}
		}
		return byChain[chain]
	}
	for _, a := range accounts {
		switch chain, addr, hub := s.route(a); {
		case hub:
			d.Accounts[a] = tracer.Account{IsContract: true}
		case chain != "":
			at(chain).accounts = append(at(chain).accounts, addr)
		default:
			primary.accounts = append(primary.accounts, a)
		}
	}
	for _, a := range tokens {
		chain, addr, _ := s.route(a)
		switch {
		case chain != "" && tracer.Asset(addr) == tracer.NativeAsset:
			d.Tokens[a] = s.others[chain].Coin
		case chain != "":
			at(chain).tokens = append(at(chain).tokens, addr)
		default:
			primary.tokens = append(primary.tokens, a)
		}
	}
	if len(primary.accounts)+len(primary.tokens) > 0 {
		pd, err := s.primary.Source.Describe(ctx, primary.accounts, primary.tokens)
		if err != nil {
			return d, err
		}
		maps.Copy(d.Accounts, pd.Accounts)
		maps.Copy(d.Tokens, pd.Tokens)
	}
	for _, name := range slices.Sorted(maps.Keys(byChain)) {
		a := byChain[name]
		cd, err := s.others[name].Source.Describe(ctx, a.accounts, a.tokens)
		if err != nil {
			return d, fmt.Errorf("crosschain: %s: %w", name, err)
		}
		for k, v := range cd.Accounts {
			d.Accounts[tracer.Qualify(name, k)] = v
		}
		for k, v := range cd.Tokens {
			d.Tokens[tracer.Qualify(name, k)] = v
		}
	}
	return d, nil
}

// Labels is the labeler to give the walk: base (user and bundled labels,
// asked with each address's own chain and unqualified address), each
// chain's own Labels, and the paired swaps' hubs (tracer.CategoryBridgeSwap,
// which the walk follows). base may be nil.
func (s *Source) Labels(base tracer.Labeler) tracer.Labeler { return labels{s, base} }

type labels struct {
	s    *Source
	base tracer.Labeler
}

func (l labels) Lookup(chain string, a tracer.Address) (tracer.Label, bool) {
	c, addr, hub := l.s.route(a)
	if hub {
		l.s.mu.Lock()
		name, ok := l.s.swaps[a]
		l.s.mu.Unlock()
		return tracer.Label{Name: name, Category: tracer.CategoryBridgeSwap, Source: "flowtrace pairing of the deposit with its payout"}, ok
	}
	own := l.s.primary
	if c != "" {
		chain, own = c, l.s.others[c]
	}
	if l.base != nil {
		if lb, ok := l.base.Lookup(chain, addr); ok {
			return lb, true
		}
	}
	if own.Labels != nil {
		return own.Labels.Lookup(chain, addr)
	}
	return tracer.Label{}, false
}

// Usage implements tracer.Metered: every chain's, summed.
func (s *Source) Usage() tracer.Usage {
	var u tracer.Usage
	for _, c := range s.chains() {
		if m, ok := c.Source.(tracer.Metered); ok {
			x := m.Usage()
			u.Requests += x.Requests
			u.RoundTrips += x.RoundTrips
			u.CacheHits += x.CacheHits
			u.CacheMisses += x.CacheMisses
			u.BlocksScanned += x.BlocksScanned
			u.ProbeRequests += x.ProbeRequests
		}
	}
	return u
}

// Methods implements tracer.Described: each chain's methods, prefixed by
// the chain's name.
func (s *Source) Methods() []string {
	var out []string
	for _, c := range s.chains() {
		if d, ok := c.Source.(tracer.Described); ok {
			for _, m := range d.Methods() {
				out = append(out, c.Name+":"+m)
			}
		}
	}
	return out
}

func (s *Source) chains() []Chain {
	out := []Chain{s.primary}
	for _, name := range slices.Sorted(maps.Keys(s.others)) {
		out = append(out, s.others[name])
	}
	return out
}

// Pairings lists what the search found for each bridge deposit the walk
// met, by deposit transfer ID.
func (s *Source) Pairings() map[string]Pairing {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Pairing{}
	for id, p := range s.pairings {
		out[id] = p.p
	}
	return out
}
