package graph

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"time"

	"github.com/flowtrace/flowtrace/tracer"
)

// Test traces are built in code: graph is pure logic over tracer's types.

const (
	usdt  = tracer.Address("0xdAC17F958D2ee523a2206206994597C13D831ec7")
	ether = "1000000000000000000"
)

func addr(n int) tracer.Address { return tracer.Address(fmt.Sprintf("0x%040x", n)) }

func amt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("bad amount " + s)
	}
	return v
}

func eth(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), amt(ether)) }

func assets(kv ...any) map[tracer.Asset]*big.Int {
	m := map[tracer.Asset]*big.Int{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(tracer.Asset)] = kv[i+1].(*big.Int)
	}
	return m
}

func node(a tracer.Address, c tracer.Category, depth int, block uint64, stop tracer.NodeStop, labels ...tracer.Label) tracer.Node {
	return tracer.Node{Address: a, Category: c, Labels: labels, Depth: depth, FirstSeenBlock: block, Stop: stop,
		IsContract: c == tracer.CategoryContract || c == tracer.CategoryBridge || c == tracer.CategoryMixer,
		Received:   map[tracer.Asset]*big.Int{}, Held: map[tracer.Asset]*big.Int{}}
}

func native(tx string, block uint64, txIndex uint, from, to tracer.Address, v *big.Int, trace ...int) tracer.TracedTransfer {
	kind := tracer.KindNative
	if len(trace) > 0 {
		kind = tracer.KindInternal
	}
	return tracer.TracedTransfer{Transfer: tracer.Transfer{
		Chain: "ethereum", TxHash: tx, BlockNumber: block, TxIndex: txIndex, Seq: len(trace), LogIndex: -1,
		TraceAddress: trace, Kind: kind, From: from, To: to, Asset: tracer.NativeAsset, Amount: v, TxFrom: from,
	}, Tainted: new(big.Int).Set(v)}
}

func token(tx string, block uint64, txIndex uint, logIndex int, tok, from, to tracer.Address, v, tainted *big.Int) tracer.TracedTransfer {
	return tracer.TracedTransfer{Transfer: tracer.Transfer{
		Chain: "ethereum", TxHash: tx, BlockNumber: block, TxIndex: txIndex, Seq: 100 + logIndex, LogIndex: logIndex,
		Kind: tracer.KindERC20, From: from, To: to, Asset: tracer.Asset(tok), Amount: v, TxFrom: from,
	}, Tainted: tainted}
}

func txh(n int) string { return fmt.Sprintf("0x%064x", n) }

