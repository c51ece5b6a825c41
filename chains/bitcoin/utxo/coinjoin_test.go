package utxo

import (
	"fmt"
	"strings"
	"testing"
)

// The CoinJoin shapes below are generated here, following the published
// rules of each implementation (see coinjoin.go): full data of real
// mainnet CoinJoins (every input's value and address) was not available
// offline. Addresses are placeholders of the right form (type and length).

func p2wpkh(i int) string  { return "bc1q" + b32(i, 38) }
func taproot(i int) string { return "bc1p" + b32(i, 58) }
func p2sh(i int) string    { return "3" + b32(i, 33) }

// b32 writes i in n bech32 characters (the charset has no '1').
func b32(i, n int) string {
	return strings.Map(func(r rune) rune { return rune("qpzry9x8gf"[r-'0']) }, fmt.Sprintf("%0*d", n, i))
}

func in(addr string, v int64) Input {
	return Input{Prev: Outpoint{TxID: fmt.Sprintf("%064d", v), Vout: 0}, Address: addr, Value: v}
}

func out(addr string, v int64) Output { return Output{Address: addr, Value: v} }

func indexed(tx Tx) Tx {
	for i := range tx.Outputs {
		tx.Outputs[i].Index = uint32(i)
	}
	return tx
}

func whirlpoolTx(n int, pool int64, premix []int64) Tx {
	tx := Tx{TxID: "whirlpool"}
	for i := range n {
		v := pool
		if i < len(premix) {
			v = pool + premix[i]
		}
		tx.Inputs = append(tx.Inputs, in(p2wpkh(i), v))
		tx.Outputs = append(tx.Outputs, out(p2wpkh(100+i), pool))
	}
	return indexed(tx)
}

// wasabi1Tx: 45 inputs, 40 outputs of about 0.1 BTC, 8 change outputs, a
// coordinator fee.
func wasabi1Tx() Tx {
	tx := Tx{TxID: "wasabi1"}
	for i := range 45 {
		tx.Inputs = append(tx.Inputs, in(p2wpkh(i), 12_000_000+int64(i)*1_000))
	}
	for i := range 40 {
		tx.Outputs = append(tx.Outputs, out(p2wpkh(100+i), 9_987_654))
	}
	for i := range 8 {
		tx.Outputs = append(tx.Outputs, out(p2wpkh(200+i), 1_500_000+int64(i)*777))
	}
	tx.Outputs = append(tx.Outputs, out(p2wpkh(300), 1_234_567))
	return indexed(tx)
}

// wabiSabiTx: 60 inputs (P2WPKH and taproot) and 70 outputs, both by value
// descending; 66 outputs at standard denominations, 4 change.
func wabiSabiTx() Tx {
	tx := Tx{TxID: "wabisabi"}
	for i := range 60 {
		a := p2wpkh(i)
		if i%3 == 0 {
			a = taproot(i)
		}
		tx.Inputs = append(tx.Inputs, in(a, 900_000_000-int64(i)*10_000_000))
	}
	denoms := []int64{536_870_912, 200_000_000, 100_000_000, 50_000_000, 43_046_721, 33_554_432, 20_000_000, 10_000_000, 8_388_608, 5_000_000, 1_000_000}
	for i, d := range denoms {
		for j := range 6 {
			tx.Outputs = append(tx.Outputs, out(p2wpkh(1000+i*10+j), d))
		}
	}
	for i, v := range []int64{777_777, 555_555, 333_333, 111_111} {
		tx.Outputs = append(tx.Outputs, out(taproot(2000+i), v))
	}
	return indexed(tx)
}

// joinMarketTx: 4 equal outputs of 0.5 BTC, 3 change outputs, 9 inputs
// from 6 addresses, all P2SH-P2WPKH (JoinMarket's default wallet type).
func joinMarketTx() Tx {
	tx := Tx{TxID: "joinmarket"}
	for i := range 9 {
		tx.Inputs = append(tx.Inputs, in(p2sh(i%6), 30_000_000+int64(i)*1_000_000))
	}
	for i := range 4 {
		tx.Outputs = append(tx.Outputs, out(p2sh(100+i), 50_000_000))
	}
	for i := range 3 {
		tx.Outputs = append(tx.Outputs, out(p2sh(200+i), 10_000_000+int64(i)*12_345))
	}
	return indexed(tx)
}

