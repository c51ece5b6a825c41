package utxo

import (
	"fmt"
	"slices"
)

// CoinJoinKind names a CoinJoin implementation.
type CoinJoinKind string

// CoinJoin kinds.
const (
	Whirlpool  CoinJoinKind = "whirlpool"  // Samourai Whirlpool (ZeroLink)
	Wasabi1    CoinJoinKind = "wasabi"     // Wasabi Wallet 1.x (ZeroLink, ~0.1 BTC base denomination)
	WabiSabi   CoinJoinKind = "wabisabi"   // Wasabi Wallet 2 (WabiSabi, standard denominations)
	JoinMarket CoinJoinKind = "joinmarket" // JoinMarket (maker/taker)
)

// CoinJoin is a transaction found to be a CoinJoin, with its evidence.
type CoinJoin struct {
	Kind         CoinJoinKind
	Confidence   float64 // in [0,1]
	Denomination int64   // sats of the most frequent equal output
	EqualOutputs int     // outputs of that value
	Inputs       int
	Outputs      int
	Reason       string // the rule that matched, in one line
}

// WhirlpoolPools are the Whirlpool pool denominations in sats: Samourai's
// 0.001, 0.01, 0.05 and 0.5 BTC (Samourai docs "Whirlpool"; Dumplings
// Constants.SamouraiPools) and the 0.025 and 0.25 BTC pools of Ashigaru's
// Whirlpool, run since Samourai's shutdown (am-i-exposed's pool table and
// the mainnet mix in testdata/esplora/whirlpool-ashigaru.json).
var WhirlpoolPools = []int64{100_000, 1_000_000, 2_500_000, 5_000_000, 25_000_000, 50_000_000}

// whirlpoolPremixFee bounds what a fresh (premix) input carries above the
// pool denomination for mining fees: 0.0011 BTC (Dumplings, after the
// "Samourai CoinJoin Detection Heuristic" of Ghesmati et al.).
const whirlpoolPremixFee = 110_000

// Wasabi 1.x: the base denomination was about 0.1 BTC, +-0.02 (Dumplings
// Constants.ApproximateWasabiBaseDenomination and its precision).
const (
	wasabiBase      = 10_000_000
	wasabiPrecision = 2_000_000
)

// wasabiCoordinators are the Wasabi 1.x coordinator fee addresses used
// until about block 610,000 (Dumplings Constants.WasabiCoordScripts).
var wasabiCoordinators = []string{"bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew", "bc1qa24tsgchvuxsaccp8vrnkfd85hrcpafg20kmjw"}

// wabiSabiDenominations are Wasabi 2's standard output amounts: powers of
// 2 and of 3, twice the powers of 3, and the 1-2-5 series of powers of 10,
// from 5,000 sats to 1,343.75 BTC (WalletWasabi's denomination builder, as
// ported in Dumplings Scanner.CreateWasabi2Denominations).
var wabiSabiDenominations = func() map[int64]bool {
	const lo, hi = 5_000, 134_375_000_000
	d := map[int64]bool{}
	add := func(base, mul int64) {
		for p := int64(1); p*mul <= hi; p *= base {
			if p*mul >= lo {
				d[p*mul] = true
			}
		}
	}
	add(2, 1)
	add(3, 1)
	add(3, 2)
	add(10, 1)
	add(10, 2)
	add(10, 5)
	return d
}()

// IsWabiSabiDenomination says whether sats is a Wasabi 2 standard amount.
func IsWabiSabiDenomination(sats int64) bool { return wabiSabiDenominations[sats] }

