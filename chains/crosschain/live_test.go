package crosschain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/bitcoin"
	"github.com/flowtrace/flowtrace/chains/crosschain"
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/chains/rpcreplay"
	"github.com/flowtrace/flowtrace/fixtures/btcnode"
	"github.com/flowtrace/flowtrace/fixtures/devnode"
	"github.com/flowtrace/flowtrace/fixtures/scenario"
	"github.com/flowtrace/flowtrace/fixtures/twochain"
	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

func ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }

var half = big.NewInt(5e17)

type routerLabels map[tracer.Address]tracer.Label

func (m routerLabels) Lookup(chain string, a tracer.Address) (tracer.Label, bool) {
	if chain != "ethereum" {
		return tracer.Label{}, false
	}
	l, ok := m[a]
	return l, ok
}

var record = flag.Bool("record", false, "record the live two-chain trace into "+fixtureDir)

// fixtureDir holds the recorded two-chain case: one replay file per chain
// and case.json, what the story played.
const fixtureDir = "../../fixtures/two-chain"

// TestTraceContinuesFromEthereumToBitcoin plays a THORChain ETH -> BTC swap
// on a real go-ethereum dev node and a real btcd, and traces it in one walk
// (with -record, the nodes' traffic is saved as fixtures/two-chain).
func TestTraceContinuesFromEthereumToBitcoin(t *testing.T) {
	btc := btcnode.ForTest(t)
	eth, err := devnode.Start(devnode.Options{Alloc: scenario.DevAlloc()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eth.Close() })
	g, err := twochain.Play(context.Background(), scenario.NewDevChain(eth), "ethereum", btc)
	if err != nil {
		t.Fatal(err)
	}
	var ethRT, btcRT http.RoundTripper = http.DefaultTransport, http.DefaultTransport
	var ethRec, btcRec *rpcreplay.Recorder
	if *record {
		ethRec, btcRec = rpcreplay.NewRecorder(http.DefaultTransport), rpcreplay.NewRecorder(http.DefaultTransport)
		ethRT, btcRT = ethRec, btcRec
	}
	src, btcSrc := sources(t, eth.URL(), btc.URL, ethRT, btcRT, bitcoin.SpendsByBlockScan)
	check(t, g, src, btcSrc)
	// The same through btcd's address index: the walk asks it per address,
	// the pairing still scans the blocks after the deposit.
	t.Run("addrindex", func(t *testing.T) {
		src, btcSrc := sources(t, eth.URL(), btc.URL, http.DefaultTransport, http.DefaultTransport, bitcoin.SpendsByAddrIndex)
		check(t, g, src, btcSrc)
		if m, _ := btcSrc.Method(); m != bitcoin.SpendsByAddrIndex {
			t.Errorf("spends found by %s, want the address index", m)
		}
	})
	if !*record || t.Failed() {
		return
	}
	if err := os.MkdirAll(fixtureDir, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for name, save := range map[string]func(string) error{
		"ethereum.replay": ethRec.Save, "bitcoin.replay": btcRec.Save,
		"case.json": func(p string) error { return os.WriteFile(p, append(c, '\n'), 0o644) },
	} {
		if err := save(filepath.Join(fixtureDir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTwoChainReplay traces the recorded two-chain case without nodes: the
// same checks, and every recorded call is used.
func TestTwoChainReplay(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtureDir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g *twochain.Case
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	ethRP, err := rpcreplay.LoadReplayer(filepath.Join(fixtureDir, "ethereum.replay"))
	if err != nil {
		t.Fatal(err)
	}
	btcRP, err := rpcreplay.LoadReplayer(filepath.Join(fixtureDir, "bitcoin.replay"))
	if err != nil {
		t.Fatal(err)
	}
	src, btcSrc := sources(t, "http://127.0.0.1:1/", "http://user:pass@127.0.0.1:1/", ethRP, btcRP, bitcoin.SpendsByBlockScan)
	tr := check(t, g, src, btcSrc)
	// The graph shows the swap as one bridge pattern with both transactions
	// as evidence, and every export takes the two-chain trace.
	f, err := graph.Build(tr, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.Detect(graph.DetectOptions{})
	var paired []graph.Pattern
	for _, p := range f.Patterns {
		if p.Kind == graph.KindBridge && p.Detail[tracer.AnnPairing] == crosschain.StatusPaired {
			paired = append(paired, p)
		}
	}
	if len(paired) != 1 || len(paired[0].Evidence) != 2 || paired[0].Evidence[0].TxHash != g.Deposit || paired[0].Evidence[1].TxHash != g.Outbound {
		t.Errorf("paired bridge patterns %+v: want one, with the deposit and the outbound as evidence", paired)
	}
	for name, write := range map[string]func(io.Writer) error{
		"json":   func(w io.Writer) error { return graph.WriteJSON(w, f, graph.Meta{}) },
		"dot":    func(w io.Writer) error { return graph.WriteDOT(w, f, graph.DOTOptions{}) },
		"csv":    func(w io.Writer) error { return graph.WriteCSV(w, f) },
		"report": func(w io.Writer) error { return graph.WriteReport(w, f, graph.Meta{}) },
	} {
		var b bytes.Buffer
		hub := "thorchain:" + strings.ToUpper(strings.TrimPrefix(g.Deposit, "0x"))
		if err := write(&b); err != nil || !strings.Contains(b.String(), hub) || (name != "dot" && !strings.Contains(b.String(), g.Outbound)) {
			t.Errorf("%s: %v, or the hub %s or the outbound %s missing", name, err, hub, g.Outbound)
		}
	}
	for name, rp := range map[string]*rpcreplay.Replayer{"ethereum": ethRP, "bitcoin": btcRP} {
		if unused := rp.Unused(); len(unused) > 0 {
			t.Errorf("%s: %d recorded calls not made, first %s", name, len(unused), unused[0])
		}
	}
}

// check traces g and asserts what the story makes true.
func check(t *testing.T, g *twochain.Case, src *crosschain.Source, btcSrc *bitcoin.Source) *tracer.Trace {
	t.Helper()
	ctx := context.Background()
	tr, err := tracer.Walk(ctx, src, tracer.Options{Chain: "ethereum", Seeds: []tracer.Address{tracer.Address(g.Thief)}, Window: window(g),
		Labels: src.Labels(routerLabels{tracer.Address(g.Router): {Name: "THORChain router", Category: tracer.CategoryBridge, Source: "test"}})})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	defer func() {
		if t.Failed() {
			dump(t, tr)
		}
	}()
	if !tr.Complete() {
		t.Errorf("stopped: %s (%s)", tr.Stats.StopReason, tr.Stats.StopDetail)
	}
	depHash := g.Deposit
	hub := tracer.Address("thorchain:" + strings.ToUpper(strings.TrimPrefix(depHash, "0x")))

	// The deposit goes to the swap's hub, the hub pays dest on Bitcoin: both hashes on both.
	var deposit, payout, unpaired *tracer.TracedTransfer
	for i, x := range tr.Transfers {
		switch {
		case x.TxHash == g.Unpaired:
			unpaired = &tr.Transfers[i]
		case x.TxHash == depHash:
			deposit = &tr.Transfers[i]
		case x.TxHash == g.Outbound && x.From == hub:
			payout = &tr.Transfers[i]
		}
	}
	if deposit == nil || payout == nil {
		t.Fatalf("deposit %v, payout %v: want both in the trace (%d transfers)", deposit, payout, len(tr.Transfers))
	}
	// The other deposit stays at the router, stated as not paired yet.
	if unpaired == nil || unpaired.To != tracer.Address(g.Router) || unpaired.Annotations[tracer.AnnPairing] != crosschain.StatusPending ||
		!strings.Contains(unpaired.Annotations[tracer.AnnPairingDetail], "no OUT:") {
		t.Errorf("unpaired deposit: %+v; want it at the router, pending, saying what was searched", unpaired)
	}
	if deposit.To != hub || deposit.Annotations[tracer.AnnOutboundTx] != g.Outbound || deposit.Annotations[tracer.AnnPairing] != crosschain.StatusPaired ||
		deposit.Annotations[tracer.AnnBridgeContract] != g.Router {
		t.Errorf("deposit: to %s, annotations %v; want the hub, paired with %s, the router kept", deposit.To, deposit.Annotations, g.Outbound)
	}
	if payout.To != tracer.Qualify("bitcoin", tracer.Address(g.StolenBTC[4])) || payout.Annotations[tracer.AnnInboundTx] != depHash ||
		payout.Chain != "bitcoin" || payout.Amount.Int64() != 5e7 || payout.Tainted.Int64() != 5e7 {
		t.Errorf("payout: %s -> %s on %s, %v sat (%v tainted), annotations %v; want 5e7 sat, all stolen, to dest, naming %s",
			payout.From, payout.To, payout.Chain, payout.Amount, payout.Tainted, payout.Annotations, depHash)
	}

	// Every Bitcoin wallet that received stolen value is found, and no noise.
	var wallets []string
	for _, n := range tr.Nodes {
		a, ok := strings.CutPrefix(string(n.Address), "bitcoin:")
		if !ok || strings.Contains(a, ":") || n.Received[tracer.QualifyAsset("bitcoin", tracer.NativeAsset)] == nil {
			continue
		}
		wallets = append(wallets, a)
	}
	slices.Sort(wallets)
	want := slices.Sorted(slices.Values(g.StolenBTC))
	if !slices.Equal(wallets, want) {
		t.Errorf("bitcoin wallets reached: %v, want %v", wallets, want)
	}
	for _, n := range tr.Nodes {
		for _, noise := range append(slices.Clone(g.NoiseBTC), g.NoiseETH...) {
			if strings.HasSuffix(string(n.Address), noise) {
				t.Errorf("noise address %s is in the trace", n.Address)
			}
		}
	}

	// Accounting adds up to 100% per asset, on both chains, and keeps them apart.
	for _, s := range tr.Summary.Assets {
		sum := new(big.Int)
		for _, v := range s.Buckets {
			sum.Add(sum, v)
		}
		if sum.Cmp(s.Accounted()) != 0 {
			t.Errorf("%s: buckets %v add to %s, want %s", s.Asset, s.Buckets, sum, s.Accounted())
		}
		switch s.Asset {
		case tracer.NativeAsset:
			if s.Stolen.Cmp(ether(10)) != 0 || s.Buckets[tracer.BucketBridged].Cmp(ether(6)) != 0 || s.Buckets[tracer.BucketBridge].Cmp(half) != 0 {
				t.Errorf("ETH: stolen %v, buckets %v; want 10 ETH stolen, 6 bridged and arrived, 0.5 bridged not arrived", s.Stolen, s.Buckets)
			}
		case tracer.QualifyAsset("bitcoin", tracer.NativeAsset):
			if s.Stolen.Sign() != 0 || s.BridgedIn.Int64() != 5e7 || s.Symbol != "BTC" {
				t.Errorf("BTC: stolen %v, bridged in %v (%s); want 0 and 5e7 BTC", s.Stolen, s.BridgedIn, s.Symbol)
			}
		default:
			t.Errorf("unexpected asset %s", s.Asset)
		}
	}
	// Per chain: 6 ETH bridged and arrived as 0.5 BTC, 0.5 ETH still in flight.
	bridged := []crosschain.Bridged{
		{Bridge: "thorchain", From: "ethereum", To: "bitcoin", Asset: tracer.NativeAsset, Status: crosschain.StatusPaired, Deposits: 1, Stolen: ether(6),
			PaidAsset: tracer.QualifyAsset("bitcoin", tracer.NativeAsset), Arrived: big.NewInt(5e7)},
		{Bridge: "thorchain", From: "ethereum", To: "bitcoin", Asset: tracer.NativeAsset, Status: crosschain.StatusPending, Deposits: 1, Stolen: half},
	}
	if got := crosschain.Summarize(tr); fmt.Sprint(got) != fmt.Sprint(bridged) {
		t.Errorf("bridged:\n got %v\nwant %v", got, bridged)
	}
	if len(tr.Summary.Assets) != 2 {
		t.Errorf("assets %d, want ETH and BTC", len(tr.Summary.Assets))
	}
	// The pairing and the walk share the Bitcoin blocks: each read once.
	w, err := src.ChainWindow(ctx, "bitcoin", window(g))
	if err != nil {
		t.Fatal(err)
	}
	if reads := btcSrc.Scanner().Reads(); reads == 0 || uint64(reads) > w.Len() {
		t.Errorf("%d Bitcoin blocks read for a window of %d", reads, w.Len())
	}
	return tr
}

// window is the case's window on the EVM chain.
func window(g *twochain.Case) tracer.BlockRange { return tracer.BlockRange{From: g.From, To: g.To} }

// dump logs the trace, to see what went wrong.
func dump(t *testing.T, tr *tracer.Trace) {
	for _, n := range tr.Nodes {
		t.Logf("node %s %s depth %d stop %q received %v held %v", n.Address, n.Category, n.Depth, n.Stop, n.Received, n.Held)
	}
	for _, x := range tr.Transfers {
		t.Logf("transfer %s %s -> %s %v (%v stolen) %s block %d %v", x.Chain, x.From, x.To, x.Amount, x.Tainted, x.TxHash, x.BlockNumber, x.Annotations)
	}
	for _, s := range tr.Summary.Assets {
		t.Logf("asset %s stolen %v bridged in %v %v", s.Asset, s.Stolen, s.BridgedIn, s.Buckets)
	}
	for _, s := range tr.Skipped {
		t.Logf("skipped %s %s: %s", s.Address, s.TxHash, s.Reason)
	}
}

// sources dials both nodes over HTTP and puts them together.
func sources(t *testing.T, ethURL, btcURL string, ethRT, btcRT http.RoundTripper, spends bitcoin.SpendMethod) (*crosschain.Source, *bitcoin.Source) {
	t.Helper()
	ctx := context.Background()
	es, err := evm.Dial(ctx, ethURL, evm.Options{Chain: "ethereum", HTTPClient: &http.Client{Transport: ethRT}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(es.Close)
	es.DecodeEvents()
	rc, err := rpc.DialOptions(ctx, ethURL, rpc.WithHTTPClient(&http.Client{Transport: ethRT}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	bc, err := bitcoin.Dial(btcURL, bitcoin.Options{Transport: btcRT})
	if err != nil {
		t.Fatal(err)
	}
	probe, err := bc.ProbeNode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bs := bitcoin.NewSource(bc, probe, bitcoin.SourceOptions{Chain: "bitcoin", Spends: spends})
	clock := crosschain.BitcoinClock{C: bc}
	src, err := crosschain.New(
		crosschain.Chain{Name: "ethereum", Source: es, Clock: crosschain.EVMClock{C: rc}},
		[]crosschain.Chain{{Name: "bitcoin", Source: bs, Clock: clock, Coin: tracer.Token{Symbol: "BTC", Name: "Bitcoin", Decimals: 8}, Labels: bs.Labels()}},
		crosschain.NewTHORChain("bitcoin", bs.Scanner(), clock, 0),
	)
	if err != nil {
		t.Fatal(err)
	}
	return src, bs
}
