package graph

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/tracer"
)

// twoChainTrace is a small trace over two chains: the seed on ethereum
// deposits into a swap hub, the hub pays a Bitcoin address, which keeps it.
func twoChainTrace() *tracer.Trace {
	seed, hub := tracer.Address("0x00000000000000000000000000000000000005eD"), tracer.Address("thorchain:ABC")
	dest := tracer.Qualify("bitcoin", "bcrt1qdest")
	btc := tracer.QualifyAsset("bitcoin", tracer.NativeAsset)
	eth, sat := big.NewInt(6e18), big.NewInt(5e7)
	return &tracer.Trace{
		Chain: "ethereum", Seeds: []tracer.Address{seed}, Window: tracer.BlockRange{From: 1, To: 4},
		Tokens: map[tracer.Address]tracer.Token{tracer.Address(btc): {Symbol: "BTC", Decimals: 8}},
		Nodes: []tracer.Node{
			{Address: seed, Category: tracer.CategorySeed, Received: map[tracer.Asset]*big.Int{tracer.NativeAsset: eth}, Held: map[tracer.Asset]*big.Int{}},
			{Address: hub, Category: tracer.CategoryBridgeSwap, Depth: 1, Received: map[tracer.Asset]*big.Int{tracer.NativeAsset: eth}, Held: map[tracer.Asset]*big.Int{}},
			{Address: dest, Category: tracer.CategoryEOA, Depth: 2, Received: map[tracer.Asset]*big.Int{btc: sat}, Held: map[tracer.Asset]*big.Int{btc: sat}},
		},
		Transfers: []tracer.TracedTransfer{
			{Transfer: tracer.Transfer{Chain: "ethereum", TxHash: "0xdep", BlockNumber: 3, LogIndex: -1, Kind: tracer.KindNative,
				From: seed, To: hub, Asset: tracer.NativeAsset, Amount: eth}, Tainted: eth},
			{Transfer: tracer.Transfer{Chain: "bitcoin", TxHash: "out", BlockNumber: 103, LogIndex: -1, Kind: tracer.KindNative,
				From: hub, To: dest, Asset: btc, Amount: sat}, Tainted: sat},
		},
		Summary: tracer.Summary{Assets: []tracer.AssetSummary{
			{Asset: tracer.NativeAsset, Symbol: "ETH", Decimal: 18, Stolen: eth, Buckets: map[string]*big.Int{tracer.BucketBridged: eth}},
			{Asset: btc, Symbol: "BTC", Decimal: 8, Stolen: new(big.Int), BridgedIn: sat, Buckets: map[string]*big.Int{tracer.BucketDormant: sat}},
		}},
	}
}

