package bitcoin

import (
	"context"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/chains/bitcoin/utxo"
	"github.com/flowtrace/flowtrace/tracer"
)

// preloaded is a Source whose scanner already holds blocks (pure logic:
// the walk never reaches the node).
func preloaded(t testing.TB, blocks ...*Block) *Source {
	t.Helper()
	c, err := Dial("http://node.invalid/", Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSource(c, &Probe{Spends: SpendsByBlockScan}, SourceOptions{})
	for _, b := range blocks {
		s.scanner.addLocked(b)
	}
	return s
}

func pay(txid string, block uint64, index int, ins []utxo.Input, outs ...utxo.Output) utxo.Tx {
	for i := range outs {
		outs[i].Index = uint32(i)
	}
	return utxo.Tx{TxID: txid, Block: block, Index: index, Inputs: ins, Outputs: outs}
}

// A transaction's hub: inputs in, outputs and fee out, value conserved;
// OP_RETURN outputs and coinbase inputs move nothing.
func TestSourceHub(t *testing.T) {
	tx := pay("aa", 7, 2,
		[]utxo.Input{{Address: "in0", Value: 300}, {Address: "in1", Value: 200}},
		utxo.Output{Address: "out0", Value: 100}, utxo.Output{Value: 0, OpReturn: []byte("OUT:x")}, utxo.Output{Address: "out2", Value: 390})
	s := preloaded(t)
	type edge struct {
		From, To string
		Seq      int
		Sats     int64
		ID       string
	}
	var got []edge
	for _, x := range s.hub(&tx) {
		if x.TxHash != "aa" || x.BlockNumber != 7 || x.TxIndex != 2 || x.Asset != tracer.NativeAsset || x.Chain != "bitcoin" {
			t.Errorf("transfer %+v", x)
		}
		got = append(got, edge{string(x.From), string(x.To), x.Seq, x.Amount.Int64(), x.ID()})
	}
	want := []edge{
		{"in0", "tx:aa", 0, 300, "aa/call:0"},
		{"in1", "tx:aa", 1, 200, "aa/call:1"},
		{"tx:aa", "out0", 2, 100, "aa/call:2"},
		{"tx:aa", "out2", 4, 390, "aa/call:4"},
		{"tx:aa", string(FeeAddress), 5, 10, "aa/call:5"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("hub (-want +got):\n%s", d)
	}
	coinbase := pay("cb", 7, 0, []utxo.Input{{Coinbase: true}}, utxo.Output{Address: "miner", Value: 50})
	if h := s.hub(&coinbase); len(h) != 1 || h[0].To != "miner" || h[0].From != "tx:cb" {
		t.Errorf("coinbase hub %+v", h)
	}
	// Address reuse: the output back to an input's address is change.
	reuse := pay("bb", 8, 1, []utxo.Input{{Address: "w", Value: 1000}},
		utxo.Output{Address: "x", Value: 600}, utxo.Output{Address: "w", Value: 390})
	for _, x := range s.hub(&reuse) {
		isChange := x.Annotations[AnnChange] != ""
		if isChange != (x.To == "w") || (isChange && x.Annotations[AnnChangeConfidence] < "0.95") {
			t.Errorf("change guess on %s -> %s: %v", x.From, x.To, x.Annotations)
		}
	}
	d, err := s.Describe(context.Background(), []tracer.Address{"tx:aa", "out0", FeeAddress}, nil)
	if err != nil || !d.Accounts["tx:aa"].IsContract || d.Accounts["out0"].IsContract || d.Accounts[FeeAddress].IsContract || len(d.Tokens) != 0 {
		t.Errorf("Describe: %+v %v", d, err)
	}
}

// The taint models act per transaction: the seed spends a stolen coin and a
// known clean one together; poison-first and FIFO give the stolen value to
// the first outputs, haircut shares it pro rata.
func TestSourceTaintPerTx(t *testing.T) {
	theft := pay("01", 10, 1, []utxo.Input{{Address: "thief-src", Value: 5e8}},
		utxo.Output{Address: "seed", Value: 2e8}, utxo.Output{Address: "thief-src", Value: 299_990_000})
	clean := pay("02", 11, 1, []utxo.Input{{Address: "salary", Value: 1e8 + 10_000}},
		utxo.Output{Address: "seed", Value: 1e8})
	spend := pay("03", 12, 1, []utxo.Input{
		{Prev: utxo.Outpoint{TxID: "01", Vout: 0}, Address: "seed", Value: 2e8},
		{Prev: utxo.Outpoint{TxID: "02", Vout: 0}, Address: "seed", Value: 1e8},
	}, utxo.Output{Address: "a", Value: 15e7}, utxo.Output{Address: "b", Value: 149_990_000})
	blocks := []*Block{
		{Height: 10, Txs: []utxo.Tx{theft}}, {Height: 11, Txs: []utxo.Tx{clean}}, {Height: 12, Txs: []utxo.Tx{spend}},
	}
	want := map[string]map[tracer.Address]int64{
		"poison":  {"a": 15e7, "b": 5e7, FeeAddress: 0},
		"fifo":    {"a": 15e7, "b": 5e7, FeeAddress: 0},
		"haircut": {"a": 1e8, "b": 99_993_333, FeeAddress: 6_667},
	}
	for _, m := range tracer.TaintModels() {
		s := preloaded(t, blocks...)
		tr, err := tracer.Walk(context.Background(), s, tracer.Options{
			Chain: "bitcoin", Seeds: []tracer.Address{"seed"}, Window: tracer.BlockRange{From: 10, To: 12},
			Taint: m, TheftTxs: []string{"01"}, Labels: s.Labels(),
		})
		if err != nil {
			t.Fatalf("%s: %v", m.Name(), err)
		}
		got := map[tracer.Address]int64{FeeAddress: 0}
		for _, x := range tr.Transfers {
			if x.From == "tx:03" {
				got[x.To] = x.Tainted.Int64()
			}
		}
		if d := cmp.Diff(want[m.Name()], got); d != "" {
			t.Errorf("%s: stolen sats per output of the spend (-want +got):\n%s", m.Name(), d)
		}
		total := new(big.Int)
		for _, x := range tr.Summary.Assets[0].Buckets {
			total.Add(total, x)
		}
		if total.Int64() != 2e8 || tr.Summary.Assets[0].Stolen.Int64() != 2e8 {
			t.Errorf("%s: stolen %s, buckets add to %s; want 2e8 both", m.Name(), tr.Summary.Assets[0].Stolen, total)
		}
	}
}

// Change paid back to a seed is not stolen value, even when the walk stops
// before the transaction's hub is expanded.
func TestSourceSeedChange(t *testing.T) {
	theft := pay("01", 10, 1, []utxo.Input{{Address: "thief-src", Value: 5e8}}, utxo.Output{Address: "seed", Value: 2e8})
	spend := pay("03", 11, 1, []utxo.Input{{Prev: utxo.Outpoint{TxID: "01"}, Address: "seed", Value: 2e8}},
		utxo.Output{Address: "a", Value: 5e7}, utxo.Output{Address: "seed", Value: 149_990_000})
	for _, depth := range []int{1, 0} {
		s := preloaded(t, &Block{Height: 10, Txs: []utxo.Tx{theft}}, &Block{Height: 11, Txs: []utxo.Tx{spend}})
		tr, err := tracer.Walk(context.Background(), s, tracer.Options{
			Chain: "bitcoin", Seeds: []tracer.Address{"seed"}, Window: tracer.BlockRange{From: 10, To: 11}, MaxDepth: depth,
		})
		if err != nil {
			t.Fatalf("depth %d: %v", depth, err)
		}
		if got := tr.Summary.Assets[0].Stolen.Int64(); got != 2e8 {
			t.Errorf("depth %d: stolen %d, want the theft's 2e8 (the change back is no new value)", depth, got)
		}
	}
}

// The other inputs of a transaction, spent from outside the trace, are
// clean value in its hub: haircut shares the stolen value pro rata over the
// outputs, poison-first gives it to the first ones.
func TestSourceOutsideInputs(t *testing.T) {
	theft := pay("01", 10, 1, []utxo.Input{{Address: "thief-src", Value: 5e8}}, utxo.Output{Address: "seed", Value: 2e8})
	spend := pay("03", 12, 1, []utxo.Input{
		{Prev: utxo.Outpoint{TxID: "01", Vout: 0}, Address: "seed", Value: 2e8},
		{Prev: utxo.Outpoint{TxID: "00", Vout: 0}, Address: "outsider", Value: 1e8},
	}, utxo.Output{Address: "a", Value: 15e7}, utxo.Output{Address: "b", Value: 149_990_000})
	want := map[string]map[tracer.Address]int64{
		"poison":  {"a": 15e7, "b": 5e7, FeeAddress: 0},
		"fifo":    {"a": 15e7, "b": 5e7, FeeAddress: 0},
		"haircut": {"a": 1e8, "b": 99_993_333, FeeAddress: 6_667},
	}
	for _, m := range tracer.TaintModels() {
		s := preloaded(t, &Block{Height: 10, Txs: []utxo.Tx{theft}}, &Block{Height: 11}, &Block{Height: 12, Txs: []utxo.Tx{spend}})
		tr, err := tracer.Walk(context.Background(), s, tracer.Options{
			Chain: "bitcoin", Seeds: []tracer.Address{"seed"}, Window: tracer.BlockRange{From: 10, To: 12}, Taint: m,
		})
		if err != nil {
			t.Fatalf("%s: %v", m.Name(), err)
		}
		got := map[tracer.Address]int64{FeeAddress: 0}
		for _, x := range tr.Transfers {
			if x.From == "tx:03" {
				got[x.To] = x.Tainted.Int64()
			}
		}
		if d := cmp.Diff(want[m.Name()], got); d != "" {
			t.Errorf("%s: stolen sats per output (-want +got):\n%s", m.Name(), d)
		}
		if !slices.ContainsFunc(tr.Skipped, func(k tracer.Skip) bool { return k.ID == "03/call:1" && strings.Contains(k.Reason, "clean inflow") }) {
			t.Errorf("%s: the outsider's input is not listed as a clean inflow: %+v", m.Name(), tr.Skipped)
		}
		if tr.Summary.Assets[0].Stolen.Int64() != 2e8 {
			t.Errorf("%s: stolen %s", m.Name(), tr.Summary.Assets[0].Stolen)
		}
	}
}
