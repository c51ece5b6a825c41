package bitcoin

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/renameio/v2"

	"github.com/flowtrace/flowtrace/chains/bitcoin/utxo"
	"github.com/flowtrace/flowtrace/chains/rpcreplay"
	"github.com/flowtrace/flowtrace/fixtures/btcnode"
)

var record = flag.Bool("record", false, "rewrite testdata/regtest from a live btcd")

// fixtureDir holds the recorded traffic (rpc.replay) and the case
// (case.json: the window, the addresses asked, and what the harness sent).
const fixtureDir = "testdata/regtest"

// fixtureCase is what a test asks and what it must get.
type fixtureCase struct {
	From, To  uint64
	Addresses []string // asked with AddressTxs
	Memo      string   // the OP_RETURN searched for
	MemoAfter int64    // its time bound
	CoinJoin  string   // the Whirlpool-shaped transaction the harness sent
	Want      want
	// Walked is the live walk of the Source from Addresses[0] (recorded,
	// the data layer's answer): the replayed walk must equal it.
	Walked []walkView
}

// want is the harness's account of what it sent (never the data layer's).
type want struct {
	Probe     probeView
	Txs       []utxo.Tx           // every non-coinbase tx of the window, by txid
	ByAddress map[string][]string // txids paying or spending each address, oldest first
	OpReturn  []string            // txids carrying Memo
}

type probeView struct {
	Chain              string
	TxIndex, AddrIndex bool
	RegtestParams      bool // the probe mapped the chain to btcd's regtest parameters
	Batch              bool
	Spends             SpendMethod
}

