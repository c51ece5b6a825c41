package tracer

import "math/big"

// FIFO taint: value leaves in the order it arrived. Each inflow is a lot
// (its amount and its stolen part); an outflow consumes the oldest lots
// first, taking a partly consumed lot's stolen part pro rata (rounded down).
// An outflow larger than the known lots is covered by clean value of
// unknown origin.
type FIFO struct{}

// Name implements TaintModel.
func (FIFO) Name() string { return "fifo" }

func (FIFO) newPurse() purse { return &fifoPurse{t: new(big.Int)} }

type lot struct{ amount, tainted *big.Int }

type fifoPurse struct {
	lots []lot // oldest first
	t    *big.Int
}

func (p *fifoPurse) receive(amount, tainted *big.Int) {
	if amount.Sign() == 0 {
		return
	}
	p.lots = append(p.lots, lot{new(big.Int).Set(amount), new(big.Int).Set(tainted)})
	p.t.Add(p.t, tainted)
}

func (p *fifoPurse) spend(amount *big.Int) *big.Int {
	need, x := new(big.Int).Set(amount), new(big.Int)
	for need.Sign() > 0 && len(p.lots) > 0 {
		l := &p.lots[0]
		if l.amount.Cmp(need) <= 0 {
			need.Sub(need, l.amount)
			x.Add(x, l.tainted)
			p.lots = p.lots[1:]
			continue
		}
		part := new(big.Int).Mul(need, l.tainted)
		part.Quo(part, l.amount)
		l.amount.Sub(l.amount, need)
		l.tainted.Sub(l.tainted, part)
		x.Add(x, part)
		need.SetInt64(0)
	}
	p.t.Sub(p.t, x)
	return x
}

// forfeit clears stolen value from the newest lots first: the trade's input
// is the value that arrived last.
func (p *fifoPurse) forfeit(x *big.Int) *big.Int {
	dropped := takeUpTo(p.t, x)
	left := new(big.Int).Set(dropped)
	for i := len(p.lots) - 1; i >= 0 && left.Sign() > 0; i-- {
		d := new(big.Int).Set(minInt(left, p.lots[i].tainted))
		left.Sub(left, d)
		p.lots[i].tainted.Sub(p.lots[i].tainted, d)
	}
	return dropped
}

func (p *fifoPurse) tainted() *big.Int { return p.t }
