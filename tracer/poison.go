package tracer

import "math/big"

// Poison is poison-first taint: an outflow takes stolen value first from its
// sender's holdings, up to its amount; clean value is spent only once the
// stolen value is gone.
type Poison struct{}

// Name implements TaintModel.
func (Poison) Name() string { return "poison" }

func (Poison) newPurse() purse { return &poisonPurse{t: new(big.Int)} }

type poisonPurse struct{ t *big.Int }

func (p *poisonPurse) receive(_, tainted *big.Int) { p.t.Add(p.t, tainted) }

func (p *poisonPurse) spend(amount *big.Int) *big.Int {
	x := new(big.Int).Set(amount)
	if p.t.Cmp(x) < 0 {
		x.Set(p.t)
	}
	p.t.Sub(p.t, x)
	return x
}

func (p *poisonPurse) forfeit(x *big.Int) *big.Int { return takeUpTo(p.t, x) }

func (p *poisonPurse) tainted() *big.Int { return p.t }

func minInt(a, b *big.Int) *big.Int {
	if a.Cmp(b) < 0 {
		return a
	}
	return b
}
