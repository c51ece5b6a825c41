package utxo

import (
	"slices"
	"strings"
)

// Clusters groups addresses by common-input ownership: the inputs of one
// transaction are taken to be signed by one owner (Nakamoto 2008, sec. 10;
// Meiklejohn et al. 2013, Heuristic 1). A CoinJoin breaks that premise, so
// its inputs are never merged. The result does not depend on the order the
// transactions are added in. The zero value is not usable: use NewClusters.
type Clusters struct {
	parent  map[string]string
	size    map[string]int
	least   map[string]string // at a root: the cluster's smallest address
	skipped []string          // CoinJoins seen, by txid
}

// NewClusters returns no clusters.
func NewClusters() *Clusters {
	return &Clusters{parent: map[string]string{}, size: map[string]int{}, least: map[string]string{}}
}

// Add merges tx's input addresses into one cluster. It reports false, and
// merges nothing, for a coinbase and for a CoinJoin (listed in Skipped).
func (c *Clusters) Add(tx Tx) bool {
	if len(tx.Inputs) == 0 || tx.Inputs[0].Coinbase {
		return false
	}
	if _, cj := DetectCoinJoin(tx); cj {
		c.skipped = append(c.skipped, tx.TxID)
		return false
	}
	first := ""
	for _, in := range tx.Inputs {
		if in.Address == "" {
			continue
		}
		if first == "" {
			first = in.Address
			c.root(first)
			continue
		}
		c.union(first, in.Address)
	}
	return first != ""
}

// Of is the cluster's name for addr: the smallest address in its cluster
// (addr itself when it was never merged).
func (c *Clusters) Of(addr string) string {
	if _, ok := c.parent[addr]; !ok {
		return addr
	}
	return c.least[c.root(addr)]
}

// Same says whether a and b are in one cluster.
func (c *Clusters) Same(a, b string) bool { return a == b || c.Of(a) == c.Of(b) }

// Groups lists the clusters of two or more addresses, each sorted, ordered
// by their smallest address.
func (c *Clusters) Groups() [][]string {
	by := map[string][]string{}
	for a := range c.parent {
		r := c.root(a)
		by[r] = append(by[r], a)
	}
	var out [][]string
	for _, g := range by {
		if len(g) > 1 {
			slices.Sort(g)
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(x, y []string) int { return strings.Compare(x[0], y[0]) })
	return out
}

// Skipped lists the CoinJoins Add refused to merge, in the order added.
func (c *Clusters) Skipped() []string { return slices.Clone(c.skipped) }

// root finds a's root, adding a as its own cluster when new, and
// compresses the path.
func (c *Clusters) root(a string) string {
	p, ok := c.parent[a]
	if !ok {
		c.parent[a], c.size[a], c.least[a] = a, 1, a
		return a
	}
	if p == a {
		return a
	}
	r := c.root(p)
	c.parent[a] = r
	return r
}

// union merges the clusters of a and b, the smaller under the larger.
func (c *Clusters) union(a, b string) {
	ra, rb := c.root(a), c.root(b)
	if ra == rb {
		return
	}
	if c.size[ra] < c.size[rb] {
		ra, rb = rb, ra
	}
	c.parent[rb] = ra
	c.size[ra] += c.size[rb]
	c.least[ra] = min(c.least[ra], c.least[rb])
	delete(c.size, rb)
	delete(c.least, rb)
}