// The exporters put a node of another chain on that chain with its plain
// address, and an edge and an asset of another chain with their chain.
func TestNodesOfAnotherChain(t *testing.T) {
	f, err := Build(twoChainTrace(), Options{Windows: map[string]tracer.BlockRange{"bitcoin": {From: 100, To: 105}}})
	if err != nil {
		t.Fatal(err)
	}
	f.Detect(DetectOptions{})
	var b bytes.Buffer
	if err := WriteJSON(&b, f, Meta{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Nodes []struct {
			Chain, Address string
			Held           map[string]string
		}
		Edges []struct {
			From, To, Chain, Asset, Symbol string
		}
		Patterns []struct {
			Kind      string
			Addresses []string
			Detail    map[string]string
		}
		Summary struct {
			Assets []struct{ Chain, Asset, Symbol string }
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	chainOf := map[string]string{}
	for _, n := range doc.Nodes {
		chainOf[n.Address] = n.Chain
		if n.Address == "bcrt1qdest" && n.Held["native"] != "50000000" {
			t.Errorf("held %v, want native in the node's own chain", n.Held)
		}
	}
	if chainOf["bcrt1qdest"] != "bitcoin" || chainOf["thorchain:ABC"] != "ethereum" {
		t.Errorf("nodes by address: %v; want bcrt1qdest on bitcoin, the hub on ethereum", chainOf)
	}
	for _, e := range doc.Edges {
		if e.To == "bcrt1qdest" && (e.From != "thorchain:ABC" || e.Chain != "bitcoin" || e.Asset != "native" || e.Symbol != "BTC") {
			t.Errorf("payout edge %+v: want from the hub, on bitcoin, native BTC", e)
		}
		if e.To == "thorchain:ABC" && (e.Chain != "ethereum" || e.Asset != "native") {
			t.Errorf("deposit edge %+v: want on ethereum, native", e)
		}
	}
	if a := doc.Summary.Assets; len(a) != 2 || a[0].Chain != "" || a[1].Chain != "bitcoin" || a[1].Asset != "native" || a[1].Symbol != "BTC" {
		t.Errorf("summary assets %+v: want ETH without a chain, then native BTC on bitcoin", a)
	}
	dormant := 0
	for _, p := range doc.Patterns {
		if p.Kind == KindDormant {
			dormant++
			if len(p.Addresses) != 1 || p.Addresses[0] != "bcrt1qdest" {
				t.Errorf("dormant addresses %v, want the node's address bcrt1qdest", p.Addresses)
			}
			if p.Detail["window_end"] != "105" {
				t.Errorf("dormant on bitcoin ends at %s, want bitcoin's block 105", p.Detail["window_end"])
			}
		}
	}
	if dormant != 1 {
		t.Errorf("%d dormant patterns, want the Bitcoin address", dormant)
	}
	b.Reset()
	if err := WriteCSV(&b, f); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if last := rows[len(rows)-1]; len(rows) != 3 || last[5] != "bcrt1qdest" || last[6] != "native" || last[12] != "bitcoin" {
		t.Errorf("csv rows %q: want the payout to bcrt1qdest in native on bitcoin", rows)
	}
	b.Reset()
	if err := WriteDOT(&b, f, DOTOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "bitcoin: bcrt1q") {
		t.Errorf("graph.dot does not name the Bitcoin node's chain:\n%s", b.String())
	}
}

// report.md states each chain's window, the bridged value per chain and
// asset, and each deposit's pairing with both transactions.
func TestReportAcrossChains(t *testing.T) {
	tr := twoChainTrace()
	tr.Transfers[0].Annotations = map[string]string{tracer.AnnPairing: "paired", tracer.AnnOutboundTx: "out", tracer.AnnPairingDetail: "OUT:DEP found"}
	tr.Transfers[1].Annotations = map[string]string{tracer.AnnConverts: tr.Transfers[0].ID(), tracer.AnnPairing: "paired"}
	f, err := Build(tr, Options{Windows: map[string]tracer.BlockRange{"bitcoin": {From: 100, To: 105}}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	meta := Meta{Bridged: []Bridged{{Bridge: "thorchain", From: "ethereum", To: "bitcoin", Asset: tracer.NativeAsset, Status: "paired", Deposits: 1,
		Stolen: big.NewInt(6e18), PaidAsset: tracer.QualifyAsset("bitcoin", tracer.NativeAsset), Arrived: big.NewInt(5e7)}}}
	if err := WriteReport(&b, f, meta); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| bitcoin | blocks 100 to 105 | 1 |", "| ethereum | blocks 1 to 4 | 2 |",
		"| thorchain | ethereum | native | 1 | paired: arrived | 6 ETH | bitcoin | 0.5 BTC |",
		"| 0xdep | ethereum | 6 ETH | paired: arrived | out | OUT:DEP found |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report.md lacks %q:\n%s", want, b.String())
		}
	}
}

// A bridge pattern carries the pairer's confidence and doubts; a pending
// deposit whose recipient the walk reached on the destination chain (by
// another deposit) hands off to that walked node, not to a second node of
// the same account, and leaves its amounts as the walk found them.
func TestBridgeConfidenceAndHandOffToWalkedNode(t *testing.T) {
	seed, contract := tracer.Address("0x00000000000000000000000000000000000005eD"), tracer.Address("0x00000000000000000000000000000000000b41D6")
	hub, dest := tracer.Address("across:ethereum-7"), tracer.Address("0x000000000000000000000000000000000000dE57")
	onArb, arbETH := tracer.Qualify("arbitrum", dest), tracer.QualifyAsset("arbitrum", tracer.NativeAsset)
	b := newTraceBuilder(seed)
	b.node(hub, tracer.CategoryBridgeSwap, 1)
	b.node(contract, tracer.CategoryBridge, 1)
	b.node(onArb, tracer.CategoryEOA, 2)
	paid := b.pay(2, seed, hub, big.NewInt(6e18), map[string]string{tracer.AnnBridge: "across", tracer.AnnPairing: "paired",
		tracer.AnnOutboundTx: "0xfill", tracer.AnnPairingConfidence: "0.85", tracer.AnnPairingDoubts: "the fill contract is not labelled a bridge"})
	b.payIn("0xfill", 3, hub, onArb, arbETH, big.NewInt(5e18), map[string]string{tracer.AnnConverts: "?"})
	fill := &b.t.Transfers[len(b.t.Transfers)-1]
	fill.Chain, fill.Annotations[tracer.AnnConverts] = "arbitrum", b.t.Transfers[0].ID()
	b.pay(4, seed, contract, big.NewInt(1e18), map[string]string{tracer.AnnBridge: "across", tracer.AnnPairing: "pending",
		tracer.AnnDestChain: "arbitrum", tracer.AnnDestAddress: string(dest)})
	f := b.build(t)

	var conf []float64
	for _, p := range f.Patterns {
		if p.Kind != KindBridge {
			continue
		}
		conf = append(conf, p.Confidence)
		if p.Evidence[0].TxHash == paid && (p.Confidence != 0.85 || p.Detail[tracer.AnnPairingDoubts] == "") {
			t.Errorf("paired bridge pattern: confidence %v, detail %v; want the pairer's 0.85 and its doubts", p.Confidence, p.Detail)
		}
	}
	if len(conf) != 2 || !slices.Contains(conf, 0.85) || !slices.Contains(conf, 1.0) {
		t.Errorf("bridge confidences %v, want the paired deposit's 0.85 and the pending one's 1", conf)
	}
	var same []*Node
	for _, n := range f.Nodes() {
		if n.Chain == "arbitrum" && strings.HasSuffix(string(n.Address), string(dest)) {
			same = append(same, n)
		}
	}
	if len(same) != 1 {
		t.Fatalf("%d nodes of arbitrum %s, want the walked one only", len(same), dest)
	}
	if n := same[0]; n.Category != tracer.CategoryEOA || len(n.Received) != 1 || n.Received[arbETH].Cmp(big.NewInt(5e18)) != 0 {
		t.Errorf("walked node %s: category %s, received %v; want the walk's 5 arbitrum ETH only", n.ID, n.Category, n.Received)
	}
	for _, p := range f.Patterns {
		if p.Kind == KindBridge && p.Detail[tracer.AnnPairing] == "pending" && p.Addresses[len(p.Addresses)-1] != onArb {
			t.Errorf("pending bridge pattern ends at %s, want the walked node %s", p.Addresses[len(p.Addresses)-1], onArb)
		}
	}
	handOff := 0
	for _, e := range f.Edges() {
		if e.From.Address == contract {
			handOff++
			if e.To != same[0] || e.Tainted.Cmp(big.NewInt(1e18)) != 0 {
				t.Errorf("hand-off edge to %s, %v tainted; want the walked node, 1 ETH", e.To.ID, e.Tainted)
			}
		}
	}
	if handOff != 1 {
		t.Errorf("%d hand-off edges from the bridge contract, want 1", handOff)
	}
}
