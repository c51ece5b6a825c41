package utxo

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func spend(id string, addrs ...string) Tx {
	tx := Tx{TxID: id}
	for i, a := range addrs {
		tx.Inputs = append(tx.Inputs, in(a, int64(1000+i)))
	}
	tx.Outputs = []Output{out(p2wpkh(999), 500)}
	return tx
}

func TestClusters(t *testing.T) {
	c := NewClusters()
	for _, tx := range []Tx{
		spend("t1", "d", "b"),
		spend("t2", "b", "e"),
		spend("t3", "x", "y"),
		spend("t4", "z"),
	} {
		if !c.Add(tx) {
			t.Fatalf("%s not added", tx.TxID)
		}
	}
	cj := whirlpoolTx(5, 1_000_000, []int64{3_000})
	c.Add(spend("t5", cj.Inputs[0].Address, "b")) // a CoinJoin touching a cluster merges nothing
	if c.Add(cj) {
		t.Error("a CoinJoin was merged")
	}
	if c.Add(Tx{TxID: "cb", Inputs: []Input{{Coinbase: true}}}) {
		t.Error("a coinbase was merged")
	}
	want := [][]string{{"b", cj.Inputs[0].Address, "d", "e"}, {"x", "y"}}
	if d := cmp.Diff(want, c.Groups()); d != "" {
		t.Errorf("groups (-want +got)\n%s", d)
	}
	if !c.Same("d", "e") || c.Same("d", "x") || c.Same("d", cj.Inputs[1].Address) {
		t.Error("Same disagrees with the groups")
	}
	if c.Of("e") != "b" || c.Of("z") != "z" || c.Of("never-seen") != "never-seen" {
		t.Errorf("Of: %q %q %q", c.Of("e"), c.Of("z"), c.Of("never-seen"))
	}
	if !slices.Equal(c.Skipped(), []string{"whirlpool"}) {
		t.Errorf("skipped %v", c.Skipped())
	}
}

// TestClustersOrderIndependent adds the same random transactions in many
// orders and wants the same groups and names every time.
func TestClustersOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 12))
	var txs []Tx
	for i := range 300 {
		var addrs []string
		for range 1 + r.IntN(4) {
			addrs = append(addrs, p2wpkh(r.IntN(400)))
		}
		txs = append(txs, spend(p2sh(i), addrs...))
	}
	build := func(order []int) (*Clusters, [][]string) {
		c := NewClusters()
		for _, i := range order {
			c.Add(txs[i])
		}
		return c, c.Groups()
	}
	base, want := build(r.Perm(len(txs)))
	if len(want) == 0 {
		t.Fatal("no clusters formed")
	}
	for range 20 {
		c, got := build(r.Perm(len(txs)))
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("groups depend on order (-want +got)\n%s", d)
		}
		for _, g := range got {
			for _, a := range g {
				if c.Of(a) != g[0] || base.Of(a) != g[0] {
					t.Fatalf("%s named %s / %s, want %s", a, c.Of(a), base.Of(a), g[0])
				}
			}
		}
	}
}