// DetectCoinJoin says whether tx is a CoinJoin of a known kind. The rules
// are those of Dumplings (github.com/nopara73/Dumplings, Scanner.cs), the
// scanner behind the published Wasabi/Samourai/JoinMarket volume figures,
// checked in that order: WabiSabi, Wasabi 1.x, Whirlpool, JoinMarket.
func DetectCoinJoin(tx Tx) (CoinJoin, bool) {
	if len(tx.Inputs) == 0 || tx.Inputs[0].Coinbase {
		return CoinJoin{}, false
	}
	denom, equal := mostFrequentValue(tx.Outputs)
	if equal < 2 {
		return CoinJoin{}, false
	}
	cj := CoinJoin{Denomination: denom, EqualOutputs: equal, Inputs: len(tx.Inputs), Outputs: len(tx.Outputs)}
	for _, rule := range []func(Tx, *CoinJoin) bool{isWabiSabi, isWasabi1, isWhirlpool, isJoinMarket} {
		if rule(tx, &cj) {
			return cj, true
		}
	}
	return CoinJoin{}, false
}

// isWabiSabi (Dumplings "IDENTIFY WASABI 2 COINJOINS"): at least 50 inputs
// (the coordinator's minimum at launch), all P2WPKH or taproot, inputs and
// outputs ordered by value descending (the coordinator's ordering), and
// more than 80% of the outputs at standard denominations.
func isWabiSabi(tx Tx, cj *CoinJoin) bool {
	if len(tx.Inputs) < 50 {
		return false
	}
	for i, in := range tx.Inputs {
		if t := inputType(in); t != WitnessV0KeyHash && t != WitnessV1Taproot {
			return false
		}
		if i > 0 && in.Value > tx.Inputs[i-1].Value {
			return false
		}
	}
	std := 0
	for i, o := range tx.Outputs {
		if i > 0 && o.Value > tx.Outputs[i-1].Value {
			return false
		}
		if wabiSabiDenominations[o.Value] {
			std++
		}
	}
	if std*10 <= len(tx.Outputs)*8 {
		return false
	}
	cj.Kind, cj.Confidence = WabiSabi, 0.95
	cj.Reason = fmt.Sprintf("%d inputs, inputs and outputs by value descending, %d of %d outputs at WabiSabi denominations", len(tx.Inputs), std, len(tx.Outputs))
	return true
}

// isWasabi1 (Dumplings "IDENTIFY WASABI COINJOINS"): a payment to a
// coordinator fee address with more than 2 equal outputs (early rounds);
// or, native SegWit only, at least 10 equal outputs within 0.02 BTC of
// 0.1 BTC, at least as many inputs, and at least 2 outputs of a unique
// value (a participant's change and the coordinator fee).
func isWasabi1(tx Tx, cj *CoinJoin) bool {
	for _, o := range tx.Outputs {
		if slices.Contains(wasabiCoordinators, o.Address) && cj.EqualOutputs > 2 {
			cj.Kind, cj.Confidence = Wasabi1, 0.99
			cj.Reason = fmt.Sprintf("pays the Wasabi coordinator %s, %d equal outputs of %d sats", o.Address, cj.EqualOutputs, cj.Denomination)
			return true
		}
	}
	if !nativeSegwitOnly(tx) || cj.EqualOutputs < 10 || len(tx.Inputs) < cj.EqualOutputs ||
		cj.Denomination < wasabiBase-wasabiPrecision || cj.Denomination > wasabiBase+wasabiPrecision {
		return false
	}
	counts := valueCounts(tx.Outputs)
	unique := 0
	for _, n := range counts {
		if n == 1 {
			unique++
		}
	}
	if unique < 2 {
		return false
	}
	cj.Kind, cj.Confidence = Wasabi1, 0.9
	cj.Reason = fmt.Sprintf("%d equal outputs of %d sats (about 0.1 BTC), %d inputs, %d unique outputs (change, coordinator fee)", cj.EqualOutputs, cj.Denomination, len(tx.Inputs), unique)
	return true
}

