package tracer

import (
	"math/big"
	"testing"
)

// TestWalkFollowsSwaps: the seed sells a stolen token to a pool contract for
// ETH in one transaction; the ETH is followed at the executed rate, the
// token is booked as swapped, and the pool's other customers stay clean.
func TestWalkFollowsSwaps(t *testing.T) {
	lst := Address("lst")
	sell := token(10, lst, "seed", "pool", 1000, "seed")
	back := eth(10, "pool", "seed", 500) // 1000 LST -> 500 ETH
	back.TxHash, back.TraceAddress = sell.TxHash, []int{0}
	src := &fakeSource{
		transfers: []Transfer{
			token(1, lst, "victim", "seed", 1000, "victim"),
			eth(5, "lp", "pool", 10_000), // the pool's own liquidity
			sell, back,
			eth(20, "seed", "hop", 400),        // the bought ETH moves on
			eth(30, "pool", "customer", 2_000), // another trade: clean ETH
			token(31, lst, "pool", "customer", 500, "customer"),
		},
		contracts: map[Address]bool{"pool": true},
		tokens:    map[Address]Token{lst: {Symbol: "LST", Decimals: 18}},
	}
	tr := walk(t, src, Options{})
	if node(tr, "customer") != nil {
		t.Errorf("the pool's later customer was reached: %v", nodeSet(tr))
	}
	hop := node(tr, "hop")
	if hop == nil || hop.Received[NativeAsset].Cmp(big.NewInt(400)) != 0 {
		t.Fatalf("hop = %+v, want 400 ETH of swapped value", hop)
	}
	var native, tok *AssetSummary
	for i, s := range tr.Summary.Assets {
		switch s.Asset {
		case NativeAsset:
			native = &tr.Summary.Assets[i]
		case Asset(lst):
			tok = &tr.Summary.Assets[i]
		}
	}
	if tok == nil || tok.Buckets[BucketSwapped] == nil || tok.Buckets[BucketSwapped].Cmp(big.NewInt(1000)) != 0 {
		t.Errorf("LST summary = %+v, want 1000 swapped", tok)
	}
	if native == nil || native.SwappedIn == nil || native.SwappedIn.Cmp(big.NewInt(500)) != 0 {
		t.Errorf("ETH summary = %+v, want 500 bought", native)
	}
	checkConservation(t, tr)
}

// TestWalkDescribesTokensMetMidTrace: a level-1 address swaps the stolen
// ETH into a token the seeds never received; the token is described in the
// hop that first meets it and the bought token is followed on.
func TestWalkDescribesTokensMetMidTrace(t *testing.T) {
	newTok := Address("newtok")
	sell := eth(10, "a", "pool", 100)
	back := token(10, newTok, "pool", "a", 3000, "a")
	back.TxHash = sell.TxHash
	src := &fakeSource{
		transfers: []Transfer{
			eth(1, "victim", "seed", 100),
			eth(2, "seed", "a", 100),
			sell, back,
			token(20, newTok, "a", "hop", 3000, "a"),
		},
		contracts: map[Address]bool{"pool": true},
		tokens:    map[Address]Token{newTok: {Symbol: "NEW", Decimals: 18}},
	}
	tr := walk(t, src, Options{})
	hop := node(tr, "hop")
	if hop == nil || hop.Received[Asset(newTok)] == nil || hop.Received[Asset(newTok)].Int64() != 3000 {
		t.Fatalf("hop = %+v, want 3000 NEW bought with the stolen ETH (nodes %v, skipped %v)", hop, nodeSet(tr), tr.Skipped)
	}
	checkConservation(t, tr)
}
