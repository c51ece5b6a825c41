package tracer

import (
	"fmt"
	"math/big"
	"strings"
)

// Threshold is the smallest tainted amount a transfer must carry to be followed:
// either a share of the stolen amount of its asset ("0.1%") or an absolute
// amount in whole units of the asset ("0.5" ETH, "100" USDT).
type Threshold struct {
	share *big.Rat // fraction of the stolen amount, or nil
	units *big.Rat // whole units of the asset, or nil
}

// ParseThreshold reads "0", "1.5" (whole units) or "0.1%" (share of the stolen amount).
func ParseThreshold(s string) (Threshold, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	num := strings.TrimSuffix(s, "%")
	r, ok := new(big.Rat).SetString(num)
	if !ok || r.Sign() < 0 || strings.ContainsAny(num, "/eE") {
		return Threshold{}, fmt.Errorf("min value %q: want a non-negative number of whole units (e.g. 0.5) or a share of the stolen amount (e.g. 0.1%%)", s)
	}
	if pct {
		if r.Cmp(big.NewRat(100, 1)) > 0 {
			return Threshold{}, fmt.Errorf("min value %q: a share cannot exceed 100%%", s)
		}
		return Threshold{share: r.Quo(r, big.NewRat(100, 1))}, nil
	}
	return Threshold{units: r}, nil
}

// String is the form ParseThreshold reads.
func (t Threshold) String() string {
	switch {
	case t.share != nil:
		return new(big.Rat).Mul(t.share, big.NewRat(100, 1)).FloatString(4) + "%"
	case t.units != nil:
		return t.units.FloatString(6)
	}
	return "0"
}

// Amount is the threshold in base units for an asset with the given decimals
// and stolen amount (rounded up, so a threshold is never weakened by rounding).
func (t Threshold) Amount(decimals uint8, stolen *big.Int) *big.Int {
	var r *big.Rat
	switch {
	case t.share != nil:
		if stolen == nil {
			return new(big.Int)
		}
		r = new(big.Rat).Mul(t.share, new(big.Rat).SetInt(stolen))
	case t.units != nil:
		scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
		r = new(big.Rat).Mul(t.units, new(big.Rat).SetInt(scale))
	default:
		return new(big.Int)
	}
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}
