package tracer

import (
	"slices"
	"testing"
)

// A UTXO-shaped walk: the seed pays a transaction, which pays two outputs
// and the fee sink. The native coin has 8 decimals, so --min-value 0.005 is
// 500,000 base units; the fee sink is a terminal with its own bucket.
func TestWalkNativeCoinAndSourceCategories(t *testing.T) {
	src := &fakeSource{
		transfers: []Transfer{
			eth(5, "victim", "seed", 100_000_000),
			eth(6, "seed", "tx", 100_000_000),
			eth(6, "tx", "out", 98_600_000),
			eth(6, "tx", "dust", 400_000),
			eth(6, "tx", "fees", 1_000_000),
		},
		contracts: map[Address]bool{"tx": true},
		kinds:     map[Address]Category{"tx": CategoryTransaction, "fees": CategoryFees},
	}
	th, err := ParseThreshold("0.005")
	if err != nil {
		t.Fatal(err)
	}
	tr := walk(t, src, Options{Native: Token{Symbol: "BTC", Decimals: 8}, MinValue: th})
	if got, want := nodeSet(tr), []Address{"fees", "out", "seed", "tx"}; !slices.Equal(got, want) {
		t.Fatalf("nodes = %v, want %v (0.005 BTC = 500,000 units: dust is below it)", got, want)
	}
	if tr.Native != (Token{Symbol: "BTC", Decimals: 8}) || tr.Summary.Assets[0].Symbol != "BTC" || tr.Summary.Assets[0].Decimal != 8 {
		t.Errorf("native %+v, summary %s/%d: want BTC/8", tr.Native, tr.Summary.Assets[0].Symbol, tr.Summary.Assets[0].Decimal)
	}
	if n := node(tr, "tx"); n.Category != CategoryTransaction || n.Stop != NodeFollowed {
		t.Errorf("tx: category %q stop %q, want a followed transaction", n.Category, n.Stop)
	}
	if n := node(tr, "fees"); n.Category != CategoryFees || n.Stop != NodeTerminal {
		t.Errorf("fees: category %q stop %q, want a fees terminal", n.Category, n.Stop)
	}
	b := tr.Summary.Assets[0].Buckets
	if b[BucketFees] == nil || b[BucketFees].Int64() != 1_000_000 || b[BucketDormant].Int64() != 98_600_000 || b[BucketBelowThreshold].Int64() != 400_000 {
		t.Errorf("buckets %v: want fees 1000000, dormant 98600000, below_threshold 400000", b)
	}
	checkConservation(t, tr)
}

// Without Options.Native the coin is ETH with 18 decimals.
func TestWalkNativeDefaultsToETH(t *testing.T) {
	src := &fakeSource{transfers: []Transfer{eth(5, "victim", "seed", 100), eth(6, "seed", "a", 100)}}
	th, err := ParseThreshold("0.005")
	if err != nil {
		t.Fatal(err)
	}
	tr := walk(t, src, Options{MinValue: th})
	if tr.Native != DefaultNative || tr.Summary.Assets[0].Symbol != "ETH" || tr.Summary.Assets[0].Decimal != 18 {
		t.Errorf("native %+v, summary %s/%d: want ETH/18", tr.Native, tr.Summary.Assets[0].Symbol, tr.Summary.Assets[0].Decimal)
	}
	if slices.Contains(nodeSet(tr), "a") {
		t.Errorf("100 wei is above 0.005 ETH: nodes %v", nodeSet(tr))
	}
}

// Fees below the threshold still count as fees at the fee sink, not as
// value below the threshold.
func TestWalkFeeSinkBelowThreshold(t *testing.T) {
	src := &fakeSource{
		transfers: []Transfer{
			eth(5, "victim", "seed", 100_000_000),
			eth(6, "seed", "tx", 100_000_000),
			eth(6, "tx", "out", 99_999_000),
			eth(6, "tx", "fees", 1_000),
		},
		contracts: map[Address]bool{"tx": true},
		kinds:     map[Address]Category{"tx": CategoryTransaction, "fees": CategoryFees},
	}
	th, err := ParseThreshold("0.1%")
	if err != nil {
		t.Fatal(err)
	}
	tr := walk(t, src, Options{Native: Token{Symbol: "BTC", Decimals: 8}, MinValue: th, FeeSink: "fees"})
	if node(tr, "fees") != nil {
		t.Errorf("1,000 units is below 0.1%% of 100,000,000: the fee sink is no node")
	}
	b := tr.Summary.Assets[0].Buckets
	if b[BucketFees] == nil || b[BucketFees].Int64() != 1_000 || b[BucketBelowThreshold] != nil {
		t.Errorf("buckets %v: want fees 1000 and nothing below the threshold", b)
	}
	checkConservation(t, tr)
}
