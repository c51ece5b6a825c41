package tracer

import (
	"slices"
	"testing"
)

// The zero address receives burns and sends mints: it is no wallet, so the
// walk never expands it, and what it sends (mints to others) is not followed.
func TestWalkNeverFollowsTheZeroAddress(t *testing.T) {
	src := &fakeSource{transfers: []Transfer{
		eth(5, "victim", "seed", 100),
		eth(6, "seed", ZeroAddress, 40),
		eth(6, "seed", "hop", 60),
		eth(7, ZeroAddress, "minted-to", 40),
	}}
	tr := walk(t, src, Options{})
	if slices.Contains(nodeSet(tr), "minted-to") {
		t.Errorf("the walk followed the zero address as a wallet: nodes %v", nodeSet(tr))
	}
	n := node(tr, ZeroAddress)
	if n == nil || n.Stop != NodeTerminal || len(n.Labels) == 0 || n.Labels[0] != zeroAddressLabel {
		t.Fatalf("zero address = %+v, want a labelled terminal", n)
	}
	if b := tr.Summary.Assets[0].Buckets; b[BucketOther].Int64() != 40 || b[BucketDormant].Int64() != 60 {
		t.Errorf("buckets = %v, want other (burned) 40, dormant 60", b)
	}
	checkConservation(t, tr)
}
