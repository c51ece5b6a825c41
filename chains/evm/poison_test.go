package evm

import (
	"encoding/csv"
	"math/big"
	"os"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/tracer"
)

// Real address-poisoning transfers (testdata/poison-hunter/SOURCE.md): a
// fake token copying USDC's symbol emits a Transfer claiming the victim sent
// to the attacker's look-alike address, in a transaction the token's
// deployer signed. The trust rule must never take it as the victim's value:
// impersonating by the registry (its symbol copies USDC's), spoofed without
// the symbol or the registry (the victim did not sign). A "dust" row, a
// real USDT transfer from the look-alike address it signed, is genuine
// value (the walk's threshold, not the trust rule, keeps dust out).
//
// The dataset states no amounts; the rule's answer is asserted for every
// amount class (nothing moved, and a positive amount).
func TestPoisonHunterTransfers(t *testing.T) {
	f, err := os.Open("testdata/poison-hunter/phishing_transfers_sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	reg, err := labels.Bundled()
	if err != nil {
		t.Fatal(err)
	}
	notContract := func(tracer.Address) bool { return false }
	a := func(s string) tracer.Address { return addr(common.HexToAddress(s)) }
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 3", len(rows)-1)
	}
	for _, row := range rows[1:] {
		get := func(k string) string { return row[col[k]] }
		x := tracer.Transfer{Chain: "ethereum", TxHash: get("tx_hash"), Kind: tracer.KindERC20, LogIndex: 0,
			Asset: tracer.Asset(a(get("fake_token_address"))), TxFrom: a(get("tx_from"))}
		meta := tracer.Token{Symbol: get("symbol")}
		described := func(tracer.Address) (tracer.Token, bool) { return meta, true }
		unknown := func(tracer.Address) (tracer.Token, bool) { return tracer.Token{}, false }
		switch get("phishing_type") {
		case "fake":
			x.From, x.To = a(get("victim")), a(get("attacker")) // the event claims the victim paid the look-alike
			if x.TxFrom == x.From || reg.Recognised("ethereum", tracer.Address(x.Asset)) {
				t.Fatalf("%s: the victim signed or the token is recognised: not a fake-token row", x.TxHash)
			}
			for _, amount := range []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 255)} {
				x.Amount = amount
				want := map[string]tracer.Trust{"registry": tracer.TrustImpersonating, "no symbol": tracer.TrustSpoofed, "no registry": tracer.TrustSpoofed}
				if amount.Sign() == 0 {
					want = map[string]tracer.Trust{"registry": tracer.TrustZeroValue, "no symbol": tracer.TrustZeroValue, "no registry": tracer.TrustZeroValue}
				}
				got := map[string]tracer.Trust{
					"registry":    tracer.Classify(x, "ethereum", reg, described, notContract),
					"no symbol":   tracer.Classify(x, "ethereum", reg, unknown, notContract),
					"no registry": tracer.Classify(x, "ethereum", nil, described, notContract),
				}
				for k, w := range want {
					if got[k] != w {
						t.Errorf("%s (fake %s, amount %s), %s: %s, want %s", x.TxHash, meta.Symbol, amount, k, got[k], w)
					}
				}
			}
			if real, ok := reg.Impersonates("ethereum", tracer.Address(x.Asset), meta); !ok ||
				real != a("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48") {
				t.Errorf("%s: impersonates %q, %v; want USDC", x.Asset, real, ok)
			}
		case "dust":
			x.From, x.To, x.Amount = a(get("attacker")), a(get("victim")), big.NewInt(1)
			if got := tracer.Classify(x, "ethereum", reg, unknown, notContract); got != tracer.TrustGenuine {
				t.Errorf("%s (dust in %s): %s, want genuine", x.TxHash, x.Asset, got)
			}
		default:
			t.Fatalf("unexpected phishing type %q", get("phishing_type"))
		}
	}
}
