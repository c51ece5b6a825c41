package graph

import (
	"cmp"
	"maps"
	"math/big"
	"slices"
	"strings"
)

// BucketShares writes each bucket's share of whole in hundredths of a
// percent, rounded by largest remainder: when the buckets add up to whole,
// the shares add up to exactly 100.00%.
func BucketShares(buckets map[string]*big.Int, whole *big.Int) map[string]string {
	out := make(map[string]string, len(buckets))
	if whole == nil || whole.Sign() == 0 {
		for b := range buckets {
			out[b] = "0.00%"
		}
		return out
	}
	type part struct {
		name   string
		q, rem *big.Int
	}
	var parts []part
	total := new(big.Int)
	for _, b := range slices.Sorted(maps.Keys(buckets)) {
		v := buckets[b]
		if v == nil {
			v = new(big.Int)
		}
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(new(big.Int).Abs(v), big.NewInt(10000)), whole, new(big.Int))
		parts = append(parts, part{b, q, r})
		total.Add(total, q)
	}
	// Hand the hundredths lost to truncation to the largest remainders.
	left := new(big.Int).Sub(big.NewInt(10000), total)
	order := slices.Clone(parts)
	slices.SortStableFunc(order, func(a, b part) int { return cmp.Or(b.rem.Cmp(a.rem), strings.Compare(a.name, b.name)) })
	for i := 0; left.Sign() > 0 && i < len(order) && order[i].rem.Sign() > 0; i++ {
		order[i].q.Add(order[i].q, big.NewInt(1))
		left.Sub(left, big.NewInt(1))
	}
	for _, p := range parts {
		s := p.q.String()
		if len(s) < 3 {
			s = strings.Repeat("0", 3-len(s)) + s
		}
		out[p.name] = s[:len(s)-2] + "." + s[len(s)-2:] + "%"
	}
	return out
}
