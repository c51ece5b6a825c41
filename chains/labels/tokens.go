package labels

import (
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/flowtrace/flowtrace/tracer"
)

// Recognised tokens. A Transfer event emitted by a recognised token contract
// is genuine whoever signed the transaction: the token enforces allowances,
// so a transferFrom pull by an aggregator, a lending pool or a bridge moved
// real value. A token whose symbol or name copies a recognised token's (case,
// spaces, punctuation and look-alike letters aside) but whose contract is
// another is impersonating: never stolen value.
//
// Token files are CSV with the header chain,address,symbol,name,decimals,kind,source
// (kind: token, or wrapped_native for a WETH9-like contract whose Deposit and
// Withdrawal convert 1:1 with the native coin). They load through LoadFile
// and ReadCSV like label files: the header tells them apart.

// TokenInfo is a recognised token.
type TokenInfo struct {
	Address       tracer.Address
	Symbol, Name  string
	Decimals      uint8
	WrappedNative bool
	Source        string
}

var tokenHeader = []string{"chain", "address", "symbol", "name", "decimals", "kind", "source"}

// Token kinds of a token file.
const (
	kindToken         = "token"
	kindWrappedNative = "wrapped_native"
)

var _ tracer.TokenRegistry = (*Registry)(nil)

// AddToken recognises a token on chain, replacing (and recording) an
// earlier entry for the same contract.
func (r *Registry) AddToken(chain string, t TokenInfo) {
	if r.tokens == nil {
		r.tokens = map[string]TokenInfo{}
	}
	k := key(chain, string(t.Address))
	if old, ok := r.tokens[k]; ok && old != t {
		r.Conflicts = append(r.Conflicts, fmt.Sprintf("%s %s: token %q (%s) replaced by %q (%s)", chain, t.Address, old.Symbol, old.Source, t.Symbol, t.Source))
	}
	r.tokens[k] = t
}

// Token returns the recognised token at addr on chain.
func (r *Registry) Token(chain string, addr tracer.Address) (TokenInfo, bool) {
	t, ok := r.tokens[key(chain, string(addr))]
	return t, ok
}

// Tokens lists the recognised tokens of chain, by address.
func (r *Registry) Tokens(chain string) []TokenInfo {
	var out []TokenInfo
	for k, t := range r.tokens {
		if strings.HasPrefix(k, chain+":") {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b TokenInfo) int { return strings.Compare(string(a.Address), string(b.Address)) })
	return out
}

// WrappedNatives lists chain's recognised wrapped-native contracts (WETH9 and kin).
func (r *Registry) WrappedNatives(chain string) []tracer.Address {
	var out []tracer.Address
	for _, t := range r.Tokens(chain) {
		if t.WrappedNative {
			out = append(out, t.Address)
		}
	}
	return out
}

// Recognised reports whether token is a recognised token on chain.
func (r *Registry) Recognised(chain string, token tracer.Address) bool {
	_, ok := r.Token(chain, token)
	return ok
}

// Impersonates returns the recognised token of chain whose symbol or name
// meta copies, when token is another contract. Copies are compared after
// folding: Unicode compatibility forms (full-width letters), look-alike
// Cyrillic and Greek letters, case, and everything that is not a letter or
// a digit (spaces, zero-width characters, punctuation).
func (r *Registry) Impersonates(chain string, token tracer.Address, meta tracer.Token) (tracer.Address, bool) {
	if r.Recognised(chain, token) {
		return "", false
	}
	sym, name := fold(meta.Symbol), fold(meta.Name)
	for _, t := range r.Tokens(chain) {
		if (sym != "" && sym == fold(t.Symbol)) || (name != "" && name == fold(t.Name)) {
			return t.Address, true
		}
	}
	return "", false
}

// lookAlike maps letters that render like Latin ones to those.
var lookAlike = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ј': 'j', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'һ': 'h',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't',
	'υ': 'u', 'χ': 'x', 'ζ': 'z', 'μ': 'u',
	// Currency and letter-like signs used in token names (USD₮)
	'₮': 't', '₿': 'b', '€': 'e', '$': 's',
}

// fold reduces a symbol or name to the form impersonation compares.
func fold(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	var b strings.Builder
	for _, c := range s {
		if l, ok := lookAlike[c]; ok {
			c = l
		}
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// readTokens reads token rows after their header (already read).
func (r *Registry) readTokens(cr *csv.Reader) error {
	return eachRow(cr, func(line int, rec []string, addr string) error {
		dec, err := strconv.ParseUint(strings.TrimSpace(rec[4]), 10, 8)
		if err != nil {
			return fmt.Errorf("line %d: decimals %q: want 0 to 255", line, rec[4])
		}
		t := TokenInfo{
			Address: tracer.Address(addr), Symbol: strings.TrimSpace(rec[2]), Name: strings.TrimSpace(rec[3]),
			Decimals: uint8(dec), Source: strings.TrimSpace(rec[6]),
		}
		switch kind := strings.ToLower(strings.TrimSpace(rec[5])); kind {
		case kindToken:
		case kindWrappedNative:
			t.WrappedNative = true
		default:
			return fmt.Errorf("line %d: kind %q: want %s or %s", line, rec[5], kindToken, kindWrappedNative)
		}
		if fold(t.Symbol) == "" {
			return fmt.Errorf("line %d: empty symbol", line)
		}
		r.AddToken(strings.ToLower(strings.TrimSpace(rec[0])), t)
		return nil
	})
}
