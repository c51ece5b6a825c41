package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/chains/bitcoin"
	"github.com/flowtrace/flowtrace/fixtures/btcnode"
	"github.com/flowtrace/flowtrace/tracer"
)

// btcTheft is the Bitcoin case recorded from btcd on regtest.
var btcTheft = filepath.Join(fixturesDir, "btc-regtest")

// btcTruthFile is the harness's account of the Bitcoin theft it played.
const btcTruthFile = "truth-btc.json"

// btcTruth is what the harness sent on btcd: the trace must find every
// stolen address, none of the noise, the CoinJoin as a mixer terminal, and
// the fees the traced transactions paid.
type btcTruth struct {
	Chain string `json:"chain"`
	Seed  string `json:"seed"`
	From  uint64 `json:"from_block"`
	To    uint64 `json:"to_block"`
	// Stolen is every address that received stolen value, the seed aside. Sorted.
	Stolen []string `json:"stolen"`
	// Noise are addresses active in the window that received none; Beyond
	// those paid only by the CoinJoin (the walk stops there). Sorted.
	Noise  []string `json:"noise"`
	Beyond []string `json:"beyond"`
	// Theft is the amount the seed received, Fees what the traced
	// transactions paid the miners, Mixed what went into the CoinJoin (sats).
	Theft    int64  `json:"theft_sats"`
	Fees     int64  `json:"fees_sats"`
	Mixed    int64  `json:"mixed_sats"`
	CoinJoin string `json:"coinjoin_txid"`
	// The patterns planted: the peel chain's last hop, the scatter's
	// transaction, the consolidation's address.
	PeelEnd       string `json:"peel_end"`
	ScatterTx     string `json:"scatter_txid"`
	Consolidation string `json:"consolidation"`
	// Roles names each address's part, for messages.
	Roles map[string]string `json:"roles"`
}

// playBitcoinTheft plays a small theft on a fresh btcd: the seed receives
// 6 BTC from the victim, peels 0.25 BTC off three times through fresh
// addresses, scatters 5 BTC over five wallets; three consolidate into one,
// one goes through a Whirlpool-shaped CoinJoin, one stays put. An unrelated
// wallet moves coins in the same blocks.
func playBitcoinTheft(t *testing.T, n *btcnode.Node) *btcTruth {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tr := &btcTruth{Chain: "bitcoin-regtest", Roles: map[string]string{}}
	key := func(role string) *btcnode.Key {
		k, err := btcnode.NewKey()
		must(err)
		n.Track(k)
		tr.Roles[k.Address()] = role
		return k
	}
	mine := func() uint64 {
		t.Helper()
		_, err := n.Mine(ctx, 1)
		must(err)
		h, err := n.Height(ctx)
		must(err)
		return uint64(h)
	}
	send := func(from *btcnode.Key, fee int64, outs ...btcnode.Out) *btcnode.Sent {
		t.Helper()
		s, err := n.Send(ctx, from, fee, outs...)
		must(err)
		return s
	}
	stolen := func(k *btcnode.Key) { tr.Stolen = append(tr.Stolen, k.Address()) }
	const fee = 1000

	_, err := n.Mine(ctx, btcnode.CoinbaseMaturity+2)
	must(err)
	victim, seed, noise1 := key("victim"), key("seed"), key("noise: unrelated wallet")
	send(n.Miner, fee, btcnode.Out{Address: victim.Address(), Value: 10e8}, btcnode.Out{Address: noise1.Address(), Value: 2e8})
	tr.From = mine() + 1
	tr.Seed = seed.Address()

	// The theft, then a peel chain: each hop pays 0.25 BTC to a side
	// address and the rest, fee paid, to a fresh one.
	tr.Theft = 6e8
	send(victim, fee, btcnode.Out{Address: seed.Address(), Value: tr.Theft})
	mine()
	from, left := seed, tr.Theft
	for i := range 3 {
		side, next := key(fmt.Sprintf("peel %d: side payment", i+1)), key(fmt.Sprintf("peel %d: next hop", i+1))
		left -= 25e6 + fee
		send(from, fee, btcnode.Out{Address: side.Address(), Value: 25e6}, btcnode.Out{Address: next.Address(), Value: left})
		tr.Fees += fee
		stolen(side)
		stolen(next)
		from = next
		if i == 1 {
			noise2 := key("noise: paid by the unrelated wallet")
			send(noise1, fee, btcnode.Out{Address: noise2.Address(), Value: 5e7})
			tr.Noise = append(tr.Noise, noise1.Address(), noise2.Address())
		}
		mine()
	}
	// Scatter into five wallets; the rest goes to a fresh address.
	var wallets []*btcnode.Key
	var outs []btcnode.Out
	for i := range 5 {
		w := key(fmt.Sprintf("scatter wallet %d", i+1))
		wallets = append(wallets, w)
		outs = append(outs, btcnode.Out{Address: w.Address(), Value: 1e8})
		stolen(w)
	}
	rest := key("scatter: the rest")
	stolen(rest)
	tr.PeelEnd = from.Address()
	tr.ScatterTx = send(from, fee, append(outs, btcnode.Out{Address: rest.Address(), Value: left - 5e8 - fee})...).TxID()
	tr.Fees += fee
	mine()
	// Three wallets consolidate into one.
	cons := key("consolidation")
	stolen(cons)
	tr.Consolidation = cons.Address()
	for _, w := range wallets[:3] {
		send(w, fee, btcnode.Out{Address: cons.Address(), Value: 1e8 - fee})
		tr.Fees += fee
	}
	// One goes through a Whirlpool-shaped CoinJoin (0.01 BTC pool): a
	// premix to five outputs, then five equal outputs to fresh wallets.
	const pool, mixFee = 1_000_000, 2000
	premixer := key("CoinJoin premix")
	stolen(premixer)
	premix := []btcnode.Out{{Address: premixer.Address(), Value: pool}}
	for range 4 {
		premix = append(premix, btcnode.Out{Address: premixer.Address(), Value: pool + mixFee/4})
	}
	send(wallets[3], fee, premix...)
	tr.Fees += fee
	var mixed []btcnode.Out
	for i := range 5 {
		k := key(fmt.Sprintf("CoinJoin output %d", i+1))
		tr.Beyond = append(tr.Beyond, k.Address())
		mixed = append(mixed, btcnode.Out{Address: k.Address(), Value: pool})
	}
	cj := send(premixer, mixFee, mixed...)
	tr.CoinJoin, tr.Mixed = cj.TxID(), 5*pool+mixFee
	tr.To = mine()
	slices.Sort(tr.Stolen)
	slices.Sort(tr.Noise)
	slices.Sort(tr.Beyond)
	return tr
}

