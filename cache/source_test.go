package cache_test

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/cache"
	"github.com/flowtrace/flowtrace/cache/memory"
	"github.com/flowtrace/flowtrace/tracer"
)

// chainSource is a fake chain for the decorator's range logic: one transfer
// from each address to the next in every block, and a log of the queries.
type chainSource struct {
	addrs   []tracer.Address
	mu      sync.Mutex // the cache asks for uncovered ranges concurrently
	queries []string
	fail    bool
}

func (c *chainSource) Transfers(_ context.Context, q tracer.TransferQuery) ([]tracer.Transfer, error) {
	c.mu.Lock()
	c.queries = append(c.queries, fmt.Sprintf("%d %v [%d,%d]", q.Direction, q.Addresses, q.Window.From, q.Window.To))
	c.mu.Unlock()
	if c.fail {
		return nil, fmt.Errorf("node down")
	}
	var out []tracer.Transfer
	for b := q.Window.From; b <= q.Window.To; b++ {
		for i, a := range c.addrs {
			to := c.addrs[(i+1)%len(c.addrs)]
			t := tracer.Transfer{Chain: "dev", TxHash: fmt.Sprintf("0x%064x", b*100+uint64(i)), BlockNumber: b, TxIndex: uint(i),
				LogIndex: -1, TraceAddress: []int{}, Kind: tracer.KindNative, From: a, To: to,
				Asset: tracer.NativeAsset, Amount: big.NewInt(int64(b)), TxFrom: a}
			side := t.From
			if q.Direction == tracer.Incoming {
				side = t.To
			}
			if slices.Contains(q.Addresses, side) {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

func (c *chainSource) Describe(_ context.Context, accts, toks []tracer.Address) (tracer.Descriptions, error) {
	c.queries = append(c.queries, fmt.Sprintf("describe %v %v", accts, toks))
	d := tracer.Descriptions{Accounts: map[tracer.Address]tracer.Account{}, Tokens: map[tracer.Address]tracer.Token{}}
	for _, a := range accts {
		d.Accounts[a] = tracer.Account{IsContract: strings.HasSuffix(string(a), "C")}
	}
	for _, a := range toks {
		if strings.HasSuffix(string(a), "C") {
			d.Tokens[a] = tracer.Token{Symbol: "TOK", Decimals: 6}
		}
	}
	return d, nil
}

var (
	addrA = tracer.Address("0xAAaAAAaaaaAAaaAaAAaaAaAAAaaaAaaAAAAaaaAA")
	addrB = tracer.Address("0xbBbBBBbbbbbbbBbBBbbbBBbBBbbBbbBBBbBbBbBC")
)

func sorted(ts []tracer.Transfer) []string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%d %s %s>%s %s %v", t.BlockNumber, t.TxHash, t.From, t.To, t.Amount, t.TraceAddress))
	}
	slices.Sort(out)
	return out
}

// TestTransfersRanges: a query inside a covered range is a hit; one that
// reaches past it asks only for the blocks not covered; blocks above Final
// always come from the node and are never stored.
func TestTransfersRanges(t *testing.T) {
	ctx := context.Background()
	node := &chainSource{addrs: []tracer.Address{addrA, addrB}}
	c := cache.New(memory.New(), cache.Options{Chain: "dev", ChainKey: cache.ChainKey("1337", "0xabc", ""), Final: 100})
	src := c.Wrap(node)
	q := func(from, to uint64, addrs ...tracer.Address) []string {
		t.Helper()
		got, err := src.Transfers(ctx, tracer.TransferQuery{Direction: tracer.Outgoing, Addresses: addrs, Window: tracer.BlockRange{From: from, To: to}})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := (&chainSource{addrs: node.addrs}).Transfers(ctx, tracer.TransferQuery{Direction: tracer.Outgoing, Addresses: addrs, Window: tracer.BlockRange{From: from, To: to}})
		if d := cmp.Diff(sorted(want), sorted(got)); d != "" {
			t.Fatalf("[%d,%d] %v: (-node +cache)\n%s", from, to, addrs, d)
		}
		return node.queries
	}
	steps := []struct {
		from, to uint64
		addrs    []tracer.Address
		want     []string // queries to the node
	}{
		{10, 20, []tracer.Address{addrA}, []string{"0 [" + string(addrA) + "] [10,20]"}},
		{12, 18, []tracer.Address{addrA}, nil},
		{5, 25, []tracer.Address{addrA, addrB}, []string{"0 [" + string(addrA) + "] [5,9]", "0 [" + string(addrB) + "] [5,25]", "0 [" + string(addrA) + "] [21,25]"}},
		{5, 25, []tracer.Address{addrA, addrB}, nil},
		{90, 110, []tracer.Address{addrB}, []string{"0 [" + string(addrB) + "] [90,110]"}},
		{95, 110, []tracer.Address{addrB}, []string{"0 [" + string(addrB) + "] [101,110]"}},
		{101, 105, []tracer.Address{addrB}, []string{"0 [" + string(addrB) + "] [101,105]"}},
	}
	for _, s := range steps {
		node.queries = nil
		got := q(s.from, s.to, s.addrs...)
		slices.Sort(got)
		slices.Sort(s.want)
		if d := cmp.Diff(s.want, got); d != "" {
			t.Errorf("[%d,%d] %v: node queries (-want +got)\n%s", s.from, s.to, s.addrs, d)
		}
	}
	hits, misses := c.Counts()
	if hits != 4 || misses != 5 {
		t.Errorf("hits %d, misses %d; want 4, 5", hits, misses)
	}
}

// TestNodeErrorsNotCached: a failed query stores nothing.
func TestNodeErrorsNotCached(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	node := &chainSource{addrs: []tracer.Address{addrA, addrB}, fail: true}
	src := cache.New(st, cache.Options{ChainKey: "1/x", Final: 100}).Wrap(node)
	if _, err := src.Transfers(ctx, tracer.TransferQuery{Addresses: []tracer.Address{addrA}, Window: tracer.BlockRange{From: 1, To: 5}}); err == nil {
		t.Fatal("the node's error was lost")
	}
	if s, _ := st.Stats(ctx, ""); s.Keys != 0 {
		t.Fatalf("a failed query left %d entries", s.Keys)
	}
}

// TestDescribeCached: accounts and tokens, with or without metadata, are
// asked once.
func TestDescribeCached(t *testing.T) {
	ctx := context.Background()
	node := &chainSource{}
	src := cache.New(memory.New(), cache.Options{ChainKey: "1/x", Final: 100}).Wrap(node)
	var first tracer.Descriptions
	for i := range 2 {
		d, err := src.Describe(ctx, []tracer.Address{addrA, addrB}, []tracer.Address{addrA, addrB})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = d
		} else if diff := cmp.Diff(first, d); diff != "" {
			t.Errorf("cached answer differs:\n%s", diff)
		}
	}
	if len(node.queries) != 1 {
		t.Errorf("node asked %d times: %q", len(node.queries), node.queries)
	}
	if !first.Accounts[addrB].IsContract || first.Accounts[addrA].IsContract || first.Tokens[addrB].Symbol != "TOK" {
		t.Errorf("descriptions: %+v", first)
	}
	if _, ok := first.Tokens[addrA]; ok {
		t.Errorf("token without metadata described: %+v", first.Tokens)
	}
}

// TestChainsApart: two chains with one chain id but different genesis (or
// dev anchors) never share entries.
func TestChainsApart(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	q := tracer.TransferQuery{Addresses: []tracer.Address{addrA}, Window: tracer.BlockRange{From: 1, To: 3}}
	for _, key := range []string{cache.ChainKey("1337", "0xaa", ""), cache.ChainKey("1337", "0xbb", ""), cache.ChainKey("1337", "0xaa", "0xcc")} {
		node := &chainSource{addrs: []tracer.Address{addrA, addrB}}
		if _, err := cache.New(st, cache.Options{ChainKey: key, Final: 10}).Wrap(node).Transfers(ctx, q); err != nil {
			t.Fatal(err)
		}
		if len(node.queries) != 1 {
			t.Errorf("chain %s answered from another chain's entries", key)
		}
	}
}