// sampleTrace is a small theft: a seed splits ETH and USDT over two wallets,
// which pay an exchange (twice), a bridge (internal call), a mixer and a
// contract; one wallet keeps some, one address is cut by the depth limit.
func sampleTrace() *tracer.Trace {
	seed, a, b, ex, br, mx, c, d := addr(0x5eed), addr(0xa), addr(0xb), addr(0xe1), addr(0xb1), addr(0x31), addr(0xc0), addr(0xd)
	nodes := []tracer.Node{
		node(seed, tracer.CategorySeed, 0, 100, ""),
		node(a, tracer.CategoryEOA, 1, 101, ""),
		node(b, tracer.CategoryEOA, 1, 101, ""),
		node(ex, tracer.CategoryExchange, 2, 110, tracer.NodeTerminal,
			tracer.Label{Name: "Binance 14", Category: tracer.CategoryExchange, Source: "builtin"},
			tracer.Label{Name: "Hot wallet", Category: tracer.CategoryOther, Source: "user.csv"}),
		node(br, tracer.CategoryBridge, 2, 111, tracer.NodeTerminal,
			tracer.Label{Name: "THORChain Router", Category: tracer.CategoryBridge, Source: "builtin"}),
		node(mx, tracer.CategoryMixer, 2, 112, tracer.NodeTerminal,
			tracer.Label{Name: "Tornado Cash 1 ETH", Category: tracer.CategoryMixer, Source: "builtin"}),
		node(c, tracer.CategoryContract, 2, 113, tracer.NodeContract),
		node(d, tracer.CategoryEOA, 2, 114, tracer.NodeDepth),
	}
	nodes[0].Received = assets(tracer.NativeAsset, eth(15), tracer.Asset(usdt), amt("1000000000"))
	nodes[1].Received = assets(tracer.NativeAsset, eth(10), tracer.Asset(usdt), amt("1000000000"))
	nodes[2].Received = assets(tracer.NativeAsset, eth(5))
	nodes[2].Held = assets(tracer.NativeAsset, eth(2))
	nodes[3].Received = assets(tracer.NativeAsset, eth(4))
	nodes[4].Received = assets(tracer.NativeAsset, eth(3))
	nodes[5].Received = assets(tracer.NativeAsset, eth(1))
	nodes[6].Received = assets(tracer.Asset(usdt), amt("600000000"))
	nodes[6].Held = assets(tracer.Asset(usdt), amt("600000000"))
	nodes[7].Received = assets(tracer.NativeAsset, eth(3), tracer.Asset(usdt), amt("400000000"))
	nodes[7].Held = assets(tracer.NativeAsset, eth(3), tracer.Asset(usdt), amt("400000000"))

	transfers := []tracer.TracedTransfer{
		native(txh(1), 101, 0, seed, a, eth(10)),
		native(txh(2), 101, 1, seed, b, eth(5)),
		token(txh(3), 101, 2, 7, usdt, seed, a, amt("1000000000"), amt("1000000000")),
		native(txh(4), 110, 0, a, ex, eth(3)),
		native(txh(5), 110, 3, a, ex, eth(1)),
		native(txh(6), 111, 0, a, br, eth(3), 0, 1),
		native(txh(7), 112, 0, b, mx, eth(1)),
		token(txh(8), 113, 0, 0, usdt, a, c, amt("600000000"), amt("600000000")),
		token(txh(9), 114, 0, 1, usdt, a, d, amt("500000000"), amt("400000000")),
		native(txh(9), 114, 0, b, d, eth(2)),
		native(txh(10), 114, 1, a, d, eth(1)),
	}
	return &tracer.Trace{
		Chain: "ethereum", Seeds: []tracer.Address{seed}, Window: tracer.BlockRange{From: 100, To: 200},
		Nodes: nodes, Transfers: transfers,
		Tokens: map[tracer.Address]tracer.Token{usdt: {Symbol: "USDT", Decimals: 6}},
		Skipped: []tracer.Skip{
			{Address: addr(0xbad), TxHash: txh(20), Reason: "zero value"},
			{Address: addr(0xf00), TxHash: txh(21), Reason: "unknown token"},
			{Address: addr(0xbad), TxHash: txh(22), Reason: "spoofed sender"},
		},
		Summary: tracer.Summary{Assets: []tracer.AssetSummary{
			{Asset: tracer.Asset(usdt), Symbol: "USDT", Decimal: 6, Stolen: amt("1000000000"), Buckets: map[string]*big.Int{
				tracer.BucketNotFollowed: amt("1000000000"),
			}},
			{Asset: tracer.NativeAsset, Symbol: "ETH", Decimal: 18, Stolen: eth(15), Buckets: map[string]*big.Int{
				tracer.BucketExchange: eth(4), tracer.BucketBridge: eth(3), tracer.BucketMixer: eth(1),
				tracer.BucketDormant: eth(2), tracer.BucketNotFollowed: eth(5),
			}},
		}},
		Taint: "poison", StolenBasis: "everything of value the seeds received in the window", Read: 14,
		Unexplained: []tracer.Unexplained{{Address: a, Asset: tracer.NativeAsset, Amount: eth(1), TxHash: txh(10), Block: 114}},
		Alternatives: []tracer.ModelSummary{{Taint: "haircut", Summary: tracer.Summary{Assets: []tracer.AssetSummary{
			{Asset: tracer.NativeAsset, Symbol: "ETH", Decimal: 18, Stolen: eth(15), Buckets: map[string]*big.Int{
				tracer.BucketExchange: eth(3), tracer.BucketDormant: eth(7), tracer.BucketDepth: eth(5),
			}},
		}}}},
		Levels: []tracer.LevelStats{
			{Level: 1, Frontier: 2, Window: tracer.BlockRange{From: 101, To: 200}, Transfers: 9, NewAddresses: 6,
				Usage: tracer.Usage{Requests: 30, RoundTrips: 3, CacheMisses: 30, BlocksScanned: 99}, Elapsed: 1500 * time.Millisecond},
			{Level: 0, Frontier: 1, Window: tracer.BlockRange{From: 100, To: 200}, Transfers: 3, NewAddresses: 2,
				Usage: tracer.Usage{Requests: 12, RoundTrips: 2, CacheHits: 3, CacheMisses: 9, BlocksScanned: 101}, Elapsed: 800 * time.Millisecond},
		},
		Stats: tracer.Stats{
			Usage:   tracer.Usage{Requests: 42, RoundTrips: 5, CacheHits: 3, CacheMisses: 39, BlocksScanned: 200},
			Elapsed: 2345 * time.Millisecond, StopReason: tracer.StopDepth, StopDetail: "depth 2 reached",
			Methods: []string{"eth_getLogs", "debug_traceBlockByNumber", "eth_getBlockByNumber"},
		},
	}
}