func TestDetectCoinJoin(t *testing.T) {
	p2pkhWhirl := whirlpoolTx(5, 5_000_000, []int64{20_000, 30_000})
	p2pkhWhirl.Inputs[4].Address = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
	unsorted := wabiSabiTx()
	unsorted.Outputs[0], unsorted.Outputs[10] = unsorted.Outputs[10], unsorted.Outputs[0]
	early := Tx{TxID: "wasabi-early", Inputs: []Input{in(p2wpkh(1), 20_000_000), in(p2wpkh(2), 20_000_000), in(p2wpkh(3), 20_000_000)},
		Outputs: []Output{out(p2wpkh(4), 10_000_000), out(p2wpkh(5), 10_000_000), out(p2wpkh(6), 10_000_000), out(wasabiCoordinators[0], 90_000)}}

	for _, c := range []struct {
		name  string
		tx    Tx
		want  CoinJoinKind // "" = not a CoinJoin
		denom int64
		equal int
	}{
		{"whirlpool 5x5 0.05 pool, 3 remixes and 2 premixes", whirlpoolTx(5, 5_000_000, []int64{20_000, 35_000}), Whirlpool, 5_000_000, 5},
		{"whirlpool surge cycle 8x8 0.01 pool", whirlpoolTx(8, 1_000_000, []int64{5_000, 6_000}), Whirlpool, 1_000_000, 8},
		{"whirlpool 0.001 pool", whirlpoolTx(5, 100_000, []int64{1_000}), Whirlpool, 100_000, 5},
		{"whirlpool shape without a remixed input", whirlpoolTx(5, 5_000_000, []int64{1, 2, 3, 4, 5}), "", 0, 0},
		{"whirlpool shape, premix input over the fee bound", whirlpoolTx(5, 5_000_000, []int64{200_000}), "", 0, 0},
		{"whirlpool shape off the pool denominations", whirlpoolTx(5, 4_000_000, []int64{20_000}), "", 0, 0},
		{"whirlpool shape with a legacy input", p2pkhWhirl, "", 0, 0},
		{"wasabi 1.x", wasabi1Tx(), Wasabi1, 9_987_654, 40},
		{"wasabi 1.x early, coordinator address", early, Wasabi1, 10_000_000, 3},
		{"wabisabi", wabiSabiTx(), WabiSabi, 536_870_912, 6},
		{"wabisabi shape with outputs out of order", unsorted, "", 0, 0},
		{"joinmarket", joinMarketTx(), JoinMarket, 50_000_000, 4},
		{"batched exchange payout", batchedPayout(), "", 0, 0},
		{"two-output payment", payment(), "", 0, 0},
		{"consolidation", consolidation(), "", 0, 0},
		{"payout with two equal outputs", Tx{TxID: "two-equal", Inputs: []Input{in(p2wpkh(1), 10_000_000), in(p2wpkh(2), 10_000_000), in(p2wpkh(3), 10_000_000)},
			Outputs: []Output{out(p2wpkh(4), 5_000_000), out(p2wpkh(5), 5_000_000), out(p2wpkh(6), 19_990_000)}}, "", 0, 0},
		{"coinbase", Tx{TxID: "cb", Inputs: []Input{{Coinbase: true}}, Outputs: []Output{out(p2wpkh(1), 1), out(p2wpkh(2), 1)}}, "", 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := DetectCoinJoin(c.tx)
			if ok != (c.want != "") || got.Kind != c.want {
				t.Fatalf("got %+v (%v), want %q", got, ok, c.want)
			}
			if !ok {
				return
			}
			if got.Denomination != c.denom || got.EqualOutputs != c.equal || got.Inputs != len(c.tx.Inputs) || got.Outputs != len(c.tx.Outputs) {
				t.Errorf("evidence %+v, want denomination %d x %d", got, c.denom, c.equal)
			}
			if got.Confidence <= 0.5 || got.Confidence > 1 || got.Reason == "" {
				t.Errorf("confidence %v, reason %q", got.Confidence, got.Reason)
			}
		})
	}
}

func batchedPayout() Tx {
	tx := Tx{TxID: "batch", Inputs: []Input{in("bc1qm34lsc65zpw79lxes69zkqmk6ee3ewf0j77s3h", 5_000_000_000)}}
	for i := range 30 {
		tx.Outputs = append(tx.Outputs, out(p2wpkh(i), 1_000_000+int64(i)*137_531))
	}
	return indexed(tx)
}

func payment() Tx {
	return indexed(Tx{TxID: "pay", Inputs: []Input{in(p2wpkh(1), 10_000_000)},
		Outputs: []Output{out(p2wpkh(2), 2_500_000), out(p2wpkh(3), 7_495_000)}})
}

func consolidation() Tx {
	tx := Tx{TxID: "consolidate"}
	for i := range 40 {
		tx.Inputs = append(tx.Inputs, in(p2wpkh(i), 1_000_000))
	}
	tx.Outputs = []Output{out(p2wpkh(99), 39_900_000)}
	return indexed(tx)
}

func TestWabiSabiDenominations(t *testing.T) {
	for v, want := range map[int64]bool{
		5_000: true, 8_192: true, 6_561: true, 13_122: true, 10_000: true, 20_000: true, 50_000: true,
		100_000_000: true, 68_719_476_736: true, 100_000_000_000: true,
		4_096: false, 7_000: false, 99_999: false, 137_438_953_472: false, 134_375_000_000: false,
	} {
		if IsWabiSabiDenomination(v) != want {
			t.Errorf("%d: %v, want %v", v, !want, want)
		}
	}
}

func TestAddressType(t *testing.T) {
	for a, want := range map[string]string{
		"1BoatSLRHtKNngkdXEeobR76b53LETtpyT":                             PubKeyHash,
		"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy":                             ScriptHash,
		"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq":                     WitnessV0KeyHash,
		"bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3": WitnessV0ScriptHash,
		"bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297": WitnessV1Taproot,
		"BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ":                     WitnessV0KeyHash,
		"tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx":                     WitnessV0KeyHash,
		"bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw":                   WitnessV0KeyHash,
		"mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn":                             PubKeyHash,
		"2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc":                            ScriptHash,
		"":                                                               "",
		"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs":                           "",
		"0x52908400098527886E0F7030069857D2E4169EE7":                     "",
	} {
		if got := AddressType(a); got != want {
			t.Errorf("%q: %q, want %q", a, got, want)
		}
	}
}

// FuzzAddressType: any string gets one of the known types or "", and
// never a panic.
func FuzzAddressType(f *testing.F) {
	for _, a := range []string{"1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "bc1", "1", "bcrt1", ""} {
		f.Add(a)
	}
	known := map[string]bool{"": true, PubKeyHash: true, ScriptHash: true, WitnessV0KeyHash: true, WitnessV0ScriptHash: true, WitnessV1Taproot: true}
	f.Fuzz(func(t *testing.T, a string) {
		if got := AddressType(a); !known[got] {
			t.Fatalf("%q: %q", a, got)
		}
	})
}
