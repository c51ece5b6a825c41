package tracer

import "math/big"

// Haircut taint: each outflow carries the stolen share of its sender's
// balance at that moment, amount * stolen / balance (rounded down; the
// remainder stays with the sender). The balance counts the clean inflows
// the walk read too; an outflow larger than the known balance is covered by
// clean value of unknown origin.
type Haircut struct{}

// Name implements TaintModel.
func (Haircut) Name() string { return "haircut" }

func (Haircut) newPurse() purse { return &haircutPurse{total: new(big.Int), t: new(big.Int)} }

type haircutPurse struct{ total, t *big.Int }

func (p *haircutPurse) receive(amount, tainted *big.Int) {
	p.total.Add(p.total, amount)
	p.t.Add(p.t, tainted)
}

func (p *haircutPurse) spend(amount *big.Int) *big.Int {
	if p.total.Cmp(amount) < 0 {
		p.total.Set(amount) // the rest was there, of unknown (clean) origin
	}
	x := new(big.Int)
	if p.total.Sign() > 0 {
		x.Mul(amount, p.t).Quo(x, p.total)
	}
	p.total.Sub(p.total, amount)
	p.t.Sub(p.t, x)
	return x
}

func (p *haircutPurse) forfeit(x *big.Int) *big.Int { return takeUpTo(p.t, x) }

func (p *haircutPurse) tainted() *big.Int { return p.t }
