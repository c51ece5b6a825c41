// Package thorchain reads THORChain (and MAYAChain) transaction memos: the
// text a user attaches to a deposit into a router or vault that says what to
// do with it, e.g. "=:BTC.BTC:bc1q...:0/1/0:t:15". flowtrace uses it to name
// where bridged value went (chain, asset, destination address).
//
// It is pure parsing: no RPC, no EVM types. The grammar (docs.thorchain.org,
// "Transaction Memos") for the parts flowtrace follows:
//
//	SWAP:ASSET:DESTADDR[/REFUNDADDR]:LIMIT[/INTERVAL/QUANTITY]:AFFILIATE[/AFF2...]:FEE[/FEE2...]
//	  action: SWAP, swap, s or =
//	  ASSET:  CHAIN.SYMBOL[-CONTRACT] (layer 1), CHAIN/SYMBOL (synth),
//	          CHAIN~SYMBOL (trade), CHAIN-SYMBOL (secured), or a one-letter
//	          shorthand (b = BTC.BTC, e = ETH.ETH, r = THOR.RUNE, ...)
//	  LIMIT:  minimum output in 1e8 units, digits or scientific (5e6); empty or 0: none
//	  FEE:    affiliate fee in basis points, one per affiliate (or one for all)
//	OUT:TXID, REFUND:TXID   outbound and refund memos of the network's vaults
//
// Other memos (add/withdraw liquidity, bond, ...) parse as ActionOther.
//
// outbound.go pairs a deposit with the vault transactions on a UTXO chain
// whose OP_RETURN answers it (OUT:/REFUND:), from transactions handed to it.
package thorchain

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Action is what a memo asks for.
type Action string

// Actions.
const (
	ActionSwap   Action = "swap"
	ActionOut    Action = "out"
	ActionRefund Action = "refund"
	ActionOther  Action = "other"
)

// AssetForm says how an asset is held.
type AssetForm string

// Asset forms.
const (
	FormNative  AssetForm = "native"  // CHAIN.SYMBOL: on its own chain
	FormSynth   AssetForm = "synth"   // CHAIN/SYMBOL: a synth on THORChain
	FormTrade   AssetForm = "trade"   // CHAIN~SYMBOL: a trade account asset
	FormSecured AssetForm = "secured" // CHAIN-SYMBOL: a secured asset
)

// Asset is a THORChain asset.
type Asset struct {
	Chain    string // upper case: BTC, ETH, THOR, ...
	Symbol   string // upper case: BTC, USDT, ...
	Contract string // the token contract of a CHAIN.SYMBOL-CONTRACT asset, as written
	Form     AssetForm
}

// String is the asset in THORChain notation.
func (a Asset) String() string {
	sep := map[AssetForm]string{FormNative: ".", FormSynth: "/", FormTrade: "~", FormSecured: "-"}[a.Form]
	s := a.Chain + sep + a.Symbol
	if a.Contract != "" {
		s += "-" + a.Contract
	}
	return s
}

// DestinationChain is the flowtrace chain name where the asset is paid out:
// its own chain for layer-1 assets, "thorchain" for synths, trade and
// secured assets (they stay on THORChain).
func (a Asset) DestinationChain() string {
	if a.Form != FormNative {
		return "thorchain"
	}
	return ChainName(a.Chain)
}

// chainNames maps THORChain chain tickers to flowtrace chain names.
var chainNames = map[string]string{
	"BTC": "bitcoin", "ETH": "ethereum", "BCH": "bitcoincash", "LTC": "litecoin", "DOGE": "dogecoin",
	"GAIA": "cosmos", "AVAX": "avalanche", "BSC": "bsc", "BNB": "bnb-beacon", "BASE": "base", "THOR": "thorchain",
	"MAYA": "mayachain", "TRON": "tron", "XRP": "xrp", "SOL": "solana", "ARB": "arbitrum", "DASH": "dash",
	"KUJI": "kujira", "ZEC": "zcash",
}