// btcArgs are the trace flags of the case (the args file).
func (tr *btcTruth) args() string {
	return fmt.Sprintf("--chain\n%s\n--seed\n%s\n--from-block\n%d\n--to-block\n%d\n--depth\n40\n", tr.Chain, tr.Seed, tr.From, tr.To)
}

// recordBitcoinTheft re-records fixtures/btc-regtest from a fresh btcd:
// the truth, the node's answers to the trace, and the wanted outputs.
func recordBitcoinTheft(t *testing.T, dir string) {
	n := btcnode.ForTest(t)
	tr := playBitcoinTheft(t, n)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(tr, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{btcTruthFile: append(data, '\n'), "args": []byte(tr.args())} {
		if err := writeFileAtomic(filepath.Join(dir, name), data); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	code, _, stderr := runCLI(t, append([]string{"trace", "-q", "--rpc", n.URL, "--record", filepath.Join(dir, "rpc.replay"), "--out", out}, caseArgs(t, dir)...)...)
	if code != exitOK {
		t.Fatalf("recording: exit %d:\n%s", code, stderr)
	}
	for from, to := range map[string]string{"graph.json": "want.json", "graph.dot": "want.dot"} {
		if err := writeFileAtomic(filepath.Join(dir, to), readOutput(t, out, from)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("recorded %s", dir)
}

// TestBitcoinFixture checks the replayed Bitcoin trace (TestFixtures
// compares it with the goldens) against the harness's truth.
func TestBitcoinFixture(t *testing.T) {
	tr := readBTCTruth(t, btcTheft)
	out := t.TempDir()
	code, _, stderr := runCLI(t, append([]string{"trace", "-q", "--replay", filepath.Join(btcTheft, "rpc.replay"), "--out", out}, caseArgs(t, btcTheft)...)...)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	checkBTCTruth(t, tr, out)
	report := string(readOutput(t, out, "report.md"))
	for _, want := range []string{"- Node: Bitcoin regtest; spends found by searchrawtransactions: the node keeps an address index", "| fees |", " BTC"} {
		if !strings.Contains(report, want) {
			t.Errorf("report.md lacks %q:\n%s", want, report)
		}
	}
}

// TestBitcoinLiveEqualsReplay plays the theft on a fresh btcd, traces it
// live while recording, and wants the replay of that recording to write
// exactly the live outputs; both are checked against the truth.
func TestBitcoinLiveEqualsReplay(t *testing.T) {
	n := btcnode.ForTest(t)
	tr := playBitcoinTheft(t, n)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "args"), []byte(tr.args()), 0o644); err != nil {
		t.Fatal(err)
	}
	live, replay := t.TempDir(), t.TempDir()
	rec := filepath.Join(dir, "rpc.replay")
	code, _, stderr := runCLI(t, append([]string{"trace", "-q", "--rpc", n.URL, "--record", rec, "--out", live}, caseArgs(t, dir)...)...)
	if code != exitOK {
		t.Fatalf("live: exit %d:\n%s", code, stderr)
	}
	checkBTCTruth(t, tr, live)
	for _, f := range []string{"graph.json", "graph.dot", "transfers.csv", "report.md", "rpc.replay"} {
		p := filepath.Join(live, f)
		if f == "rpc.replay" {
			p = rec
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), n.Host) || strings.Contains(string(data), strings.Split(strings.TrimPrefix(n.URL, "http://"), "@")[0]) {
			t.Errorf("%s holds the node's address or credentials", f)
		}
	}
	code, _, stderr = runCLI(t, append([]string{"trace", "-q", "--replay", rec, "--out", replay}, caseArgs(t, dir)...)...)
	if code != exitOK {
		t.Fatalf("replay: exit %d:\n%s", code, stderr)
	}
	compareOutputs(t, live, replay)
}

// TestBitcoinBlockScan traces the theft on a btcd without an address
// index: the window's blocks are read once, the trace finds the same flow,
// and the report says why spends were found that way.
func TestBitcoinBlockScan(t *testing.T) {
	n := btcnode.ForTestWith(t, btcnode.Options{NoAddrIndex: true})
	tr := playBitcoinTheft(t, n)
	dir, out := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "args"), []byte(tr.args()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, append([]string{"trace", "-q", "--rpc", n.URL, "--out", out}, caseArgs(t, dir)...)...)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	checkBTCTruth(t, tr, out)
	var doc struct {
		Stats struct {
			BlocksScanned int64 `json:"blocks_scanned"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(readOutput(t, out, "graph.json"), &doc); err != nil {
		t.Fatal(err)
	}
	if want := int64(tr.To - tr.From + 1); doc.Stats.BlocksScanned != want {
		t.Errorf("%d blocks scanned, want each of the window's %d once", doc.Stats.BlocksScanned, want)
	}
	if report := string(readOutput(t, out, "report.md")); !strings.Contains(report, "spends found by block scan: the node keeps no address index") {
		t.Errorf("report.md does not say the blocks were scanned, and why:\n%s", report)
	}
}

// TestBitcoinExpandTransaction: a transaction left at the depth limit
// (as flowtrace serve's "expand one hop" asks) is followed with --expand
// tx:<txid>, its outputs reached one level further.
func TestBitcoinExpandTransaction(t *testing.T) {
	args := append([]string{"trace", "-q", "--replay", filepath.Join(btcTheft, "rpc.replay")}, caseArgs(t, btcTheft)...)
	nodes := func(out string, extra ...string) map[string]string {
		t.Helper()
		code, _, stderr := runCLI(t, append(append(slices.Clone(args), "--depth", "3", "--out", out), extra...)...)
		if code != exitIncomplete {
			t.Fatalf("exit %d, want %d (the depth limit):\n%s", code, exitIncomplete, stderr)
		}
		var doc struct {
			Nodes []struct{ Address, Stop string }
		}
		if err := json.Unmarshal(readOutput(t, out, "graph.json"), &doc); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, n := range doc.Nodes {
			m[n.Address] = n.Stop
		}
		return m
	}
	cut := nodes(t.TempDir())
	var hub string
	for a, stop := range cut {
		if strings.HasPrefix(a, bitcoin.TxPrefix) && stop == string(tracer.NodeDepth) {
			hub = a
		}
	}
	if hub == "" {
		t.Fatalf("no transaction at the depth limit: %v", cut)
	}
	grown := nodes(t.TempDir(), "--expand", hub)
	if grown[hub] != "" || len(grown) <= len(cut) {
		t.Errorf("expanding %s: its stop %q, %d nodes (were %d); want it followed and its outputs added", hub, grown[hub], len(grown), len(cut))
	}
}

// TestBitcoinIncident: a Bitcoin case as an incident file (the chain after
// the seeds) traces as the flags do; a seed of no Bitcoin network is
// refused with its line.
func TestBitcoinIncident(t *testing.T) {
	tr := readBTCTruth(t, btcTheft)
	dir := t.TempDir()
	write := func(name, seed string) string {
		p := filepath.Join(dir, name)
		yaml := fmt.Sprintf("seeds: [%s]\nchain: %s\nwindow: {from_block: %d, to_block: %d}\ndepth: 40\n", seed, tr.Chain, tr.From, tr.To)
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	out := t.TempDir()
	code, _, stderr := runCLI(t, "trace", "-q", "--incident", write("case.yaml", tr.Seed), "--replay", filepath.Join(btcTheft, "rpc.replay"), "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	compareWithWant(t, btcTheft, out)
	code, _, stderr = runCLI(t, "trace", "-q", "--incident", write("bad.yaml", goodSeed), "--replay", filepath.Join(btcTheft, "rpc.replay"), "--out", filepath.Join(dir, "none"))
	if code != exitUsage || !strings.Contains(stderr, "line 1: seeds: not a Bitcoin address") {
		t.Errorf("exit %d, %q; want exit 2 naming line 1 and the EVM address", code, stderr)
	}
}

// TestBitcoinBudget: an address budget cuts the Bitcoin trace short (exit
// 3) and the value accounting still adds up to the stolen amount, the rest
// as not followed.
func TestBitcoinBudget(t *testing.T) {
	tr := readBTCTruth(t, btcTheft)
	out := t.TempDir()
	code, _, stderr := runCLI(t, append([]string{"trace", "-q", "--replay", filepath.Join(btcTheft, "rpc.replay"), "--out", out}, append(caseArgs(t, btcTheft), "--max-addresses", "8")...)...)
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d:\n%s", code, exitIncomplete, stderr)
	}
	var doc struct {
		Summary struct {
			Assets []struct {
				Stolen  string
				Buckets map[string]string
			}
		}
	}
	if err := json.Unmarshal(readOutput(t, out, "graph.json"), &doc); err != nil {
		t.Fatal(err)
	}
	as := doc.Summary.Assets[0]
	sum := new(big.Int)
	for _, v := range as.Buckets {
		x, _ := new(big.Int).SetString(v, 10)
		sum.Add(sum, x)
	}
	if sum.String() != as.Stolen || as.Stolen != strconv.FormatInt(tr.Theft, 10) || as.Buckets[tracer.BucketBudget] == "" {
		t.Errorf("buckets %v add to %s of %s stolen; want all of %d, some not followed for the budget", as.Buckets, sum, as.Stolen, tr.Theft)
	}
}

// compareOutputs wants the same graph.json (elapsed times aside) and graph.dot in two output folders.
func compareOutputs(t *testing.T, want, got string) {
	t.Helper()
	for _, f := range []string{"want.json", "want.dot"} {
		src := map[string]string{"want.json": "graph.json", "want.dot": "graph.dot"}[f]
		if err := os.WriteFile(filepath.Join(want, f), readOutput(t, want, src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	compareWithWant(t, want, got)
}

func readBTCTruth(t *testing.T, dir string) *btcTruth {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, btcTruthFile))
	if err != nil {
		t.Fatalf("no recorded Bitcoin case: run make fixtures (%v)", err)
	}
	var tr btcTruth
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatal(err)
	}
	return &tr
}

// checkBTCTruth compares a Bitcoin trace's graph.json with the truth.
func checkBTCTruth(t *testing.T, tr *btcTruth, out string) {
	t.Helper()
	var doc struct {
		Chain string `json:"chain"`
		Nodes []struct {
			Address, Category, Stop string
		} `json:"nodes"`
		Patterns []struct {
			Kind   string            `json:"kind"`
			Detail map[string]string `json:"detail"`
		} `json:"patterns"`
		Summary struct {
			Assets []struct {
				Asset, Symbol, Stolen string
				Decimals              int
				Buckets               map[string]string
			} `json:"assets"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(readOutput(t, out, "graph.json"), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Chain != tr.Chain {
		t.Errorf("chain %q, want %q", doc.Chain, tr.Chain)
	}
	addrs, cats, stops := map[string]bool{}, map[string]string{}, map[string]string{}
	for _, n := range doc.Nodes {
		addrs[n.Address], cats[n.Address], stops[n.Address] = true, n.Category, n.Stop
	}
	for _, a := range append([]string{tr.Seed}, tr.Stolen...) {
		if !addrs[a] {
			t.Errorf("missing stolen %s (%s)", a, tr.Roles[a])
		}
	}
	for _, a := range append(slices.Clone(tr.Noise), tr.Beyond...) {
		if addrs[a] {
			t.Errorf("traced %s (%s), which received no stolen value", a, tr.Roles[a])
		}
	}
	for a := range addrs {
		known := a == tr.Seed || slices.Contains(tr.Stolen, a) || strings.HasPrefix(a, bitcoin.TxPrefix) || a == string(bitcoin.FeeAddress)
		if !known {
			t.Errorf("traced %s, which the truth does not know (%s)", a, tr.Roles[a])
		}
		if strings.HasPrefix(a, bitcoin.TxPrefix) && a != string(bitcoin.TxAddress(tr.CoinJoin)) && cats[a] != string(tracer.CategoryTransaction) {
			t.Errorf("%s: category %q, want transaction", a, cats[a])
		}
	}
	if cj := string(bitcoin.TxAddress(tr.CoinJoin)); cats[cj] != string(tracer.CategoryMixer) || stops[cj] != string(tracer.NodeTerminal) {
		t.Errorf("the CoinJoin %s: category %q stop %q, want a mixer terminal", cj, cats[cj], stops[cj])
	}
	found := map[string]bool{}
	for _, p := range doc.Patterns {
		switch {
		case p.Kind == "peel_chain" && p.Detail["rest_at"] == tr.PeelEnd && p.Detail["length"] == "3",
			p.Kind == "fan_out" && p.Detail["source"] == string(bitcoin.TxAddress(tr.ScatterTx)),
			p.Kind == "fan_in" && p.Detail["sink"] == tr.Consolidation,
			p.Kind == "mixer":
			found[p.Kind] = true
		}
	}
	for _, k := range []string{"peel_chain", "fan_out", "fan_in", "mixer"} {
		if !found[k] {
			t.Errorf("the planted %s is not among the patterns %+v", k, doc.Patterns)
		}
	}
	if len(doc.Summary.Assets) != 1 {
		t.Fatalf("summary: %d assets, want BTC only", len(doc.Summary.Assets))
	}
	as := doc.Summary.Assets[0]
	if as.Symbol != "BTC" || as.Decimals != 8 || as.Stolen != strconv.FormatInt(tr.Theft, 10) {
		t.Errorf("summary: %s stolen with %d decimals, %s sats; want BTC, 8, %d", as.Symbol, as.Decimals, as.Stolen, tr.Theft)
	}
	sum := new(big.Int)
	for b, v := range as.Buckets {
		x, ok := new(big.Int).SetString(v, 10)
		if !ok {
			t.Fatalf("bucket %s: %q", b, v)
		}
		sum.Add(sum, x)
	}
	if sum.Cmp(big.NewInt(tr.Theft)) != 0 {
		t.Errorf("buckets %v add to %s, stolen %d", as.Buckets, sum, tr.Theft)
	}
	if as.Buckets[tracer.BucketFees] != strconv.FormatInt(tr.Fees, 10) || as.Buckets[tracer.BucketMixer] != strconv.FormatInt(tr.Mixed, 10) {
		t.Errorf("buckets %v: want fees %d and mixer %d", as.Buckets, tr.Fees, tr.Mixed)
	}
}

// TestBitcoinBadInput: bad input for a Bitcoin trace is one line naming
// what to change, exit 2 (1 for a node that does not answer), and no
// output folder.
func TestBitcoinBadInput(t *testing.T) {
	t.Setenv(bitcoinRPCEnv, "")
	tr := readBTCTruth(t, btcTheft)
	replay := []string{"--replay", filepath.Join(btcTheft, "rpc.replay"), "--from-block", strconv.FormatUint(tr.From, 10)}
	const mainnetAddr = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	noTxIndex := func() []string {
		n := btcnode.ForTestWith(t, btcnode.Options{NoTxIndex: true})
		if _, err := n.Mine(context.Background(), 3); err != nil {
			t.Fatal(err)
		}
		return []string{"--rpc", n.URL, "--from-block", "1", "--seed", "bcrt1q0pag3ljvt6h5myxvgshtwn90gw3zsxgvv5glqc"}
	}
	for _, tc := range []struct {
		name string
		args func() []string
		code int
		want string
	}{
		{"mainnet address on regtest", func() []string { return append([]string{"--seed", mainnetAddr}, replay...) }, exitUsage,
			`--seed: "` + mainnetAddr + `" is a mainnet address, but the node serves regtest`},
		{"EVM address for bitcoin", func() []string { return append([]string{"--seed", goodSeed}, replay...) }, exitUsage,
			"is an Ethereum (EVM) address"},
		{"Bitcoin address for ethereum", func() []string {
			return []string{"--chain", "ethereum", "--seed", mainnetAddr, "--from-block", "1", "--rpc", "http://127.0.0.1:1/"}
		}, exitUsage, "is a Bitcoin address: pass --chain bitcoin"},
		{"typo in the address", func() []string { return append([]string{"--seed", tr.Seed[:len(tr.Seed)-1] + "x"}, replay...) }, exitUsage,
			"is not a valid bech32 address"},
		{"node of another network", func() []string {
			return []string{"--chain", "bitcoin", "--seed", mainnetAddr, "--replay", filepath.Join(btcTheft, "rpc.replay"), "--from-block", "1"}
		}, exitUsage, "the node serves bitcoin-regtest (getblockchaininfo chain \"regtest\"), not bitcoin: pass --chain bitcoin-regtest"},
		{"window past the tip", func() []string { return append([]string{"--seed", tr.Seed, "--to-block", "100000"}, replay...) }, exitUsage,
			"--to-block 100000 is past the node's head"},
		{"a transaction as a seed", func() []string { return append([]string{"--seed", "tx:" + tr.CoinJoin}, replay...) }, exitUsage,
			"is a transaction: give the addresses it paid"},
		{"theft tx in EVM form", func() []string {
			return append([]string{"--seed", tr.Seed, "--theft-tx", "0x" + tr.CoinJoin}, replay...)
		}, exitUsage,
			"want a transaction id of 64 hex digits"},
		{"a node for another chain", func() []string {
			return []string{"--seed", tr.Seed, "--from-block", "1", "--rpc", "ethereum=http://u:secretpw@127.0.0.1:1/"}
		}, exitUsage, "--rpc ethereum=URL: no bridge is followed from bitcoin-regtest to ethereum yet (followed: thorchain from evm to bitcoin chains; across, stargate from evm to evm chains)"},
		{"unknown chain in --rpc", func() []string {
			return []string{"--seed", tr.Seed, "--from-block", "1", "--rpc", "dogecoin=http://u:secretpw@127.0.0.1:1/"}
		}, exitUsage, `--rpc dogecoin=URL: unknown chain "dogecoin"`},
		{"two nodes", func() []string {
			return []string{"--seed", tr.Seed, "--from-block", "1", "--rpc", "http://127.0.0.1:1/", "--rpc", "bitcoin-regtest=http://127.0.0.1:2/"}
		}, exitUsage, "a Bitcoin trace takes one node for now"},
		{"no node", func() []string { return []string{"--seed", tr.Seed, "--from-block", "1"} }, exitUsage,
			"no node: give --rpc URL or set BTC_RPC_URL"},
		{"unreachable node", func() []string {
			return []string{"--seed", tr.Seed, "--from-block", "1", "--rpc", "http://u:secretpw@127.0.0.1:1/", "--request-timeout", "2s"}
		}, exitError, "check that the node is up and --rpc (or BTC_RPC_URL) is right"},
		{"node without txindex", noTxIndex, exitUsage, "-txindex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"trace", "-q", "--chain", "bitcoin-regtest", "--out", out}, tc.args()...)
			code, stdout, stderr := runCLI(t, args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d with %q", code, stderr, tc.code, tc.want)
			}
			if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines != 1 {
				t.Errorf("%d lines on stderr, want one:\n%s", lines, stderr)
			}
			if strings.Contains(stderr+stdout, "secretpw") {
				t.Errorf("the node's password is printed: %s", stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("the output folder was written (%v)", err)
			}
		})
	}
}
