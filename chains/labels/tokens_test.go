package labels

import (
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/tracer"
)

const (
	usdt = tracer.Address("0xdAC17F958D2ee523a2206206994597C13D831ec7")
	weth = tracer.Address("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
	fake = tracer.Address("0x1111111111111111111111111111111111111111")
)

func TestBundledTokens(t *testing.T) {
	r, err := Bundled()
	if err != nil {
		t.Fatal(err)
	}
	for _, sym := range []string{"USDT", "USDC", "DAI", "WETH", "WBTC", "stETH", "wstETH", "cbETH", "rETH", "mETH", "cmETH", "MKR"} {
		found := false
		for _, tok := range r.Tokens("ethereum") {
			found = found || tok.Symbol == sym
		}
		if !found {
			t.Errorf("no bundled ethereum token %s", sym)
		}
	}
	if tok, ok := r.Token("ethereum", usdt); !ok || tok.Decimals != 6 || tok.Name != "Tether USD" {
		t.Errorf("USDT = %+v %v", tok, ok)
	}
	for chain, want := range map[string]tracer.Address{
		"ethereum": weth, "arbitrum": "0x82aF49447D8a07e3bd95BD0d56f35241523fBab1",
		"optimism": "0x4200000000000000000000000000000000000006", "base": "0x4200000000000000000000000000000000000006",
		"polygon": "0x0d500B1d8E8eF31E21C99d1Db9A6444d3ADf1270", "bsc": "0xbb4CdB9CBd36B01bD1cBaEBF2De08d9173bc095c",
		"avalanche": "0xB31f66AA3C1e785363F0875A1B74E27b85FD66c7",
	} {
		if got := r.WrappedNatives(chain); len(got) != 1 || got[0] != want {
			t.Errorf("%s wrapped native = %v, want %s", chain, got, want)
		}
	}
	if r.Recognised("arbitrum", usdt) || !r.Recognised("ethereum", usdt) {
		t.Error("recognition is not per chain")
	}
}

// TestBundledTokenRows: every row has a source URL, an EIP-55 address
// (a checksum typo shows) and no contract twice on a chain.
func TestBundledTokenRows(t *testing.T) {
	seen := map[string]bool{}
	for _, row := range bundledRows(t, tokensCSV) {
		addr, err := canonical(row[1])
		if err != nil || addr != row[1] {
			t.Errorf("%s: not EIP-55 (%s, %v)", row[1], addr, err)
		}
		if k := row[0] + row[1]; seen[k] {
			t.Errorf("%s %s listed twice", row[0], row[1])
		} else {
			seen[k] = true
		}
		if !strings.HasPrefix(row[6], "https://") {
			t.Errorf("%s: source %q is not a URL", row[1], row[6])
		}
	}
}

func TestImpersonates(t *testing.T) {
	r, err := Bundled()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		token tracer.Address
		meta  tracer.Token
		want  tracer.Address // "" when not impersonating
	}{
		{usdt, tracer.Token{Symbol: "USDT", Name: "Tether USD"}, ""}, // the real one
		{fake, tracer.Token{Symbol: "USDT", Name: "Tether USD"}, usdt},
		{fake, tracer.Token{Symbol: "usdt"}, usdt},
		{fake, tracer.Token{Symbol: "USD T"}, usdt},
		{fake, tracer.Token{Symbol: "U\u200bSDT"}, usdt},            // zero-width space
		{fake, tracer.Token{Symbol: "USD\u0422"}, usdt},             // Cyrillic Te
		{fake, tracer.Token{Symbol: "ＵＳＤＴ"}, usdt},                  // full-width
		{fake, tracer.Token{Symbol: "USD₮"}, usdt},                  // tugrik sign
		{fake, tracer.Token{Symbol: "X", Name: "tether usd"}, usdt}, // the name alone
		{fake, tracer.Token{Symbol: "W\u0415TH"}, weth},             // Cyrillic Ie
		{fake, tracer.Token{Symbol: "USDC.e", Name: "Bridged USDC"}, ""},
		{fake, tracer.Token{Symbol: "PEPE", Name: "Pepe"}, ""},
		{fake, tracer.Token{}, ""},
	} {
		got, ok := r.Impersonates("ethereum", c.token, c.meta)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("Impersonates(%s, %+v) = %s %v, want %s", c.token, c.meta, got, ok, c.want)
		}
	}
	// Another chain's registry is not this chain's.
	if _, ok := r.Impersonates("dev", fake, tracer.Token{Symbol: "USDT"}); ok {
		t.Error("a USDT on a chain without a registered USDT was called impersonating")
	}
}

// TestUserTokenFile: a user's token file recognises a token (here a dev
// chain's), and copies of it impersonate it.
func TestUserTokenFile(t *testing.T) {
	r := New()
	in := "chain,address,symbol,name,decimals,kind,source\n" +
		"dev,0x768919e0c3D7C5873FdC2fCFEC8F384e5AE12e43,TT,Test Token,18,token,case notes\n" +
		"dev,0x2222222222222222222222222222222222222222,WETH,Wrapped Ether,18,wrapped_native,case notes\n"
	if err := r.ReadCSV(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if !r.Recognised("dev", "0x768919e0c3D7C5873FdC2fCFEC8F384e5AE12e43") {
		t.Error("user token not recognised")
	}
	if got, ok := r.Impersonates("dev", fake, tracer.Token{Symbol: "tt"}); !ok || got != "0x768919e0c3D7C5873FdC2fCFEC8F384e5AE12e43" {
		t.Errorf("Impersonates = %s %v", got, ok)
	}
	if got := r.WrappedNatives("dev"); len(got) != 1 || got[0] != "0x2222222222222222222222222222222222222222" {
		t.Errorf("WrappedNatives = %v", got)
	}
	for name, bad := range map[string]string{
		"decimals": "dev,0x768919e0c3D7C5873FdC2fCFEC8F384e5AE12e43,TT,T,256,token,s\n",
		"kind":     "dev,0x768919e0c3D7C5873FdC2fCFEC8F384e5AE12e43,TT,T,18,coin,s\n",
		"address":  "dev,0x1234,TT,T,18,token,s\n",
		"symbol":   "dev,0x768919e0c3D7C5873FdC2fCFEC8F384e5AE12e43, ,T,18,token,s\n",
		"fields":   "dev,0x768919e0c3D7C5873FdC2fCFEC8F384e5AE12e43,TT\n",
	} {
		if err := New().ReadCSV(strings.NewReader("chain,address,symbol,name,decimals,kind,source\n" + bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
