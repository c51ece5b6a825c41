package labels

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	nets "github.com/flowtrace/flowtrace/chains/networks"
	"github.com/flowtrace/flowtrace/tracer"
)

func TestBundled(t *testing.T) {
	r, err := Bundled()
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[tracer.Address]tracer.Category{
		"0x910Cbd523D972eb0a6f4cAe4618aD62622b39DbF": tracer.CategoryMixer,     // Tornado 10 ETH
		"0xD37BbE5744D730a1d98d8DC97c42F0Ca46aD7146": tracer.CategoryBridge,    // THORChain router
		"0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D": tracer.CategoryDEX,       // Uniswap V2
		"0x28C6c06298d514Db089934071355E5743bf21d60": tracer.CategoryExchange,  // Binance 14
		"0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2": tracer.CategorySanctions, // Bybit exploiter
	} {
		l, ok := r.Lookup("ethereum", addr)
		if !ok || l.Category != want {
			t.Errorf("%s: %+v %v, want category %s", addr, l, ok, want)
		}
		if !strings.HasPrefix(l.Source, "https://") {
			t.Errorf("%s: source %q is not a URL", addr, l.Source)
		}
	}
	if r.Len() < 50 {
		t.Errorf("bundled registry has %d entries", r.Len())
	}
}

// bundledRows are the rows of a bundled CSV file, its header left out.
func bundledRows(t *testing.T, file []byte) [][]string {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(file))
	cr.Comment = '#'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

// TestBundledRows checks every row: a known chain, a source URL on each, no
// (chain, address) twice, the addresses already in EIP-55 form (so a typo in
// the checksum shows), and no address given two categories on different
// chains (the same contract deployed on several chains is one entity).
func TestBundledRows(t *testing.T) {
	seen := map[string]bool{}
	category := map[string]string{}
	for _, row := range bundledRows(t, registryCSV) {
		addr, err := canonical(row[1])
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if addr != row[1] {
			t.Errorf("%s is not EIP-55 (%s)", row[1], addr)
		}
		if _, ok := nets.Lookup(row[0]); !ok || row[0] != strings.ToLower(row[0]) {
			t.Errorf("%s: chain %q is not a chains/networks name", addr, row[0])
		}
		k := row[0] + ":" + addr
		if seen[k] {
			t.Errorf("%s listed twice on %s", addr, row[0])
		}
		seen[k] = true
		if u, _, _ := strings.Cut(strings.TrimSpace(row[4]), " "); !strings.HasPrefix(u, "https://") || len(u) < len("https://x.y") {
			t.Errorf("%s on %s: source %q does not start with a URL", addr, row[0], row[4])
		}
		if c, ok := category[addr]; ok && c != row[3] {
			t.Errorf("%s is %s on one chain and %s on %s", addr, c, row[3], row[0])
		}
		category[addr] = row[3]
	}
	if len(seen) < 100 {
		t.Errorf("%d bundled rows", len(seen))
	}
}

// The bundled registry knows the main bridges, routers and mixers of the
// other EVM chains, by chain.
func TestBundledOtherChains(t *testing.T) {
	r, err := Bundled()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		chain string
		addr  tracer.Address
		want  tracer.Category
	}{
		{"arbitrum", "0xe35e9842fceaCA96570B734083f4a58e8F7C5f2A", tracer.CategoryBridge},  // Across
		{"bsc", "0x138EB30f73BC423c6455C53df6D89CB01d9eBc63", tracer.CategoryBridge},       // Stargate USDT
		{"base", "0x4200000000000000000000000000000000000010", tracer.CategoryBridge},      // L2 standard bridge
		{"avalanche", "0x8F66c4AE756BEbC49Ec8B81966DD8bba9f127549", tracer.CategoryBridge}, // THORChain
		{"bsc", "0x10ED43C718714eb63d5aA57B78B54704E256024E", tracer.CategoryDEX},          // PancakeSwap
		{"bsc", "0x84443CFd09A48AF6eF360C6976C5392aC5023a1F", tracer.CategoryMixer},        // Tornado 0.1 BNB
		{"bsc", "0x8894E0a0c962CB723c1976a4421c95949bE2D4E3", tracer.CategoryExchange},
	} {
		l, ok := r.Lookup(tc.chain, tc.addr)
		if !ok || l.Category != tc.want {
			t.Errorf("%s %s: %+v %v, want %s", tc.chain, tc.addr, l, ok, tc.want)
		}
	}
	// A label is per chain: the Across SpokePool of Arbitrum is nothing on Optimism.
	if l, ok := r.Lookup("optimism", "0xe35e9842fceaCA96570B734083f4a58e8F7C5f2A"); ok {
		t.Errorf("arbitrum's SpokePool labelled on optimism: %+v", l)
	}
}

