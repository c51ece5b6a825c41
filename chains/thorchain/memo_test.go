package thorchain

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMemo(t *testing.T) {
	n := func(s string) *big.Int { v, _ := new(big.Int).SetString(s, 10); return v }
	btc := Asset{Chain: "BTC", Symbol: "BTC", Form: FormNative}
	for _, c := range []struct {
		name, memo string
		want       Memo
	}{
		{ // thornode quote endpoint answer (gitlab thorchain/thornode#1445)
			"quote", "=:BTC.BTC:bc1q3a2le4lazts64u8mqte5vuxvug25z5w6rhs95g:5855757:t:10",
			Memo{Action: ActionSwap, Asset: btc, Destination: "bc1q3a2le4lazts64u8mqte5vuxvug25z5w6rhs95g",
				Limit: n("5855757"), Affiliates: []Affiliate{{"t", 10}}},
		},
		{ // the affiliate-fee proposal (gitlab thorchain/thornode#653)
			"long form", "SWAP:THOR.RUNE:thor1uwxgm4w8ud6pu4dc2s5tqnrmk7exjzjpvm2krs:123123123:thor1uwxgm4w8ud6pu4dc2s5tqnrmk7exjzjpvm2krs:100",
			Memo{Action: ActionSwap, Asset: Asset{Chain: "THOR", Symbol: "RUNE", Form: FormNative},
				Destination: "thor1uwxgm4w8ud6pu4dc2s5tqnrmk7exjzjpvm2krs", Limit: n("123123123"),
				Affiliates: []Affiliate{{"thor1uwxgm4w8ud6pu4dc2s5tqnrmk7exjzjpvm2krs", 100}}},
		},
		{ // synth target (gitlab thorchain/thornode#1847)
			"synth", "=:AVAX/USDC:thor188cm7ttvfpkxahageez4fufgk003cx2vw9nzdc:0:t:30",
			Memo{Action: ActionSwap, Asset: Asset{Chain: "AVAX", Symbol: "USDC", Form: FormSynth},
				Destination: "thor188cm7ttvfpkxahageez4fufgk003cx2vw9nzdc", Affiliates: []Affiliate{{"t", 30}}},
		},
		{ // streaming swap, shorthand asset, as ETH->BTC laundering memos are written
			"streaming shorthand", "=:b:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh:0/1/0",
			Memo{Action: ActionSwap, Asset: btc, Destination: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", Streaming: true, Interval: 1},
		},
		{
			"streaming with limit in scientific notation", "s:e:0x9b0bd7a0f3b8a6fd2c7a0e6d7e3f8a5b2c1d0e9f:12e6/3/10:t:15",
			Memo{Action: ActionSwap, Asset: Asset{Chain: "ETH", Symbol: "ETH", Form: FormNative},
				Destination: "0x9b0bd7a0f3b8a6fd2c7a0e6d7e3f8a5b2c1d0e9f", Limit: n("12000000"), Streaming: true, Interval: 3, Quantity: 10,
				Affiliates: []Affiliate{{"t", 15}}},
		},
		{
			"token with contract", "=:ETH.USDT-0XDAC17F958D2EE523A2206206994597C13D831EC7:0x4e7f0d5b6a7c3e1f2d9b8a6c5e4f3a2b1c0d9e8f",
			Memo{Action: ActionSwap, Asset: Asset{Chain: "ETH", Symbol: "USDT", Contract: "0XDAC17F958D2EE523A2206206994597C13D831EC7", Form: FormNative},
				Destination: "0x4e7f0d5b6a7c3e1f2d9b8a6c5e4f3a2b1c0d9e8f"},
		},
		{
			"refund address and several affiliates", "=:BTC.BTC:bc1qdest0000000000000000000000000000000000/bc1qrefund000000000000000000000000000000:0/1/0:t/ss/tc:10/20/5",
			Memo{Action: ActionSwap, Asset: btc, Destination: "bc1qdest0000000000000000000000000000000000",
				Refund: "bc1qrefund000000000000000000000000000000", Streaming: true, Interval: 1,
				Affiliates: []Affiliate{{"t", 10}, {"ss", 20}, {"tc", 5}}},
		},
		{
			"one fee for all affiliates", "=:l:ltc1qdest:0:a1/a2:7",
			Memo{Action: ActionSwap, Asset: Asset{Chain: "LTC", Symbol: "LTC", Form: FormNative}, Destination: "ltc1qdest",
				Affiliates: []Affiliate{{"a1", 7}, {"a2", 7}}},
		},
		{
			"trade asset", "=:BTC~BTC:thor1dest", Memo{Action: ActionSwap, Asset: Asset{Chain: "BTC", Symbol: "BTC", Form: FormTrade}, Destination: "thor1dest"},
		},
		{
			"secured asset", "swap:BTC-BTC:thor1dest", Memo{Action: ActionSwap, Asset: Asset{Chain: "BTC", Symbol: "BTC", Form: FormSecured}, Destination: "thor1dest"},
		},
		{
			"no destination: back to the sender", "=:r", Memo{Action: ActionSwap, Asset: Asset{Chain: "THOR", Symbol: "RUNE", Form: FormNative}},
		},
		{
			"outbound", "OUT:9E4D4C03F5C6D8A0E2C09E30F0C2D4F5A6B7C8D9E0F1A2B3C4D5E6F7A8B9C0D1",
			Memo{Action: ActionOut, TxID: "9E4D4C03F5C6D8A0E2C09E30F0C2D4F5A6B7C8D9E0F1A2B3C4D5E6F7A8B9C0D1"},
		},
		{
			"refund", "REFUND:0x9e4d4c03f5c6d8a0e2c09e30f0c2d4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1",
			Memo{Action: ActionRefund, TxID: "0x9e4d4c03f5c6d8a0e2c09e30f0c2d4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1"},
		},
		{ // savers deposit (gitlab thorchain/thornode#1445): not a swap
			"add liquidity", "+:ETH/ETH::tt:100", Memo{Action: ActionOther},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseMemo(c.memo)
			if err != nil {
				t.Fatal(err)
			}
			c.want.Raw = c.memo
			c.want.Verb = strings.SplitN(c.memo, ":", 2)[0]
			if d := cmp.Diff(c.want, got, cmp.Comparer(func(a, b *big.Int) bool {
				return (a == nil) == (b == nil) && (a == nil || a.Cmp(b) == 0)
			})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestParseMemoErrors(t *testing.T) {
	for _, memo := range []string{
		"=:", "=:BTC:bc1q", "=:.BTC:x", "=:BTC.:x", "=:BTC.BTC:x:abc", "=:BTC.BTC:x:1/2/3/4",
		"=:BTC.BTC:x:0/a/1", "=:BTC.BTC:x:0:t:20000", "=:BTC.BTC:x:0:a/b/c:1/2", "=:BTC.BTC:x:0::10",
		"=:BTC.BTC:x:0:a//b:1", "OUT:", "REFUND:nothex", "=:b:x:1e99",
	} {
		if _, err := ParseMemo(memo); !errors.Is(err, ErrNotSwap) {
			t.Errorf("%q: err = %v, want ErrNotSwap", memo, err)
		}
	}
}

func TestDestinationChain(t *testing.T) {
	for in, want := range map[string]string{"BTC.BTC": "bitcoin", "e": "ethereum", "AVAX/USDC": "thorchain", "BTC~BTC": "thorchain", "XYZ.ABC": "xyz"} {
		a, err := ParseAsset(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.DestinationChain(); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	if got := (Asset{Chain: "ETH", Symbol: "USDT", Contract: "0XDAC1", Form: FormNative}).String(); got != "ETH.USDT-0XDAC1" {
		t.Errorf("String = %s", got)
	}
}

// FuzzParseMemo: any input parses or fails with ErrNotSwap, never panics,
// and a parsed swap has a valid asset that prints back in a parseable form.
func FuzzParseMemo(f *testing.F) {
	f.Fuzz(func(t *testing.T, memo string) {
		m, err := ParseMemo(memo)
		if err != nil {
			if !errors.Is(err, ErrNotSwap) {
				t.Fatalf("%q: error %v does not wrap ErrNotSwap", memo, err)
			}
			return
		}
		switch m.Action {
		case ActionSwap:
			back, err := ParseAsset(m.Asset.String())
			if err != nil || back.Chain != m.Asset.Chain || back.Form != m.Asset.Form {
				t.Fatalf("%q: asset %v does not round-trip: %v %v", memo, m.Asset, back, err)
			}
			for _, a := range m.Affiliates {
				if a.Address == "" || a.FeeBps > maxFeeBps {
					t.Fatalf("%q: bad affiliate %+v", memo, a)
				}
			}
			if m.Limit != nil && m.Limit.Sign() <= 0 {
				t.Fatalf("%q: limit %v", memo, m.Limit)
			}
		case ActionOut, ActionRefund:
			if m.TxID == "" {
				t.Fatalf("%q: no tx id", memo)
			}
		}
	})
}