// observe runs the data layer over the case: probe, block scan, address
// index and OP_RETURN search.
func observe(ctx context.Context, t *testing.T, c *Client, fc fixtureCase) want {
	t.Helper()
	p, err := c.ProbeNode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckWindow(int64(fc.From)); err != nil {
		t.Fatal(err)
	}
	got := want{
		Probe:     probeView{Chain: p.Chain, TxIndex: p.TxIndex, AddrIndex: p.AddrIndex, RegtestParams: p.Params.Name == "regtest", Batch: p.Batch, Spends: p.Spends},
		ByAddress: map[string][]string{},
	}
	s := NewScanner(c, ScanOptions{BlocksPerBatch: 2})
	if err := s.Read(ctx, fc.From, fc.To); err != nil {
		t.Fatal(err)
	}
	if err := s.Read(ctx, fc.From, fc.To); err != nil { // read again: no node traffic
		t.Fatal(err)
	}
	if n := s.Reads(); n != int(fc.To-fc.From+1) {
		t.Errorf("the scan read %d blocks from the node for a window of %d", n, fc.To-fc.From+1)
	}
	for h := fc.From; h <= fc.To; h++ {
		b := s.Block(h)
		if b == nil || b.Time == 0 || len(b.Txs) == 0 || !b.Txs[0].Inputs[0].Coinbase {
			t.Fatalf("block %d: %+v", h, b)
		}
		for _, tx := range b.Txs[1:] {
			if tx.Time != b.Time || tx.Block != h {
				t.Errorf("tx %s: block %d time %d, want %d %d", tx.TxID, tx.Block, tx.Time, h, b.Time)
			}
			got.Txs = append(got.Txs, tx)
		}
	}
	for _, a := range fc.Addresses {
		txs, err := c.AddressTxs(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tx := range txs {
			ids = append(ids, tx.TxID)
			// The address index's view of a tx equals the block scan's.
			b := s.Block(tx.Block)
			i := slices.IndexFunc(b.Txs, func(x utxo.Tx) bool { return x.TxID == tx.TxID })
			if i < 0 {
				t.Errorf("%s: tx %s not in block %d", a, tx.TxID, tx.Block)
				continue
			}
			tx.Index = i
			if d := cmp.Diff(b.Txs[i], tx); d != "" {
				t.Errorf("tx %s from the address index differs from the block scan (-scan +index):\n%s", tx.TxID, d)
			}
		}
		got.ByAddress[a] = ids
		// The scan answers the same for spends and payments.
		var scanned []string
		for _, tx := range s.Paying(fc.From, fc.To, []string{a}) {
			scanned = append(scanned, tx.TxID)
		}
		for _, tx := range s.Spending(fc.From, fc.To, []string{a}) {
			if !slices.Contains(scanned, tx.TxID) {
				scanned = append(scanned, tx.TxID)
			}
		}
		if !slices.Equal(scanned, ids) {
			t.Errorf("%s: the scan finds %v, the address index %v", a, scanned, ids)
		}
	}
	for _, tx := range s.OpReturns(fc.From, fc.To, fc.MemoAfter, func(d []byte) bool { return string(d) == fc.Memo }) {
		got.OpReturn = append(got.OpReturn, tx.TxID)
	}
	if none := s.OpReturns(fc.From, fc.To, 1<<62, func([]byte) bool { return true }); len(none) != 0 {
		t.Errorf("OP_RETURN search after the window's time found %d txs", len(none))
	}
	for i := range got.Txs {
		got.Txs[i].Time, got.Txs[i].Index = 0, 0
	}
	slices.SortFunc(got.Txs, func(a, b utxo.Tx) int { return strings.Compare(a.TxID, b.TxID) })
	return got
}

// expectTx is what a sent transaction must read as, from the harness's
// own record of it (block time and index are the node's, not compared).
func expectTx(t *testing.T, s *btcnode.Sent, height uint64) utxo.Tx {
	t.Helper()
	addr := func(script []byte) string {
		_, addrs, _, err := txscript.ExtractPkScriptAddrs(script, btcnode.Params)
		if err != nil || len(addrs) != 1 {
			return ""
		}
		return addrs[0].EncodeAddress()
	}
	tx := utxo.Tx{TxID: s.TxID(), Block: height}
	for i, in := range s.Tx.TxIn {
		tx.Inputs = append(tx.Inputs, utxo.Input{
			Prev:    utxo.Outpoint{TxID: in.PreviousOutPoint.Hash.String(), Vout: in.PreviousOutPoint.Index},
			Address: addr(s.Prev[i].PkScript), Value: s.Prev[i].Value,
		})
	}
	for i, out := range s.Tx.TxOut {
		o := utxo.Output{Index: uint32(i), Value: out.Value, ScriptType: txscript.GetScriptClass(out.PkScript).String(), Address: addr(out.PkScript)}
		if o.ScriptType == "nulldata" {
			pushes, err := txscript.PushedData(out.PkScript[1:])
			if err != nil {
				t.Fatal(err)
			}
			o.OpReturn = bytes.Join(pushes, nil)
		}
		tx.Outputs = append(tx.Outputs, o)
	}
	return tx
}

// play sends the case's transactions on a fresh node: a payment, a scatter
// into five wallets, a peel off one of them, and a vault payout with an
// OUT:<hash> memo.
func play(ctx context.Context, t *testing.T, n *btcnode.Node) fixtureCase {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	key := func() *btcnode.Key {
		k, err := btcnode.NewKey()
		must(err)
		n.Track(k)
		return k
	}
	_, err := n.Mine(ctx, btcnode.CoinbaseMaturity+2)
	must(err)
	tip, err := n.Height(ctx)
	must(err)
	fc := fixtureCase{From: uint64(tip + 1), Want: want{Probe: probeView{Chain: "regtest", TxIndex: true, AddrIndex: true, RegtestParams: true, Batch: true, Spends: SpendsByAddrIndex}, ByAddress: map[string][]string{}}}
	var sent []*btcnode.Sent
	var heights []uint64
	fees := map[string]int64{}
	send := func(from *btcnode.Key, fee int64, outs ...btcnode.Out) *btcnode.Sent {
		t.Helper()
		s, err := n.Send(ctx, from, fee, outs...)
		must(err)
		sent = append(sent, s)
		fees[s.TxID()] = fee
		return s
	}
	mine := func() {
		t.Helper()
		_, err := n.Mine(ctx, 1)
		must(err)
		h, err := n.Height(ctx)
		must(err)
		for len(heights) < len(sent) {
			heights = append(heights, uint64(h))
		}
	}
	victim, vault, dest, peel := key(), key(), key(), key()
	pay := send(n.Miner, 1000, btcnode.Out{Address: victim.Address(), Value: 2e8})
	mine()
	var outs []btcnode.Out
	var wallets []*btcnode.Key
	for range 5 {
		k := key()
		wallets = append(wallets, k)
		outs = append(outs, btcnode.Out{Address: k.Address(), Value: 3e7})
	}
	scatter := send(victim, 2000, outs...)
	fund := send(n.Miner, 1000, btcnode.Out{Address: vault.Address(), Value: 5e8})
	mine()
	memo := "OUT:" + strings.Repeat("AB12", 16)
	payout := send(vault, 1500, btcnode.Out{Address: dest.Address(), Value: 15e7}, btcnode.Out{Data: []byte(memo)})
	peeled := send(wallets[0], 700, btcnode.Out{Address: peel.Address(), Value: 1e7})
	// A Whirlpool-shaped CoinJoin in the same block as its funding: five
	// inputs (one of the 0.01 BTC pool exactly, four carrying the fee),
	// five outputs of the pool to fresh wallets.
	const pool, mixFee = 1_000_000, 2000
	mixer := key()
	premix := []btcnode.Out{{Address: mixer.Address(), Value: pool}}
	for range 4 {
		premix = append(premix, btcnode.Out{Address: mixer.Address(), Value: pool + mixFee/4})
	}
	send(wallets[1], 1000, premix...)
	var mixed []btcnode.Out
	for range 5 {
		mixed = append(mixed, btcnode.Out{Address: key().Address(), Value: pool})
	}
	coinjoin := send(mixer, mixFee, mixed...)
	if len(coinjoin.Tx.TxIn) != 5 || len(coinjoin.Tx.TxOut) != 5 {
		t.Fatalf("harness: the CoinJoin has %d inputs, %d outputs", len(coinjoin.Tx.TxIn), len(coinjoin.Tx.TxOut))
	}
	mine()
	tip, err = n.Height(ctx)
	must(err)
	fc.To = uint64(tip)
	fc.Memo = memo
	fc.CoinJoin = coinjoin.TxID()
	fc.Addresses = []string{victim.Address(), wallets[0].Address(), dest.Address()}
	fc.Want.ByAddress[victim.Address()] = []string{pay.TxID(), scatter.TxID()}
	fc.Want.ByAddress[wallets[0].Address()] = []string{scatter.TxID(), peeled.TxID()}
	fc.Want.ByAddress[dest.Address()] = []string{payout.TxID()}
	fc.Want.OpReturn = []string{payout.TxID()}
	_ = fund
	for i, s := range sent {
		tx := expectTx(t, s, heights[i])
		if tx.Fee() != fees[s.TxID()] {
			t.Fatalf("harness: tx %s pays fee %d, sent with %d", s.TxID(), tx.Fee(), fees[s.TxID()])
		}
		fc.Want.Txs = append(fc.Want.Txs, tx)
	}
	slices.SortFunc(fc.Want.Txs, func(a, b utxo.Tx) int { return strings.Compare(a.TxID, b.TxID) })
	return fc
}

func TestLiveBtcd(t *testing.T) {
	n := btcnode.ForTest(t)
	ctx := context.Background()
	fc := play(ctx, t, n)
	rec := rpcreplay.NewRecorder(http.DefaultTransport)
	c, err := Dial(n.URL, Options{Transport: rec, BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	got := observe(ctx, t, c, fc)
	if d := cmp.Diff(fc.Want, got); d != "" {
		t.Fatalf("the data layer's view differs from what was sent (-sent +read):\n%s", d)
	}
	for _, tx := range got.Txs {
		if tx.Fee() <= 0 {
			t.Errorf("tx %s reads with fee %d", tx.TxID, tx.Fee())
		}
	}
	fc.Walked = walkCase(ctx, t, c, fc)
	if !*record {
		return
	}
	var file bytes.Buffer
	if _, err := rec.WriteTo(&file); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file.Bytes(), []byte(n.Host)) || strings.Contains(file.String(), strings.Split(strings.TrimPrefix(n.URL, "http://"), "@")[0]) {
		t.Fatal("the recording holds the node's address or credentials")
	}
	caseJSON, err := json.MarshalIndent(fc, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(fixtureDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"rpc.replay": file.Bytes(), "case.json": append(caseJSON, '\n')} {
		if err := renameio.WriteFile(filepath.Join(fixtureDir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Fprintf(os.Stderr, "recorded %d entries into %s\n", rec.Len(), fixtureDir)
}

func TestReplayBtcd(t *testing.T) {
	fc, rp := loadCase(t)
	c, err := Dial("http://replay.invalid/", Options{Transport: rp, BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	got := observe(context.Background(), t, c, fc)
	if d := cmp.Diff(fc.Want, got); d != "" {
		t.Fatalf("replayed view differs from what was sent (-sent +read):\n%s", d)
	}
	// The Source's walk, replayed, equals the live one.
	if d := cmp.Diff(fc.Walked, walkCase(context.Background(), t, c, fc)); d != "" {
		t.Errorf("the replayed walk differs from the live one (-live +replayed):\n%s", d)
	}
	if u := rp.Unused(); len(u) > 0 {
		t.Errorf("recorded calls never asked: %v", u)
	}
	if len(fc.Want.Txs) < 5 {
		t.Fatalf("the case holds %d txs", len(fc.Want.Txs))
	}
}
