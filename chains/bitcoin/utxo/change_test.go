package utxo

import (
	"math"
	"strings"
	"testing"
)

func TestGuessChange(t *testing.T) {
	a, b := p2wpkh(1), p2wpkh(2)
	opReturn := Output{Value: 0, ScriptType: NullData, OpReturn: []byte("=:ETH.ETH:0x0")}
	for _, c := range []struct {
		name    string
		tx      Tx
		want    int // -1: none
		conf    float64
		reasons []string
	}{
		{"address reuse and a round payment agree",
			Tx{Inputs: []Input{in(a, 100_000_000)}, Outputs: []Output{out(b, 30_000_000), out(a, 69_990_000)}},
			1, 1 - 0.05*0.4, []string{"address reuse", "round payment"}},
		{"script type alone",
			Tx{Inputs: []Input{in(a, 100_000_000)}, Outputs: []Output{out(p2sh(3), 12_345_678), out(b, 87_644_322)}},
			1, 0.7, []string{"script type"}},
		{"round payment alone",
			Tx{Inputs: []Input{in(a, 10_000_000)}, Outputs: []Output{out(b, 2_500_000), out(p2wpkh(3), 7_495_123)}},
			1, 0.6, []string{"round payment"}},
		{"optimal change: the only output below the smallest input",
			Tx{Inputs: []Input{in(a, 5_000_000), in(p2wpkh(4), 4_000_000), in(p2wpkh(5), 3_000_000)},
				Outputs: []Output{out(b, 10_456_789), out(p2wpkh(3), 1_533_211)}},
			1, 0.6, []string{"optimal change"}},
		{"thorchain-style deposit: change back to VIN0 beside the memo",
			Tx{Inputs: []Input{in(a, 20_000_000)}, Outputs: []Output{out(taproot(9), 10_000_000), out(a, 9_980_000), opReturn}},
			1, 1 - 0.05*0.3*0.4, []string{"address reuse", "script type", "round payment"}},
		{"conflict: round payment against unnecessary input",
			// 1 BTC is round, so 6.9999 would be change; but 6.9999 BTC >= the 3 BTC input: not change.
			Tx{Inputs: []Input{in(a, 500_000_000), in(p2wpkh(4), 300_000_000)}, Outputs: []Output{out(b, 100_000_000), out(p2wpkh(3), 699_990_000)}},
			-1, 0, nil},
		{"conflict: reuse names the round output, the round rule the other",
			Tx{Inputs: []Input{in(a, 100_000_000)}, Outputs: []Output{out(a, 30_000_000), out(b, 69_990_000)}},
			-1, 0, nil},
		{"no signal", Tx{Inputs: []Input{in(a, 10_000_000)}, Outputs: []Output{out(b, 2_345_678), out(p2wpkh(3), 7_645_678)}}, -1, 0, nil},
		{"one output", Tx{Inputs: []Input{in(a, 10_000_000)}, Outputs: []Output{out(b, 9_990_000), opReturn}}, -1, 0, nil},
		{"coinjoin", whirlpoolTx(5, 5_000_000, []int64{20_000}), -1, 0, nil},
		{"coinbase", Tx{Inputs: []Input{{Coinbase: true}}, Outputs: []Output{out(a, 1), out(b, 312_500_000)}}, -1, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := GuessChange(c.tx)
			if c.want < 0 {
				if ok {
					t.Fatalf("guessed %+v, want none", got)
				}
				return
			}
			if !ok || got.Output != c.want {
				t.Fatalf("got %+v (%v), want output %d", got, ok, c.want)
			}
			if math.Abs(got.Confidence-c.conf) > 1e-9 {
				t.Errorf("confidence %v, want %v", got.Confidence, c.conf)
			}
			if len(got.Reasons) != len(c.reasons) {
				t.Fatalf("reasons %q, want %q", got.Reasons, c.reasons)
			}
			for i, r := range c.reasons {
				if !strings.HasPrefix(got.Reasons[i], r) {
					t.Errorf("reason %d %q, want %q...", i, got.Reasons[i], r)
				}
			}
		})
	}
}
