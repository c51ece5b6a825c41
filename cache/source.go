package cache

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/flowtrace/flowtrace/tracer"
)

// Options configure a Cache.
type Options struct {
	// Chain is the name the wrapped source puts on transfers.
	Chain string
	// ChainKey names the chain in keys (see ChainKey); required.
	ChainKey string
	// Final is the highest block whose data is cached: the head minus the
	// reorg buffer. Data of later blocks always comes from the node.
	Final uint64
	// OnError, when set, is called once with the store's first failure;
	// the store is not used after it.
	OnError func(error)
}

// Cache is one chain's view of a Store, shared by the Source and the Blocks
// it hands out, with their hit and miss counts.
type Cache struct {
	store  Store
	opts   Options
	prefix string

	hits, misses atomic.Int64
	failed       atomic.Bool
	once         sync.Once
}

// New returns the cache of one chain in store.
func New(store Store, opts Options) *Cache {
	return &Cache{store: store, opts: opts, prefix: opts.ChainKey + "/v" + strconv.Itoa(FormatVersion) + "/"}
}

// Counts returns the hits and misses so far.
func (c *Cache) Counts() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// get reads keys; a failed or disabled store answers nothing.
func (c *Cache) get(ctx context.Context, keys []string) map[string][]byte {
	if c.failed.Load() || len(keys) == 0 {
		return nil
	}
	got, err := c.store.GetMany(ctx, keys)
	if err != nil {
		c.fail(ctx, err)
		return nil
	}
	return got
}

// set writes entries; failures disable the store.
func (c *Cache) set(ctx context.Context, entries map[string][]byte) {
	if c.failed.Load() || len(entries) == 0 {
		return
	}
	if err := c.store.SetMany(ctx, entries); err != nil {
		c.fail(ctx, err)
	}
}

func (c *Cache) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // interrupted: not the store's fault
	}
	c.failed.Store(true)
	c.once.Do(func() {
		if c.opts.OnError != nil {
			c.opts.OnError(err)
		}
	})
}

// Source is a tracer.Source that answers from the cache what it can and
// asks the wrapped source for the rest, caching its final answers.
type Source struct {
	c    *Cache
	next tracer.Source
}

var (
	_ tracer.Source    = (*Source)(nil)
	_ tracer.Metered   = (*Source)(nil)
	_ tracer.Described = (*Source)(nil)
)

// Wrap returns a Source over next.
func (c *Cache) Wrap(next tracer.Source) *Source { return &Source{c: c, next: next} }

// Usage is the wrapped source's usage with the cache's hits and misses.
func (s *Source) Usage() tracer.Usage {
	var u tracer.Usage
	if m, ok := s.next.(tracer.Metered); ok {
		u = m.Usage()
	}
	u.CacheHits, u.CacheMisses = s.c.Counts()
	return u
}

// Methods names the wrapped source's methods, when it says.
func (s *Source) Methods() []string {
	if d, ok := s.next.(tracer.Described); ok {
		return d.Methods()
	}
	return nil
}

func (s *Source) transfersKey(dir tracer.Direction, a string) string {
	d := "o/"
	if dir == tracer.Incoming {
		d = "i/"
	}
	return s.c.prefix + "t/" + d + a
}