// fanoutTrace is a seed paying n plain fresh wallets, one labelled wallet and
// one wallet that moves on: the plain ones collapse unless DOTOptions.Full.
func fanoutTrace(n int) *tracer.Trace {
	seed, hub, ex := addr(0x5eed), addr(0x1), addr(0xe1)
	t := &tracer.Trace{Chain: "ethereum", Seeds: []tracer.Address{seed}, Window: tracer.BlockRange{From: 1, To: 50},
		Stats: tracer.Stats{StopReason: tracer.StopComplete}}
	t.Nodes = append(t.Nodes, node(seed, tracer.CategorySeed, 0, 1, ""), node(hub, tracer.CategoryEOA, 1, 2, ""),
		node(ex, tracer.CategoryExchange, 2, 3, tracer.NodeTerminal,
			tracer.Label{Name: "Kraken", Category: tracer.CategoryExchange, Source: "builtin"}))
	t.Transfers = append(t.Transfers, native(txh(1), 2, 0, seed, hub, eth(int64(10*n+5))), native(txh(2), 3, 0, hub, ex, eth(5)))
	for i := range n {
		leaf := addr(0x1000 + i)
		t.Nodes = append(t.Nodes, node(leaf, tracer.CategoryEOA, 1, 4, ""))
		t.Nodes[len(t.Nodes)-1].Held = assets(tracer.NativeAsset, eth(10))
		t.Transfers = append(t.Transfers, native(txh(100+i), 4, uint(i), seed, leaf, eth(10)))
	}
	return t
}

// hostileTrace carries every text a label or token can hold to break DOT,
// CSV and Markdown.
func hostileTrace() *tracer.Trace {
	seed, x, y := addr(0x5eed), addr(0xe1), addr(0xe2)
	evil := tracer.Address("0x00000000000000000000000000000000000e0e0e")
	t := &tracer.Trace{Chain: "ethereum", Seeds: []tracer.Address{seed}, Window: tracer.BlockRange{From: 1, To: 9},
		Tokens: map[tracer.Address]tracer.Token{
			evil: {Symbol: "\"USD\"\n\\<html><b>x</b>\\", Decimals: 2},
		},
		Stats: tracer.Stats{StopReason: tracer.StopHopFailed, StopDetail: "evm: eth_getLogs [1,9]: boom | \"bad\"\nnext line"},
	}
	t.Nodes = []tracer.Node{
		node(seed, tracer.CategorySeed, 0, 1, "",
			tracer.Label{Name: "=HYPERLINK(\"http://x\")\\", Category: tracer.CategorySeed, Source: "user"}),
		node(x, tracer.CategoryExchange, 1, 2, tracer.NodeTerminal,
			tracer.Label{Name: "a\"];\nn1 -> n2 [label=\"pwn", Category: tracer.CategoryExchange, Source: "user|csv"},
			tracer.Label{Name: "ends with backslash \\", Category: tracer.CategoryOther, Source: "x"}),
		node(y, tracer.Category("we<ird>\""), 1, 3, tracer.NodeHopFailed,
			tracer.Label{Name: "ctl\x00\x07\u2028\xff tab\there \\", Category: tracer.Category("we<ird>\""), Source: "[x](javascript:1) `code` *b* _i_ # h"}),
	}
	t.Nodes[1].Received = assets(tracer.Asset(evil), amt("12345"))
	t.Nodes[2].Held = assets(tracer.Asset(evil), amt("5"))
	t.Transfers = []tracer.TracedTransfer{
		token(txh(1), 2, 0, 0, evil, seed, x, amt("12345"), amt("12345")),
		token(txh(2), 3, 0, 0, evil, seed, y, amt("5"), amt("5")),
	}
	t.Summary.Assets = []tracer.AssetSummary{{Asset: tracer.Asset(evil), Symbol: t.Tokens[evil].Symbol, Decimal: 2,
		Stolen: amt("12350"), Buckets: map[string]*big.Int{tracer.BucketExchange: amt("12345"), "odd|bucket\n": amt("5")}}}
	t.Skipped = []tracer.Skip{{Address: y, TxHash: "-1+1", Reason: "@SUM(A1)|\nx"}}
	return t
}

// shuffled returns a copy of t with every list the walk may fill in any
// order shuffled.
func shuffled(t *tracer.Trace, seed uint64) *tracer.Trace {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := *t
	c.Seeds = shuffle(r, c.Seeds)
	c.Nodes = shuffle(r, c.Nodes)
	for i := range c.Nodes {
		c.Nodes[i].Labels = shuffle(r, c.Nodes[i].Labels)
	}
	c.Transfers = shuffle(r, c.Transfers)
	c.Skipped = shuffle(r, c.Skipped)
	c.Summary.Assets = shuffle(r, c.Summary.Assets)
	c.Levels = shuffle(r, c.Levels)
	c.Stats.Methods = shuffle(r, c.Stats.Methods)
	return &c
}

func shuffle[E any](r *rand.Rand, s []E) []E {
	c := append([]E(nil), s...)
	r.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
	return c
}