// ChainName is the flowtrace name of a THORChain chain ticker (lower case
// ticker when unknown).
func ChainName(ticker string) string {
	if n, ok := chainNames[strings.ToUpper(ticker)]; ok {
		return n
	}
	return strings.ToLower(ticker)
}

// shortAssets are the one-letter asset shorthands of memos.
var shortAssets = map[string]string{
	"a": "AVAX.AVAX", "b": "BTC.BTC", "c": "BCH.BCH", "d": "DOGE.DOGE", "e": "ETH.ETH",
	"g": "GAIA.ATOM", "l": "LTC.LTC", "n": "BNB.BNB", "r": "THOR.RUNE", "s": "BSC.BNB",
}

// Affiliate is one affiliate of a swap and its fee.
type Affiliate struct {
	Address string // an address or a THORName
	FeeBps  uint64
}

// Memo is a parsed memo.
type Memo struct {
	Action Action
	Raw    string
	// Swap fields.
	Asset       Asset
	Destination string // empty: back to the sender
	Refund      string // refund address, when given
	Limit       *big.Int
	// Streaming swap: Interval blocks between sub-swaps, Quantity sub-swaps
	// (0 = let the network choose); Streaming is set when the limit part had them.
	Streaming          bool
	Interval, Quantity uint64
	Affiliates         []Affiliate
	// TxID is the inbound transaction an OUT: or REFUND: memo answers.
	TxID string
	// Verb is the memo's first field as written (for ActionOther).
	Verb string
}

// ErrNotSwap is wrapped by errors about memos that are not well-formed swaps.
var ErrNotSwap = errors.New("not a well-formed THORChain memo")

// maxFeeBps is the largest affiliate fee accepted (100%); THORChain itself caps lower.
const maxFeeBps = 10_000

// ParseMemo parses a memo. Unknown actions give ActionOther with no error;
// an error means a swap, OUT or REFUND memo is malformed.
func ParseMemo(s string) (Memo, error) {
	m := Memo{Raw: s}
	parts := strings.Split(strings.TrimSpace(s), ":")
	m.Verb = parts[0]
	switch strings.ToLower(parts[0]) {
	case "swap", "s", "=":
		m.Action = ActionSwap
	case "out":
		return txMemo(m, ActionOut, parts)
	case "refund":
		return txMemo(m, ActionRefund, parts)
	default:
		m.Action = ActionOther
		return m, nil
	}
	if len(parts) < 2 || parts[1] == "" {
		return m, fmt.Errorf("%w: %q: a swap needs an asset (SWAP:ASSET:DEST)", ErrNotSwap, s)
	}
	var err error
	if m.Asset, err = ParseAsset(parts[1]); err != nil {
		return m, fmt.Errorf("%w: %q: %v", ErrNotSwap, s, err)
	}
	if len(parts) > 2 {
		m.Destination, m.Refund, _ = strings.Cut(parts[2], "/")
	}
	if len(parts) > 3 {
		if err := m.parseLimit(parts[3]); err != nil {
			return m, fmt.Errorf("%w: %q: %v", ErrNotSwap, s, err)
		}
	}
	if len(parts) > 4 {
		fees := ""
		if len(parts) > 5 {
			fees = parts[5]
		}
		if m.Affiliates, err = parseAffiliates(parts[4], fees); err != nil {
			return m, fmt.Errorf("%w: %q: %v", ErrNotSwap, s, err)
		}
	}
	return m, nil
}

func txMemo(m Memo, a Action, parts []string) (Memo, error) {
	m.Action = a
	if len(parts) < 2 || !isHex(strings.TrimPrefix(strings.TrimPrefix(parts[1], "0x"), "0X")) {
		return m, fmt.Errorf("%w: %q: %s needs the inbound transaction id", ErrNotSwap, m.Raw, strings.ToUpper(string(a)))
	}
	m.TxID = parts[1]
	return m, nil
}

