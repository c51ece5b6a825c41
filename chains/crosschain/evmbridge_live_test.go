package crosschain_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"math/big"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/crosschain"
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/chains/evm/bridges"
	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/chains/networks"
	"github.com/flowtrace/flowtrace/chains/rpcfault"
	"github.com/flowtrace/flowtrace/chains/rpcreplay"
	"github.com/flowtrace/flowtrace/fixtures/threeevm"
	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

var recordEVM = flag.Bool("record-evm", false, "record the live three-chain EVM trace into "+evmFixtureDir)

// evmFixtureDir holds the recorded three-chain EVM case: one replay file per
// chain and case.json, what the story played.
const evmFixtureDir = "../../fixtures/three-evm"

// TestTraceAcrossThreeEVMChains plays stolen ETH moving Ethereum -> Arbitrum
// (Across) -> Base (Stargate) on three go-ethereum dev nodes answering
// those chains' ids, and traces it in one walk (with -record-evm, the nodes'
// traffic is saved as fixtures/three-evm).
func TestTraceAcrossThreeEVMChains(t *testing.T) {
	nodes, err := threeevm.StartNodes()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { threeevm.Close(nodes) })
	g, err := threeevm.Play(context.Background(), nodes)
	if err != nil {
		t.Fatal(err)
	}
	urls, rts, recs := map[string]string{}, map[string]http.RoundTripper{}, map[string]*rpcreplay.Recorder{}
	for _, name := range threeevm.Chains {
		urls[name], rts[name] = nodes[name].URL(), http.DefaultTransport
		if *recordEVM {
			recs[name] = rpcreplay.NewRecorder(http.DefaultTransport)
			rts[name] = recs[name]
		}
	}
	checkThree(t, g, evmSources(t, urls, rts, g))
	// The same behind nodes that refuse eth_getLogs ranges over one block,
	// batches over three calls and answers over three entries: every query,
	// the fills' too, is split and the trace is the same.
	t.Run("limits", func(t *testing.T) {
		lurls, lrts := map[string]string{}, map[string]http.RoundTripper{}
		proxies := map[string]*rpcfault.Proxy{}
		for _, name := range threeevm.Chains {
			p, err := rpcfault.Start(rpcfault.Options{Upstream: nodes[name].URL(), Classes: rpcfault.Limits(), MaxRange: 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			proxies[name], lurls[name], lrts[name] = p, p.URL(), http.DefaultTransport
		}
		checkThree(t, g, evmSources(t, lurls, lrts, g))
		for _, name := range threeevm.Chains {
			if c := proxies[name].Counts(); c[rpcfault.RangeTooLarge] == 0 {
				t.Errorf("%s: no range refused (%v)", name, c)
			}
		}
	})
	if !*recordEVM || t.Failed() {
		return
	}
	if err := threeevm.WriteCase(evmFixtureDir, g); err != nil {
		t.Fatal(err)
	}
	for name, rec := range recs {
		if err := rec.Save(filepath.Join(evmFixtureDir, name+".replay")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestThreeEVMReplay traces the recorded three-chain case without nodes:
// the same checks, and every recorded call is used.
func TestThreeEVMReplay(t *testing.T) {
	g, err := threeevm.ReadCase(evmFixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	urls, rts, rps := map[string]string{}, map[string]http.RoundTripper{}, map[string]*rpcreplay.Replayer{}
	for _, name := range threeevm.Chains {
		rp, err := rpcreplay.LoadReplayer(filepath.Join(evmFixtureDir, name+".replay"))
		if err != nil {
			t.Fatal(err)
		}
		urls[name], rts[name], rps[name] = "http://127.0.0.1:1/", rp, rp
	}
	tr := checkThree(t, g, evmSources(t, urls, rts, g))
	// The graph shows each bridge transfer as one paired bridge pattern with
	// both legs as evidence, and every export takes the three-chain trace.
	f, err := graph.Build(tr, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.Detect(graph.DetectOptions{})
	legs := map[string]string{}
	for _, p := range f.Patterns {
		if p.Kind == graph.KindBridge && p.Detail[tracer.AnnPairing] == crosschain.StatusPaired && len(p.Evidence) == 2 {
			legs[p.Evidence[0].TxHash] = p.Evidence[1].TxHash
		}
	}
	if len(legs) != 2 || legs[g.Across] != g.Fill || legs[g.Stargate] != g.Receipt {
		t.Errorf("paired bridge patterns (deposit -> fill) %v, want %s -> %s and %s -> %s", legs, g.Across, g.Fill, g.Stargate, g.Receipt)
	}
	for name, write := range map[string]func(io.Writer) error{
		"json":   func(w io.Writer) error { return graph.WriteJSON(w, f, graph.Meta{}) },
		"dot":    func(w io.Writer) error { return graph.WriteDOT(w, f, graph.DOTOptions{}) },
		"csv":    func(w io.Writer) error { return graph.WriteCSV(w, f) },
		"report": func(w io.Writer) error { return graph.WriteReport(w, f, graph.Meta{}) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil || !strings.Contains(b.String(), "across:ethereum-7") || !strings.Contains(b.String(), strings.TrimPrefix(g.Stolen[6], "base:")) {
			t.Errorf("%s: %v, or the Across hub or the last Base wallet missing", name, err)
		}
	}
	for _, name := range threeevm.Chains {
		if unused := rps[name].Unused(); len(unused) > 0 {
			t.Errorf("%s: %d recorded calls not made, first %s", name, len(unused), unused[0])
		}
	}
}

// bridgeLabels labels each chain's MiniBridge as the bridges' contract.
type bridgeLabels map[string]string

func (b bridgeLabels) Lookup(chain string, a tracer.Address) (tracer.Label, bool) {
	if at, ok := b[chain]; ok && strings.EqualFold(at, string(a)) {
		return tracer.Label{Name: "Across SpokePool and Stargate pool (MiniBridge)", Category: tracer.CategoryBridge, Source: "test"}, true
	}
	return tracer.Label{}, false
}

// evmSources dials the three chains and puts them together with the Across
// and Stargate pairers into Arbitrum and Base.
func evmSources(t *testing.T, urls map[string]string, rts map[string]http.RoundTripper, g *threeevm.Case) *crosschain.Source {
	t.Helper()
	ctx := context.Background()
	reg, err := labels.Bundled()
	if err != nil {
		t.Fatal(err)
	}
	chains := map[string]crosschain.Chain{}
	srcs := map[string]*evm.Source{}
	for _, name := range threeevm.Chains {
		es, err := evm.Dial(ctx, urls[name], evm.Options{Chain: name, HTTPClient: &http.Client{Transport: rts[name]}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(es.Close)
		es.DecodeBridges()
		rc, err := rpc.DialOptions(ctx, urls[name], rpc.WithHTTPClient(&http.Client{Transport: rts[name]}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rc.Close)
		nw, _ := networks.Lookup(name)
		chains[name] = crosschain.Chain{Name: name, Source: es, Clock: crosschain.EVMClock{C: rc}, Coin: tracer.Token{Symbol: nw.NativeSymbol, Decimals: nw.NativeDecimals}}
		srcs[name] = es
	}
	lb := bridgeLabels(g.Bridges)
	var pairers []crosschain.Pairer
	for _, dest := range []string{"arbitrum", "base"} {
		ps, err := crosschain.EVMBridgesInto(dest, srcs[dest], chains[dest].Clock,
			crosschain.EVMBridgeOptions{Labels: lb, WrappedNatives: reg.WrappedNatives(dest)})
		if err != nil {
			t.Fatal(err)
		}
		pairers = append(pairers, ps...)
	}
	src, err := crosschain.New(chains["ethereum"], []crosschain.Chain{chains["arbitrum"], chains["base"]}, pairers...)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// checkThree traces g and asserts what the story makes true.
func checkThree(t *testing.T, g *threeevm.Case, src *crosschain.Source) *tracer.Trace {
	t.Helper()
	tr, err := tracer.Walk(context.Background(), src, tracer.Options{Chain: "ethereum", Seeds: []tracer.Address{tracer.Address(g.Thief)},
		Window: g.Window, Labels: src.Labels(bridgeLabels(g.Bridges))})
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
	acrossHub, stargateHub := tracer.Address("across:ethereum-7"), tracer.Address("stargate:"+strings.ToLower(threeevm.StargateGUID.Hex()))
	byHash := func(hash string, from tracer.Address) *tracer.TracedTransfer {
		for i, x := range tr.Transfers {
			if x.TxHash == hash && (from == "" || x.From == from) {
				return &tr.Transfers[i]
			}
		}
		return nil
	}

	// Across: the deposit goes to its hub, the hub pays hopB on Arbitrum what the fill paid.
	dep, fill := byHash(g.Across, ""), byHash(g.Fill, acrossHub)
	if dep == nil || fill == nil {
		t.Fatalf("Across deposit %v, fill %v: want both in the trace", dep, fill)
	}
	if dep.To != acrossHub || dep.Annotations[tracer.AnnPairing] != crosschain.StatusPaired || dep.Annotations[tracer.AnnOutboundTx] != g.Fill ||
		dep.Annotations[tracer.AnnBridgeContract] != g.Bridges["ethereum"] || dep.Annotations[bridges.AnnConfidence] != "1.00" {
		t.Errorf("Across deposit to %s, annotations %v; want the hub, paired with %s at confidence 1", dep.To, dep.Annotations, g.Fill)
	}
	if fill.Chain != "arbitrum" || fill.To != tracer.Address(g.Stolen[2]) || fill.Asset != "arbitrum:native" || fill.Amount.Cmp(threeevm.AcrossOut) != 0 ||
		fill.Tainted.Cmp(threeevm.AcrossOut) != 0 || fill.Annotations[tracer.AnnInboundTx] != g.Across || fill.Annotations[tracer.AnnConverts] != dep.ID() {
		t.Errorf("Across payout %s -> %s on %s, %v %s (%v stolen), annotations %v; want %v arbitrum:native, all stolen, to %s",
			fill.From, fill.To, fill.Chain, fill.Amount, fill.Asset, fill.Tainted, fill.Annotations, threeevm.AcrossOut, g.Stolen[2])
	}
	// The unfilled deposit stays at the bridge, stated as pending.
	if u := byHash(g.Unfilled, ""); u == nil || u.To != tracer.Address(g.Bridges["ethereum"]) || u.Annotations[tracer.AnnPairing] != crosschain.StatusPending ||
		!strings.Contains(u.Annotations[tracer.AnnPairingDetail], "no fill of across deposit 8 from ethereum on arbitrum yet") {
		t.Errorf("unfilled deposit %+v: want it at the bridge, pending, saying what was searched", u)
	}
	// Stargate: hopB's send on Arbitrum is paired with the receipt on Base.
	sg, receipt := byHash(g.Stargate, ""), byHash(g.Receipt, stargateHub)
	if sg == nil || receipt == nil {
		t.Fatalf("Stargate send %v, receipt %v: want both in the trace", sg, receipt)
	}
	if sg.Chain != "arbitrum" || sg.To != stargateHub || sg.Annotations[tracer.AnnPairing] != crosschain.StatusPaired || sg.Tainted.Cmp(ether(4)) != 0 {
		t.Errorf("Stargate send on %s to %s (%v stolen), annotations %v; want 4 stolen ETH on arbitrum to the hub, paired", sg.Chain, sg.To, sg.Tainted, sg.Annotations)
	}
	if receipt.Chain != "base" || receipt.To != tracer.Address(g.Stolen[4]) || receipt.Asset != "base:native" || receipt.Tainted.Cmp(threeevm.StargateOut) != 0 {
		t.Errorf("Stargate payout to %s on %s, %v stolen %s; want %v base:native to %s", receipt.To, receipt.Chain, receipt.Tainted, receipt.Asset, threeevm.StargateOut, g.Stolen[4])
	}

	// Every address that received stolen value is found, and no noise.
	var reached []string
	for _, n := range tr.Nodes {
		for asset, v := range n.Received {
			if v.Sign() > 0 && asset.Native() && isAccount(n.Address) {
				reached = append(reached, string(n.Address))
				break
			}
		}
	}
	slices.Sort(reached)
	reached = slices.Compact(reached)
	for _, a := range g.Stolen[1:] {
		if !slices.Contains(reached, a) {
			t.Errorf("stolen value reached %s, which the trace misses (reached %v)", a, reached)
		}
	}
	for _, n := range tr.Nodes {
		for _, noise := range g.Noise {
			if strings.HasSuffix(string(n.Address), noise) {
				t.Errorf("noise address %s is in the trace", n.Address)
			}
		}
	}

	// Accounting adds up to 100% per asset on each chain: 10 ETH stolen on
	// Ethereum, 6 bridged (arrived), 0.5 at the bridge (in flight), 1 kept;
	// on Arbitrum 5.97 arrived, 4 bridged on, 1 kept; on Base 3.96 arrived.
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
				t.Errorf("ETH: stolen %v, buckets %v; want 10 stolen, 6 bridged and arrived, 0.5 at the bridge", s.Stolen, s.Buckets)
			}
		case "arbitrum:native":
			if s.Stolen.Sign() != 0 || s.BridgedIn.Cmp(threeevm.AcrossOut) != 0 || s.Buckets[tracer.BucketBridged].Cmp(ether(4)) != 0 {
				t.Errorf("Arbitrum ETH: stolen %v, bridged in %v, buckets %v; want 0, 5.97 in, 4 bridged on", s.Stolen, s.BridgedIn, s.Buckets)
			}
		case "base:native":
			if s.Stolen.Sign() != 0 || s.BridgedIn.Cmp(threeevm.StargateOut) != 0 || s.Symbol != "ETH" {
				t.Errorf("Base ETH: stolen %v, bridged in %v (%s); want 0 and 3.96 ETH in", s.Stolen, s.BridgedIn, s.Symbol)
			}
		default:
			t.Errorf("unexpected asset %s", s.Asset)
		}
	}
	if len(tr.Summary.Assets) != 3 {
		t.Errorf("%d assets, want ETH on each of the three chains", len(tr.Summary.Assets))
	}
	want := []crosschain.Bridged{
		{Bridge: "across", From: "ethereum", To: "arbitrum", Asset: tracer.NativeAsset, Status: crosschain.StatusPaired, Deposits: 1, Stolen: ether(6),
			PaidAsset: "arbitrum:native", Arrived: threeevm.AcrossOut},
		{Bridge: "across", From: "ethereum", To: "arbitrum", Asset: tracer.NativeAsset, Status: crosschain.StatusPending, Deposits: 1, Stolen: half},
		{Bridge: "stargate", From: "arbitrum", To: "base", Asset: "arbitrum:native", Status: crosschain.StatusPaired, Deposits: 1, Stolen: ether(4),
			PaidAsset: "base:native", Arrived: threeevm.StargateOut},
	}
	got := crosschain.Summarize(tr)
	if len(got) != len(want) {
		t.Fatalf("bridged %+v, want %+v", got, want)
	}
	for i := range want {
		w, x := want[i], got[i]
		if x.Bridge != w.Bridge || x.From != w.From || x.To != w.To || x.Asset != w.Asset || x.Status != w.Status || x.Deposits != w.Deposits ||
			x.Stolen.Cmp(w.Stolen) != 0 || x.PaidAsset != w.PaidAsset || (w.Arrived == nil) != (x.Arrived == nil) || (w.Arrived != nil && x.Arrived.Cmp(w.Arrived) != 0) {
			t.Errorf("bridged row %d: %+v, want %+v", i, x, w)
		}
	}
	return tr
}

// isAccount reports whether a is an address of a chain (not a swap's hub).
func isAccount(a tracer.Address) bool {
	s := string(a)
	if i := strings.LastIndex(s, ":"); i >= 0 {
		s = s[i+1:]
	}
	return common.IsHexAddress(s)
}