// Transfers answers each address from its cached entry when the entry
// covers the final part of the window, and asks the wrapped source for the
// blocks not covered (grouped by range, one call per range), then extends
// the entries of the addresses that missed.
func (s *Source) Transfers(ctx context.Context, q tracer.TransferQuery) ([]tracer.Transfer, error) {
	w := q.Window
	if w.To < w.From {
		return s.next.Transfers(ctx, q)
	}
	// wc is the final part of the window, the part that may be cached.
	wc, cacheable := w, w.From <= s.c.opts.Final
	wc.To = min(wc.To, s.c.opts.Final)

	addrs := make([]string, 0, len(q.Addresses)) // lower case, sorted, unique
	orig := make(map[string]tracer.Address, len(q.Addresses))
	for _, a := range q.Addresses {
		l := strings.ToLower(string(a))
		if _, ok := orig[l]; !ok {
			orig[l] = a
			addrs = append(addrs, l)
		}
	}
	slices.Sort(addrs)
	keys := make([]string, len(addrs))
	for i, a := range addrs {
		keys[i] = s.transfersKey(q.Direction, a)
	}
	var got map[string][]byte
	if cacheable {
		got = s.c.get(ctx, keys)
	}

	cached := make(map[string]*transferEntry, len(got)) // entries to answer from and extend
	need := map[tracer.BlockRange][]string{}
	var missed []string
	for i, a := range addrs {
		var e *transferEntry
		if v, ok := got[keys[i]]; ok {
			if d, err := decodeTransfers(s.c.opts.Chain, v); err == nil {
				e = &d
			}
		}
		hit := cacheable && e != nil && e.covered.From <= wc.From && e.covered.To >= wc.To
		if hit {
			s.c.hits.Add(1)
		} else {
			s.c.misses.Add(1)
			if cacheable {
				missed = append(missed, a)
			}
			if e != nil && (!cacheable || !touches(e.covered, wc)) {
				e = nil // disjoint: replaced by the new range
			}
		}
		pieces := []tracer.BlockRange{w}
		if e != nil {
			cached[a] = e
			pieces = subtract(w, e.covered)
		}
		for _, p := range pieces {
			need[p] = append(need[p], a)
		}
	}

	ranges := slices.SortedFunc(func(yield func(tracer.BlockRange) bool) {
		for r := range need {
			if !yield(r) {
				return
			}
		}
	}, func(a, b tracer.BlockRange) int {
		if a.From != b.From {
			return cmp.Compare(a.From, b.From)
		}
		return cmp.Compare(a.To, b.To)
	})
	answers := make([][]tracer.Transfer, len(ranges))
	g, gctx := errgroup.WithContext(ctx)
	for i, r := range ranges {
		as := make([]tracer.Address, len(need[r]))
		for k, a := range need[r] {
			as[k] = orig[a]
		}
		g.Go(func() (err error) {
			answers[i], err = s.next.Transfers(gctx, tracer.TransferQuery{Direction: q.Direction, Addresses: as, Window: r})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	// fetched holds, per address, what the node answered for it.
	fetched := map[string][]tracer.Transfer{}
	for i, r := range ranges {
		set := map[string]bool{}
		for _, a := range need[r] {
			set[a] = true
		}
		for _, t := range answers[i] {
			side := strings.ToLower(string(sideOf(q.Direction, t)))
			if set[side] {
				fetched[side] = append(fetched[side], t)
			}
		}
	}

	n := 0
	for _, a := range addrs {
		if e := cached[a]; e != nil {
			n += len(e.transfers)
		}
		n += len(fetched[a])
	}
	out := make([]tracer.Transfer, 0, n)
	for _, a := range addrs {
		if e := cached[a]; e != nil {
			for _, t := range e.transfers {
				if t.BlockNumber >= w.From && t.BlockNumber <= w.To {
					out = append(out, t)
				}
			}
		}
		out = append(out, fetched[a]...)
	}

	entries := map[string][]byte{}
	for _, a := range missed {
		e := transferEntry{covered: wc}
		if old := cached[a]; old != nil {
			e.covered = tracer.BlockRange{From: min(old.covered.From, wc.From), To: max(old.covered.To, wc.To)}
			e.transfers = append(e.transfers, old.transfers...)
		}
		for _, t := range fetched[a] {
			if t.BlockNumber >= wc.From && t.BlockNumber <= wc.To {
				e.transfers = append(e.transfers, t)
			}
		}
		entries[s.transfersKey(q.Direction, a)] = encodeTransfers(e)
	}
	s.c.set(ctx, entries)
	return out, nil
}

func sideOf(dir tracer.Direction, t tracer.Transfer) tracer.Address {
	if dir == tracer.Incoming {
		return t.To
	}
	return t.From
}

// touches reports whether a and b overlap or are adjacent (their union is a range).
func touches(a, b tracer.BlockRange) bool {
	return a.From <= b.To+1 && b.From <= a.To+1
}

// subtract returns the parts of w outside c (c touches w).
func subtract(w, c tracer.BlockRange) []tracer.BlockRange {
	var out []tracer.BlockRange
	if w.From < c.From {
		out = append(out, tracer.BlockRange{From: w.From, To: min(w.To, c.From-1)})
	}
	if w.To > c.To {
		out = append(out, tracer.BlockRange{From: max(w.From, c.To+1), To: w.To})
	}
	return out
}

// Describe answers account kinds and token metadata from the cache and asks
// the wrapped source for the rest, caching its answers. Code and metadata
// are asked at the node's latest block: they are cached as first seen.
func (s *Source) Describe(ctx context.Context, accounts, tokens []tracer.Address) (tracer.Descriptions, error) {
	d := tracer.Descriptions{Accounts: map[tracer.Address]tracer.Account{}, Tokens: map[tracer.Address]tracer.Token{}}
	akey := func(a tracer.Address) string { return s.c.prefix + "a/" + strings.ToLower(string(a)) }
	tkey := func(a tracer.Address) string { return s.c.prefix + "k/" + strings.ToLower(string(a)) }
	var keys []string
	for _, a := range accounts {
		keys = append(keys, akey(a))
	}
	for _, a := range tokens {
		keys = append(keys, tkey(a))
	}
	got := s.c.get(ctx, keys)
	var missA, missT []tracer.Address
	for _, a := range accounts {
		if acct, err := decodeAccount(got[akey(a)]); err == nil {
			d.Accounts[a] = acct
			s.c.hits.Add(1)
			continue
		}
		s.c.misses.Add(1)
		missA = append(missA, a)
	}
	for _, a := range tokens {
		if tok, err := decodeToken(got[tkey(a)]); err == nil {
			if tok != nil {
				d.Tokens[a] = *tok
			}
			s.c.hits.Add(1)
			continue
		}
		s.c.misses.Add(1)
		missT = append(missT, a)
	}
	if len(missA) == 0 && len(missT) == 0 {
		return d, nil
	}
	fresh, err := s.next.Describe(ctx, missA, missT)
	if err != nil {
		return tracer.Descriptions{}, err
	}
	entries := map[string][]byte{}
	for _, a := range missA {
		acct, ok := lookup(fresh.Accounts, a)
		if !ok {
			return tracer.Descriptions{}, fmt.Errorf("cache: the source did not describe account %s", a)
		}
		d.Accounts[a] = acct
		entries[akey(a)] = encodeAccount(acct)
	}
	for _, a := range missT {
		var tp *tracer.Token
		if tok, ok := lookup(fresh.Tokens, a); ok {
			d.Tokens[a], tp = tok, &tok
		}
		entries[tkey(a)] = encodeToken(tp)
	}
	s.c.set(ctx, entries)
	return d, nil
}

// lookup finds a in m, also under another letter case.
func lookup[V any](m map[tracer.Address]V, a tracer.Address) (V, bool) {
	if v, ok := m[a]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(string(k), string(a)) {
			return v, true
		}
	}
	var zero V
	return zero, false
}