// ParseAsset parses an asset in any notation, or a one-letter shorthand.
func ParseAsset(s string) (Asset, error) {
	if full, ok := shortAssets[strings.ToLower(s)]; ok && len(s) == 1 {
		s = full
	}
	i := strings.IndexAny(s, "./~-")
	if i <= 0 || i == len(s)-1 {
		return Asset{}, fmt.Errorf("asset %q: want CHAIN.SYMBOL, CHAIN/SYMBOL, CHAIN~SYMBOL or CHAIN-SYMBOL", s)
	}
	a := Asset{Chain: strings.ToUpper(s[:i]), Form: map[byte]AssetForm{'.': FormNative, '/': FormSynth, '~': FormTrade, '-': FormSecured}[s[i]]}
	rest := s[i+1:]
	a.Symbol, a.Contract, _ = strings.Cut(rest, "-")
	a.Symbol = strings.ToUpper(a.Symbol)
	if !isTicker(a.Chain) || a.Symbol == "" || strings.ContainsAny(a.Symbol, "./~:") {
		return Asset{}, fmt.Errorf("asset %q: bad chain or symbol", s)
	}
	return a, nil
}

// parseLimit reads LIMIT[/INTERVAL/QUANTITY].
func (m *Memo) parseLimit(s string) error {
	fields := strings.Split(s, "/")
	if len(fields) > 3 {
		return fmt.Errorf("limit %q: want LIMIT/INTERVAL/QUANTITY", s)
	}
	if fields[0] != "" {
		v, err := parseAmount(fields[0])
		if err != nil {
			return fmt.Errorf("limit %q: %v", fields[0], err)
		}
		if v.Sign() > 0 {
			m.Limit = v
		}
	}
	if len(fields) > 1 {
		m.Streaming = true
		var err error
		if m.Interval, err = parseUint(fields[1]); err != nil {
			return fmt.Errorf("streaming interval %q: %v", fields[1], err)
		}
		if len(fields) > 2 {
			if m.Quantity, err = parseUint(fields[2]); err != nil {
				return fmt.Errorf("streaming quantity %q: %v", fields[2], err)
			}
		}
	}
	return nil
}

// parseAffiliates pairs affiliates with fees: one fee each, or one for all.
func parseAffiliates(addrs, fees string) ([]Affiliate, error) {
	if addrs == "" {
		if fees != "" && fees != "0" {
			return nil, fmt.Errorf("affiliate fee %q without an affiliate", fees)
		}
		return nil, nil
	}
	names := strings.Split(addrs, "/")
	var bps []uint64
	if fees != "" {
		for _, f := range strings.Split(fees, "/") {
			v, err := parseUint(f)
			if err != nil || v > maxFeeBps {
				return nil, fmt.Errorf("affiliate fee %q: want basis points 0-%d", f, maxFeeBps)
			}
			bps = append(bps, v)
		}
	}
	if len(bps) > 1 && len(bps) != len(names) {
		return nil, fmt.Errorf("%d affiliates but %d fees", len(names), len(bps))
	}
	out := make([]Affiliate, len(names))
	for i, n := range names {
		if n == "" {
			return nil, fmt.Errorf("empty affiliate in %q", addrs)
		}
		out[i].Address = n
		switch {
		case len(bps) == 1:
			out[i].FeeBps = bps[0]
		case len(bps) > 1:
			out[i].FeeBps = bps[i]
		}
	}
	return out, nil
}

// parseAmount reads digits or scientific notation (5e6, 12e3).
func parseAmount(s string) (*big.Int, error) {
	mant, exp, sci := strings.Cut(strings.ToLower(s), "e")
	if !isDigits(mant) || (sci && !isDigits(exp)) {
		return nil, errors.New("not a whole number")
	}
	v, _ := new(big.Int).SetString(mant, 10)
	if sci {
		e, err := strconv.Atoi(exp)
		if err != nil || e > 77 {
			return nil, errors.New("exponent out of range")
		}
		v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(e)), nil))
	}
	return v, nil
}

func parseUint(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	if !isDigits(s) {
		return 0, errors.New("not a whole number")
	}
	return strconv.ParseUint(s, 10, 64)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isTicker(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}