func TestReadTagPack(t *testing.T) {
	in := `title: Test pack
creator: flowtrace tests
source: https://example.org/pack
currency: ETH
category: exchange
tags:
  - address: "0x28c6c06298d514db089934071355e5743bf21d60"
    label: Binance 14
  - address: "0x12d66f87a04a9e220743712ce6d9bb1b5616b8fc"
    label: Tornado 0.1
    category: mixing_service
    source: https://docs.tornado.cash
  - address: bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh
    label: some btc wallet
    currency: BTC
    category: perpetrator
  - address: "0x7a250d5630b4cf539739df2c5dacb4c659f2488d"
    label: Uniswap
    category: casino
`
	r := New()
	if err := r.ReadTagPack(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		chain string
		addr  tracer.Address
		want  tracer.Label
	}{
		{"ethereum", "0x28C6c06298d514Db089934071355E5743bf21d60", tracer.Label{Name: "Binance 14", Category: tracer.CategoryExchange, Source: "https://example.org/pack"}},
		{"ethereum", "0x12D66f87A04A9E220743712cE6d9bB1B5616B8Fc", tracer.Label{Name: "Tornado 0.1", Category: tracer.CategoryMixer, Source: "https://docs.tornado.cash"}},
		{"bitcoin", "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", tracer.Label{Name: "some btc wallet", Category: tracer.CategorySanctions, Source: "https://example.org/pack"}},
		{"ethereum", "0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D", tracer.Label{Name: "Uniswap", Category: tracer.CategoryOther, Source: "https://example.org/pack"}},
	} {
		if got, ok := r.Lookup(c.chain, c.addr); !ok || got != c.want {
			t.Errorf("%s %s = %+v %v, want %+v", c.chain, c.addr, got, ok, c.want)
		}
	}
}

func TestReadTagPackErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":    "",
		"no tags":  "title: x\n",
		"syntax":   "tags: [\n",
		"no chain": "tags:\n  - address: \"0x28c6c06298d514db089934071355e5743bf21d60\"\n    label: x\n",
		"address":  "currency: ETH\ntags:\n  - address: \"0x1234\"\n    label: x\n",
		"label":    "currency: ETH\ntags:\n  - address: \"0x28c6c06298d514db089934071355e5743bf21d60\"\n",
	} {
		if err := New().ReadTagPack(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestConflictRule: user files read after the bundled registry win, and the
// replacement is recorded.
func TestConflictRule(t *testing.T) {
	r, err := Bundled()
	if err != nil {
		t.Fatal(err)
	}
	in := "chain,address,label,category,source\nethereum,0x28C6c06298d514Db089934071355E5743bf21d60,My Binance,exchange,case notes\n"
	if err := r.ReadCSV(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if l, _ := r.Lookup("ethereum", "0x28C6c06298d514Db089934071355E5743bf21d60"); l.Name != "My Binance" {
		t.Errorf("user label did not win: %+v", l)
	}
	if len(r.Conflicts) != 1 || !strings.Contains(r.Conflicts[0], "My Binance") {
		t.Errorf("conflicts = %q", r.Conflicts)
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add("chain,address,label,category,source\nethereum,0x28c6c06298d514db089934071355e5743bf21d60,B,exchange,s\n")
	f.Add("chain,address,label,category,source\n# c\nethereum,0x1234,x,exchange,s\n")
	f.Add("chain,address\n\"unterminated")
	f.Add(string(registryCSV))
	f.Add(string(tokensCSV))
	f.Fuzz(func(t *testing.T, in string) {
		r := New()
		if err := r.ReadCSV(strings.NewReader(in)); err != nil {
			return
		}
		checkEntries(t, r)
	})
}

func FuzzReadTagPack(f *testing.F) {
	f.Add("currency: ETH\ntags:\n  - address: \"0x28c6c06298d514db089934071355e5743bf21d60\"\n    label: x\n")
	f.Add("network: bitcoin\ncategory: mixing_service\nlabel: m\ntags:\n  - address: bc1q\n")
	f.Add("tags: [{address: 0x1, label: x, currency: eth}]")
	f.Add("{")
	f.Fuzz(func(t *testing.T, in string) {
		r := New()
		if err := r.ReadTagPack(strings.NewReader(in)); err != nil {
			return
		}
		checkEntries(t, r)
	})
}

// checkEntries asserts what every accepted file gives: known categories,
// and EVM addresses in EIP-55 form.
func checkEntries(t *testing.T, r *Registry) {
	t.Helper()
	for k, tok := range r.tokens {
		if c, err := canonical(string(tok.Address)); err != nil || c != string(tok.Address) || !strings.HasSuffix(k, c) {
			t.Errorf("%s: token address not canonical (%v)", k, err)
		}
	}
	for k, l := range r.byKey {
		if !known(l.Category) {
			t.Errorf("%s: unknown category %q", k, l.Category)
		}
		_, addr, _ := strings.Cut(k, ":")
		if strings.HasPrefix(addr, "0x") || strings.HasPrefix(addr, "0X") {
			if c, err := canonical(addr); err != nil || c != addr {
				t.Errorf("%s: address not canonical (%v)", k, err)
			}
		}
	}
}
