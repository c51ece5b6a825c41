package crosschain_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"flag"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/crosschain"
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/chains/evm/bridges"
	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/chains/networks"
	"github.com/flowtrace/flowtrace/chains/rpcfault"
	"github.com/flowtrace/flowtrace/chains/rpcreplay"
	"github.com/flowtrace/flowtrace/fixtures/contracts"
	"github.com/flowtrace/flowtrace/fixtures/devnode"
	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

var recordEVM = flag.Bool("record-evm", false, "record the live three-chain EVM trace into "+evmFixtureDir)

// evmFixtureDir holds the recorded three-chain EVM case: one replay file per
// chain and case.json, what the story played.
const evmFixtureDir = "../../fixtures/three-evm"

// threeChains are the chains of the story, each a dev node answering the
// real chain's id: Ethereum, Arbitrum (Across from Ethereum), Base
// (Stargate's native ETH pools from Arbitrum).
var threeChains = []string{"ethereum", "arbitrum", "base"}

// threeEVM is the theft played on the three nodes: what the test knows. It
// is saved beside a recording as fixtures/three-evm/case.json.
type threeEVM struct {
	Thief    string            `json:"thief"`
	Window   tracer.BlockRange `json:"window"` // on Ethereum
	Bridges  map[string]string `json:"bridges"`
	Across   string            `json:"across_deposit"`   // Ethereum -> Arbitrum, filled
	Unfilled string            `json:"across_unfilled"`  // Ethereum -> Arbitrum, never filled
	Fill     string            `json:"across_fill"`      // on Arbitrum
	Stargate string            `json:"stargate_deposit"` // Arbitrum -> Base
	Receipt  string            `json:"stargate_receipt"` // on Base
	Stolen   []string          `json:"stolen"`           // every address that received stolen value, qualified off Ethereum
	Noise    []string          `json:"noise"`
}

var (
	acrossOut   = milli(5970) // what the Across fill pays (6 ETH less the relayer's fee)
	stargateOut = milli(3960) // what the Stargate receipt pays (4 ETH less the fee)
)

func milli(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e15)) }

// chainNode is one dev node of the story and the accounts that sign on it.
type chainNode struct {
	t      *testing.T
	n      *devnode.Node
	ec     *ethclient.Client
	nonces map[common.Address]uint64
	bridge common.Address
}

func (c *chainNode) send(k *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte) common.Hash {
	c.t.Helper()
	from := crypto.PubkeyToAddress(k.PublicKey)
	tx := types.MustSignNewTx(k, types.LatestSignerForChainID(c.n.ChainID()), &types.LegacyTx{
		Nonce: c.nonces[from], To: to, Value: value, Gas: 1_000_000, GasPrice: big.NewInt(1_000_000_000), Data: data})
	if err := c.ec.SendTransaction(context.Background(), tx); err != nil {
		c.t.Fatal(err)
	}
	c.nonces[from]++
	return tx.Hash()
}

func (c *chainNode) call(k *ecdsa.PrivateKey, value *big.Int, method string, args ...any) common.Hash {
	c.t.Helper()
	data, err := contracts.MiniBridge.Call(method, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.send(k, &c.bridge, value, data)
}

// settle mines a block and checks that txs succeeded in it.
func (c *chainNode) settle(txs ...common.Hash) uint64 {
	c.t.Helper()
	n, err := c.n.Commit()
	if err != nil {
		c.t.Fatal(err)
	}
	for _, h := range txs {
		r, err := c.ec.TransactionReceipt(context.Background(), h)
		if err != nil || r.Status != types.ReceiptStatusSuccessful || r.BlockNumber.Uint64() != n {
			c.t.Fatalf("tx %s: %v (receipt %+v)", h.Hex(), err, r)
		}
	}
	return n
}

func (c *chainNode) headTime() uint64 {
	h, err := c.ec.HeaderByNumber(context.Background(), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return h.Time
}

func keyOf(label string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("flowtrace-three-evm/" + label)))
	if err != nil {
		panic(err)
	}
	return k
}

func addrOf(k *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(k.PublicKey) }