// isWhirlpool (Dumplings, improving the SCDH of Ghesmati et al. 2021,
// "Pinpointing and Measuring Wasabi and Samourai CoinJoins"): native SegWit
// only, as many inputs as outputs, 5 to 8 of them (5 until 2023, then
// "surge cycles" of 6-8: Plan B Academy, Whirlpool course), all outputs at
// one pool denomination p, at least one input of exactly p (a remix) and
// the others between p and p + 0.0011 BTC (premix inputs carrying fees).
func isWhirlpool(tx Tx, cj *CoinJoin) bool {
	n := len(tx.Outputs)
	if n < 5 || n > 8 || len(tx.Inputs) != n || cj.EqualOutputs != n ||
		!slices.Contains(WhirlpoolPools, cj.Denomination) || !nativeSegwitOnly(tx) {
		return false
	}
	p, remix := cj.Denomination, 0
	for _, in := range tx.Inputs {
		switch {
		case in.Value == p:
			remix++
		case in.Value < p || in.Value > p+whirlpoolPremixFee:
			return false
		}
	}
	if remix == 0 {
		return false
	}
	cj.Kind, cj.Confidence = Whirlpool, 0.99
	cj.Reason = fmt.Sprintf("%d inputs, %d outputs of the %d-sat pool, %d remixed inputs", n, n, p, remix)
	return true
}

// isJoinMarket (Dumplings IsJoinMarketTx, after the JoinMarket developers'
// rules in nopara73/WasabiVsSamourai#2): n equal outputs, 3 <= n <= 30 (IRC
// rate limits make more impractical; 2 gives too many false positives),
// n or n-1 other (change) outputs, at least as many inputs as outputs from
// at least n distinct addresses (one or more per party), the equal value
// at least 0.001 BTC, and no more than one output of a script type other
// than the rest, which must be an equal output (the taker's).
func isJoinMarket(tx Tx, cj *CoinJoin) bool {
	n := cj.EqualOutputs
	change := len(tx.Outputs) - n
	if n < 3 || n > 30 || (change != n && change != n-1) || len(tx.Inputs) < len(tx.Outputs) || cj.Denomination < 100_000 {
		return false
	}
	addrs := map[string]bool{}
	for _, in := range tx.Inputs {
		addrs[in.Address] = true
	}
	if len(addrs) < n {
		return false
	}
	types := map[string][]Output{}
	for _, o := range tx.Outputs {
		types[outputType(o)] = append(types[outputType(o)], o)
	}
	switch len(types) {
	case 1:
	case 2:
		odd := false
		for _, os := range types {
			if len(os) == 1 && os[0].Value == cj.Denomination {
				odd = true
			}
		}
		if !odd {
			return false
		}
	default:
		return false
	}
	cj.Kind, cj.Confidence = JoinMarket, 0.75
	cj.Reason = fmt.Sprintf("%d equal outputs of %d sats, %d change outputs, %d inputs from %d addresses", n, cj.Denomination, change, len(tx.Inputs), len(addrs))
	return true
}

// mostFrequentValue is the value most outputs share (ties: the larger
// value) and how many share it; OP_RETURN and zero outputs are skipped.
func mostFrequentValue(outs []Output) (int64, int) {
	var buf [32]int64
	vals := buf[:0]
	for _, o := range outs {
		if spendable(o) {
			vals = append(vals, o.Value)
		}
	}
	slices.Sort(vals)
	var best int64
	n := 0
	for i := 0; i < len(vals); {
		j := i + 1
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		if j-i >= n { // ascending: a tie goes to the larger value
			best, n = vals[i], j-i
		}
		i = j
	}
	return best, n
}

func valueCounts(outs []Output) map[int64]int {
	c := map[int64]int{}
	for _, o := range outs {
		if spendable(o) {
			c[o.Value]++
		}
	}
	return c
}

// spendable: an output of value that is not OP_RETURN data.
func spendable(o Output) bool {
	return o.Value > 0 && o.ScriptType != NullData && len(o.OpReturn) == 0
}

// nativeSegwitOnly: every input and output is P2WPKH.
func nativeSegwitOnly(tx Tx) bool {
	for _, in := range tx.Inputs {
		if inputType(in) != WitnessV0KeyHash {
			return false
		}
	}
	for _, o := range tx.Outputs {
		if outputType(o) != WitnessV0KeyHash {
			return false
		}
	}
	return true
}
