package utxo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// esploraTx is the part of an Esplora (mempool.space) transaction the tests read.
type esploraTx struct {
	TxID string `json:"txid"`
	Vin  []struct {
		TxID     string `json:"txid"`
		Vout     uint32 `json:"vout"`
		Coinbase bool   `json:"is_coinbase"`
		Prevout  esploraOut
	} `json:"vin"`
	Vout   []esploraOut `json:"vout"`
	Fee    int64        `json:"fee"`
	Status struct {
		Height uint64 `json:"block_height"`
		Time   int64  `json:"block_time"`
	} `json:"status"`
}

type esploraOut struct {
	Type    string `json:"scriptpubkey_type"`
	Address string `json:"scriptpubkey_address"`
	Value   int64  `json:"value"`
}

// esploraTypes maps Esplora's script type names to Bitcoin Core's.
var esploraTypes = map[string]string{
	"p2pkh": PubKeyHash, "p2sh": ScriptHash, "v0_p2wpkh": WitnessV0KeyHash,
	"v0_p2wsh": WitnessV0ScriptHash, "v1_p2tr": WitnessV1Taproot, "op_return": NullData,
}

// recordedTx reads testdata/esplora/name (see SOURCE.md there).
func recordedTx(t *testing.T, name string) Tx {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "esplora", name))
	if err != nil {
		t.Fatal(err)
	}
	var e esploraTx
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	tx := Tx{TxID: e.TxID, Block: e.Status.Height, Time: e.Status.Time}
	for _, in := range e.Vin {
		tx.Inputs = append(tx.Inputs, Input{Prev: Outpoint{TxID: in.TxID, Vout: in.Vout}, Address: in.Prevout.Address, Value: in.Prevout.Value, Coinbase: in.Coinbase})
		if got := AddressType(in.Prevout.Address); got != esploraTypes[in.Prevout.Type] {
			t.Fatalf("%s: input %s: AddressType %q, the node says %s", name, in.Prevout.Address, got, in.Prevout.Type)
		}
	}
	for i, o := range e.Vout {
		typ, ok := esploraTypes[o.Type]
		if !ok {
			t.Fatalf("%s: script type %q", name, o.Type)
		}
		tx.Outputs = append(tx.Outputs, Output{Index: uint32(i), Address: o.Address, Value: o.Value, ScriptType: typ})
	}
	if tx.Fee() != e.Fee {
		t.Fatalf("%s: inputs - outputs = %d, recorded fee %d", name, tx.Fee(), e.Fee)
	}
	return tx
}

func TestRecordedCoinJoins(t *testing.T) {
	for _, c := range []struct {
		file  string
		want  CoinJoinKind
		denom int64
	}{
		{"whirlpool-5x5.json", Whirlpool, 5_000_000},
		{"whirlpool-ashigaru.json", Whirlpool, 2_500_000},
		// Two parties (one maker): below JoinMarket's rule of three or more
		// equal outputs, which keeps false positives down (Dumplings).
		{"joinmarket-2party.json", "", 0},
		{"consolidation-5in1out.json", "", 0},
		{"address-reuse-change.json", "", 0},
		{"batch-payment.json", "", 0},
	} {
		t.Run(c.file, func(t *testing.T) {
			tx := recordedTx(t, c.file)
			got, ok := DetectCoinJoin(tx)
			if got.Kind != c.want || ok != (c.want != "") {
				t.Fatalf("got %+v, want %q", got, c.want)
			}
			if ok && (got.Denomination != c.denom || got.EqualOutputs != 5 || got.Inputs != 5) {
				t.Errorf("evidence %+v", got)
			}
		})
	}
}

func TestRecordedChange(t *testing.T) {
	for _, c := range []struct {
		file    string
		want    int // -1: none
		reasons int
	}{
		// Change back to the input's address, beside a round 0.03 BTC payment.
		{"address-reuse-change.json", 1, 2},
		// The hot wallet pays itself back in the last output.
		{"batch-payment.json", 8, 1},
		{"consolidation-5in1out.json", -1, 0},
		{"whirlpool-5x5.json", -1, 0},
		// Two parties' change outputs: no one change.
		{"joinmarket-2party.json", -1, 0},
	} {
		t.Run(c.file, func(t *testing.T) {
			got, ok := GuessChange(recordedTx(t, c.file))
			if c.want < 0 {
				if ok {
					t.Fatalf("guessed %+v", got)
				}
				return
			}
			if !ok || got.Output != c.want || len(got.Reasons) != c.reasons {
				t.Fatalf("got %+v (%v), want output %d with %d reasons", got, ok, c.want, c.reasons)
			}
		})
	}
}

func TestRecordedClustersAndShapes(t *testing.T) {
	c := NewClusters()
	for _, f := range []string{"consolidation-5in1out.json", "whirlpool-5x5.json", "batch-payment.json"} {
		c.Add(recordedTx(t, f))
	}
	want := [][]string{{"189YYnGiahr6SAsLiXAZX29Z8xpPHsGbwM", "18m5f3qtDGeGVQkVN3EmCyjQ99on8K7e4P", "1KG26tUcjB88WbpM2v6KhZMK5ptxp9V3XQ", "1P2Q4B1yPiW3U1pLPGPvSMG8BvCow322aX"}}
	if got := c.Groups(); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("groups %q", got)
	}
	if !slices.Equal(c.Skipped(), []string{"323df21f0b0756f98336437aa3d2fb87e02b59f1946b714a7b09df04d429dec2"}) {
		t.Errorf("skipped %v", c.Skipped())
	}
	sc, ok := ScatterOf([]Tx{recordedTx(t, "batch-payment.json")}, nil, ShapeOptions{})
	if !ok || len(sc.Recipients) != 8 || sc.Value != 1_814_046_646-7360-1_775_025_864 {
		t.Errorf("batch payout scatter: %+v %v", sc, ok)
	}
	// 0.0044 BTC back to the payer beside a 0.03 BTC payment: the small
	// output is the change, so this is no peel.
	if s, ok := PeelOf(recordedTx(t, "address-reuse-change.json"), ShapeOptions{}); ok {
		t.Errorf("peel step %+v", s)
	}
}