// playThree runs the story. On Ethereum a victim pays the thief 10 ETH; the
// thief deposits 6 ETH into Across for Arbitrum (deposit 7, to hopB), 0.5
// ETH more that no relayer fills (deposit 8), and keeps 1 ETH at keepA. On
// Arbitrum a relayer fills deposit 7, paying hopB 5.97 ETH; hopB sends 4
// ETH through Stargate's native pool to Base (to hopC) and 1 ETH to keepB.
// On Base the pool pays hopC 3.96 ETH, and hopC splits it to c1 and c2.
// Noise: an unrelated payment on each chain, fills of other deposits (one
// with deposit id 7 from another origin chain), another Stargate receipt.
func playThree(t *testing.T, nodes map[string]*chainNode) threeEVM {
	victim, thief, relayer, hopB, hopC, other := keyOf("victim"), keyOf("thief"), keyOf("relayer"), keyOf("hopB"), keyOf("hopC"), keyOf("other")
	keepA, keepB, c1, c2 := addrOf(keyOf("keepA")), addrOf(keyOf("keepB")), addrOf(keyOf("c1")), addrOf(keyOf("c2"))
	noiseA, noiseB, noiseC, noiseC2 := addrOf(keyOf("noiseA")), addrOf(keyOf("noiseB")), addrOf(keyOf("noiseC")), addrOf(keyOf("noiseC2"))
	g := threeEVM{Thief: addrOf(thief).Hex(), Bridges: map[string]string{}}
	for _, name := range threeChains {
		c := nodes[name]
		deploy := c.send(relayer, nil, nil, contracts.MiniBridge.Bin)
		c.settle(deploy)
		r, err := c.ec.TransactionReceipt(context.Background(), deploy)
		if err != nil {
			t.Fatal(err)
		}
		c.bridge = r.ContractAddress
		g.Bridges[name] = c.bridge.Hex()
	}
	eth, arb, base := nodes["ethereum"], nodes["arbitrum"], nodes["base"]
	wethEth := common.HexToAddress("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
	wethArb := common.HexToAddress("0x82aF49447D8a07e3bd95BD0d56f35241523fBab1")
	deadline := uint32(eth.headTime() + 3600)
	thiefAddr := addrOf(thief)

	// Ethereum.
	first := eth.settle(eth.send(victim, &thiefAddr, ether(10), nil), eth.send(victim, &noiseA, ether(1), nil))
	across := eth.call(thief, ether(6), "depositV3", wethEth, wethArb, acrossOut, big.NewInt(42161), uint32(7), deadline, addrOf(hopB))
	eth.settle(across, eth.send(thief, &keepA, ether(1), nil))
	unfilled := eth.call(thief, half, "depositV3", wethEth, wethArb, milli(495), big.NewInt(42161), uint32(8), deadline, addrOf(hopB))
	last := eth.settle(unfilled)
	g.Window, g.Across, g.Unfilled = tracer.BlockRange{From: first, To: last}, across.Hex(), unfilled.Hex()

	// Arbitrum: the relayer fills deposit 7 from Ethereum, and deposit 7
	// from Optimism (chain 10), which pays noiseB.
	fill := arb.call(relayer, acrossOut, "fillV3Relay", wethEth, wethArb, ether(6), big.NewInt(1), uint32(7), deadline, thiefAddr, addrOf(hopB), addrOf(hopB))
	arb.settle(fill,
		arb.call(relayer, ether(2), "fillV3Relay", wethEth, wethArb, ether(2), big.NewInt(10), uint32(7), deadline, addrOf(other), noiseB, noiseB))
	g.Fill = fill.Hex()
	guid := crypto.Keccak256Hash([]byte("three-evm stargate send"))
	keepBAddr := keepB
	sg := arb.call(hopB, ether(4), "send", guid, uint32(30184), new(big.Int).Sub(ether(4), stargateOut))
	arb.settle(sg, arb.send(hopB, &keepBAddr, ether(1), nil), arb.send(relayer, &noiseB, ether(3), nil))
	g.Stargate = sg.Hex()

	// Base: the pool pays hopC; another receipt pays noiseC.
	receipt := base.call(relayer, stargateOut, "receiveOFT", guid, uint32(30110), addrOf(hopC))
	base.settle(receipt, base.call(relayer, ether(2), "receiveOFT", crypto.Keccak256Hash([]byte("another send")), uint32(30110), noiseC))
	g.Receipt = receipt.Hex()
	base.settle(base.send(hopC, &c1, ether(2), nil), base.send(hopC, &c2, milli(1900), nil), base.send(relayer, &noiseC2, ether(1), nil))

	q := func(chain string, a common.Address) string {
		return string(tracer.Qualify(chain, tracer.Address(a.Hex())))
	}
	g.Stolen = []string{thiefAddr.Hex(), keepA.Hex(), q("arbitrum", addrOf(hopB)), q("arbitrum", keepB), q("base", addrOf(hopC)), q("base", c1), q("base", c2)}
	g.Noise = []string{noiseA.Hex(), noiseB.Hex(), noiseC.Hex(), noiseC2.Hex(), addrOf(relayer).Hex(), addrOf(victim).Hex(), addrOf(other).Hex()}
	return g
}

// TestTraceAcrossThreeEVMChains plays stolen ETH moving Ethereum -> Arbitrum
// (Across) -> Base (Stargate) on three go-ethereum dev nodes answering
// those chains' ids, and traces it in one walk (with -record-evm, the nodes'
// traffic is saved as fixtures/three-evm).
func TestTraceAcrossThreeEVMChains(t *testing.T) {
	alloc := map[common.Address]*big.Int{addrOf(keyOf("victim")): ether(1000), addrOf(keyOf("thief")): ether(1), addrOf(keyOf("relayer")): ether(1000)}
	nodes := map[string]*chainNode{}
	for _, name := range threeChains {
		nw, _ := networks.Lookup(name)
		n, err := devnode.Start(devnode.Options{ChainID: big.NewInt(nw.ChainID), Alloc: alloc})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		nodes[name] = &chainNode{t: t, n: n, ec: ethclient.NewClient(n.Client()), nonces: map[common.Address]uint64{}}
	}
	g := playThree(t, nodes)
	urls, rts, recs := map[string]string{}, map[string]http.RoundTripper{}, map[string]*rpcreplay.Recorder{}
	for _, name := range threeChains {
		urls[name], rts[name] = nodes[name].n.URL(), http.DefaultTransport
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
		for _, name := range threeChains {
			p, err := rpcfault.Start(rpcfault.Options{Upstream: nodes[name].n.URL(), Classes: rpcfault.Limits(), MaxRange: 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			proxies[name], lurls[name], lrts[name] = p, p.URL(), http.DefaultTransport
		}
		checkThree(t, g, evmSources(t, lurls, lrts, g))
		for _, name := range threeChains {
			if c := proxies[name].Counts(); c[rpcfault.RangeTooLarge] == 0 {
				t.Errorf("%s: no range refused (%v)", name, c)
			}
		}
	})
	if !*recordEVM || t.Failed() {
		return
	}
	if err := os.MkdirAll(evmFixtureDir, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(evmFixtureDir, "case.json"), append(c, '\n'), 0o644); err != nil {
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
	data, err := os.ReadFile(filepath.Join(evmFixtureDir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g threeEVM
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	urls, rts, rps := map[string]string{}, map[string]http.RoundTripper{}, map[string]*rpcreplay.Replayer{}
	for _, name := range threeChains {
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
	for _, name := range threeChains {
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
func evmSources(t *testing.T, urls map[string]string, rts map[string]http.RoundTripper, g threeEVM) *crosschain.Source {
	t.Helper()
	ctx := context.Background()
	reg, err := labels.Bundled()
	if err != nil {
		t.Fatal(err)
	}
	chains := map[string]crosschain.Chain{}
	srcs := map[string]*evm.Source{}
	for _, name := range threeChains {
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
func checkThree(t *testing.T, g threeEVM, src *crosschain.Source) *tracer.Trace {
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
	acrossHub, stargateHub := tracer.Address("across:ethereum-7"), tracer.Address("stargate:"+strings.ToLower(crypto.Keccak256Hash([]byte("three-evm stargate send")).Hex()))
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
	if fill.Chain != "arbitrum" || fill.To != tracer.Address(g.Stolen[2]) || fill.Asset != "arbitrum:native" || fill.Amount.Cmp(acrossOut) != 0 ||
		fill.Tainted.Cmp(acrossOut) != 0 || fill.Annotations[tracer.AnnInboundTx] != g.Across || fill.Annotations[tracer.AnnConverts] != dep.ID() {
		t.Errorf("Across payout %s -> %s on %s, %v %s (%v stolen), annotations %v; want %v arbitrum:native, all stolen, to %s",
			fill.From, fill.To, fill.Chain, fill.Amount, fill.Asset, fill.Tainted, fill.Annotations, acrossOut, g.Stolen[2])
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
	if receipt.Chain != "base" || receipt.To != tracer.Address(g.Stolen[4]) || receipt.Asset != "base:native" || receipt.Tainted.Cmp(stargateOut) != 0 {
		t.Errorf("Stargate payout to %s on %s, %v stolen %s; want %v base:native to %s", receipt.To, receipt.Chain, receipt.Tainted, receipt.Asset, stargateOut, g.Stolen[4])
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
			if s.Stolen.Sign() != 0 || s.BridgedIn.Cmp(acrossOut) != 0 || s.Buckets[tracer.BucketBridged].Cmp(ether(4)) != 0 {
				t.Errorf("Arbitrum ETH: stolen %v, bridged in %v, buckets %v; want 0, 5.97 in, 4 bridged on", s.Stolen, s.BridgedIn, s.Buckets)
			}
		case "base:native":
			if s.Stolen.Sign() != 0 || s.BridgedIn.Cmp(stargateOut) != 0 || s.Symbol != "ETH" {
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
			PaidAsset: "arbitrum:native", Arrived: acrossOut},
		{Bridge: "across", From: "ethereum", To: "arbitrum", Asset: tracer.NativeAsset, Status: crosschain.StatusPending, Deposits: 1, Stolen: half},
		{Bridge: "stargate", From: "arbitrum", To: "base", Asset: "arbitrum:native", Status: crosschain.StatusPaired, Deposits: 1, Stolen: ether(4),
			PaidAsset: "base:native", Arrived: stargateOut},
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
