package bitcoin

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/chains/bitcoin/utxo"
)

func TestSatoshis(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"50", 50e8, false},
		{"0.00000001", 1, false},
		{"1e-05", 1000, false},
		{"1.5E-7", 15, false},
		{"20999999.9769", 2099999997690000, false},
		{"0.3", 3e7, false},
		{"0", 0, false},
		{"0.000000001", 0, true}, // beyond satoshis
		{"-1", 0, true},
		{"", 0, true},
		{"21000001", 0, true},
		{"1.2.3", 0, true},
	} {
		got, err := Satoshis(json.Number(tt.in))
		if tt.bad != (err != nil) || got != tt.want {
			t.Errorf("Satoshis(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// The blocks btcd answered (getblock verbosity 2: transactions under
// "rawtx", inputs without their spent outputs) convert into the txs the
// harness sent once inputs are filled from the window and the recorded
// getrawtransaction answers.
func TestToTxRecordedBlocks(t *testing.T) {
	fc, _ := loadCase(t)
	prev := map[string]*utxo.Tx{}
	for _, raw := range recorded(t, "getrawtransaction") {
		var r RawTx
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		tx, missing, err := ToTx(&r, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(missing) != 0 && !tx.Inputs[0].Coinbase {
			t.Fatalf("getrawtransaction %s: inputs %v without spent output", r.TxID, missing)
		}
		prev[tx.TxID] = &tx
	}
	var blocks []*RawBlock
	for _, raw := range recorded(t, "getblock", "3") {
		var b RawBlock
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		if err := b.normalize(); err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, &b)
	}
	slices.SortFunc(blocks, func(a, b *RawBlock) int { return int(a.Height - b.Height) }) // the file is sorted by hash
	var got []utxo.Tx
	for _, b := range blocks {
		for i, r := range b.Txs {
			tx, missing, err := ToTx(r, uint64(b.Height), b.Time, i)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				if !tx.Inputs[0].Coinbase || tx.Fee() != 0 {
					t.Errorf("block %d: first tx is not a coinbase", b.Height)
				}
				continue
			}
			prev[tx.TxID] = &tx
			if tx.Time != b.Time || tx.Block != uint64(b.Height) || tx.Index != i {
				t.Errorf("tx %s placed at %d/%d/%d", tx.TxID, tx.Block, tx.Time, tx.Index)
			}
			if still := FillInputs(&tx, missing, func(id string) *utxo.Tx { return prev[id] }); len(still) > 0 {
				t.Fatalf("tx %s: %v not recorded", tx.TxID, still)
			}
			tx.Time, tx.Index = 0, 0
			got = append(got, tx)
		}
	}
	slices.SortFunc(got, func(a, b utxo.Tx) int { return strings.Compare(a.TxID, b.TxID) })
	if d := cmp.Diff(fc.Want.Txs, got); d != "" {
		t.Errorf("recorded blocks decode differently from what was sent (-sent +decoded):\n%s", d)
	}
	var memo int
	for _, tx := range got {
		for _, o := range tx.Outputs {
			if o.ScriptType == "nulldata" {
				memo++
				if string(o.OpReturn) != fc.Memo || o.Address != "" || o.Value != 0 {
					t.Errorf("OP_RETURN output %+v, want memo %q", o, fc.Memo)
				}
			}
		}
	}
	if memo != 1 {
		t.Errorf("%d OP_RETURN outputs, want 1", memo)
	}
}

// btcd's searchrawtransactions with vinextra=1 gives every input its spent
// address and value.
func TestToTxRecordedVinExtra(t *testing.T) {
	fc, _ := loadCase(t)
	want := map[string]utxo.Tx{}
	for _, tx := range fc.Want.Txs {
		want[tx.TxID] = tx
	}
	n := 0
	for _, raw := range recorded(t, "searchrawtransactions") {
		var rs []*RawTx
		if err := json.Unmarshal(raw, &rs); err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			tx, missing, err := ToTx(r, 0, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[tx.TxID]
			if !ok {
				continue // the probe's coinbase
			}
			n++
			if len(missing) != 0 {
				t.Errorf("tx %s: inputs %v without vinextra", tx.TxID, missing)
			}
			if d := cmp.Diff(w.Inputs, tx.Inputs); d != "" {
				t.Errorf("tx %s inputs (-sent +decoded):\n%s", tx.TxID, d)
			}
			if tx.Fee() != w.Fee() {
				t.Errorf("tx %s: fee %d, want %d", tx.TxID, tx.Fee(), w.Fee())
			}
		}
	}
	if n < 4 {
		t.Errorf("only %d recorded address-index txs checked", n)
	}
}

func TestToTxRejects(t *testing.T) {
	for name, raw := range map[string]string{
		"no txid":      `{"vin":[],"vout":[]}`,
		"bad value":    `{"txid":"ab","vout":[{"value":"x","n":0,"scriptPubKey":{"type":"pubkeyhash"}}]}`,
		"bad opreturn": `{"txid":"ab","vout":[{"value":0,"n":0,"scriptPubKey":{"type":"nulldata","hex":"51"}}]}`,
	} {
		var r RawTx
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			continue // undecodable is rejected too
		}
		if _, _, err := ToTx(&r, 1, 1, 0); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, raw := range map[string]string{
		"txids at verbosity 3": `{"hash":"ab","height":1,"tx":["aa"]}`,
		"tx and rawtx":         `{"hash":"ab","height":1,"tx":[{"txid":"aa"}],"rawtx":[{"txid":"aa"}]}`,
		"no transactions":      `{"hash":"ab","height":1}`,
		"no hash":              `{"height":1,"tx":[{"txid":"aa"}]}`,
	} {
		if _, _, err := DecodeBlock([]byte(raw)); err == nil {
			t.Errorf("block with %s: accepted", name)
		}
	}
}
