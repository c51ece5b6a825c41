package utxo

import (
	"cmp"
	"slices"
)

// ShapeOptions tune the peel and scatter shapes. The zero value means the
// defaults, which are those of the graph's detectors (graph.DetectOptions).
type ShapeOptions struct {
	// MaxPeelPercent: a peel is at most this share of the step's two
	// outputs (default 35); MinPeelHops steps make a chain (default 3).
	MaxPeelPercent int64
	MinPeelHops    int
	// MinScatter is the fewest fresh recipients of a scatter (default 4).
	MinScatter int
}

func (o ShapeOptions) withDefaults() ShapeOptions {
	o.MaxPeelPercent = cmp.Or(o.MaxPeelPercent, 35)
	o.MinPeelHops = cmp.Or(o.MinPeelHops, 3)
	o.MinScatter = cmp.Or(o.MinScatter, 4)
	return o
}

// PeelStep is one step of a peel chain (Meiklejohn et al. 2013, sec. 5.2):
// a transaction paying a small peel to one address and the larger rest on
// to the next step.
type PeelStep struct {
	TxID       string
	Peel, Rest int // output positions
	PeelValue  int64
	RestValue  int64
	// RestIsChange is the change guess's confidence that the rest is the
	// spender's change (0: no guess).
	RestIsChange float64
}

// PeelOf says whether tx is a peel step: not a coinbase or a CoinJoin,
// exactly two spendable outputs, the smaller at most MaxPeelPercent of
// the two together, and not named change by GuessChange (then the small
// output is what the spender keeps, and the large one a payment).
func PeelOf(tx Tx, opts ShapeOptions) (PeelStep, bool) {
	o := opts.withDefaults()
	if len(tx.Inputs) == 0 || tx.Inputs[0].Coinbase {
		return PeelStep{}, false
	}
	if _, cj := DetectCoinJoin(tx); cj {
		return PeelStep{}, false
	}
	var spend []int
	for i, out := range tx.Outputs {
		if spendable(out) {
			spend = append(spend, i)
		}
	}
	if len(spend) != 2 {
		return PeelStep{}, false
	}
	peel, rest := spend[0], spend[1]
	if tx.Outputs[peel].Value > tx.Outputs[rest].Value {
		peel, rest = rest, peel
	}
	p, r := tx.Outputs[peel].Value, tx.Outputs[rest].Value
	if p*100 > (p+r)*o.MaxPeelPercent {
		return PeelStep{}, false
	}
	step := PeelStep{TxID: tx.TxID, Peel: peel, Rest: rest, PeelValue: p, RestValue: r}
	if g, ok := GuessChange(tx); ok {
		if g.Output == peel {
			return PeelStep{}, false
		}
		step.RestIsChange = g.Confidence
	}
	return step, true
}

// PeelChain reads txs as a walk that follows one coin: it returns the
// leading run of peel steps in which each transaction spends the rest
// output of the one before, and whether the run is long enough
// (MinPeelHops) to be a peel chain.
func PeelChain(txs []Tx, opts ShapeOptions) ([]PeelStep, bool) {
	o := opts.withDefaults()
	var steps []PeelStep
	for i, tx := range txs {
		s, ok := PeelOf(tx, o)
		if !ok {
			break
		}
		if i > 0 {
			prev := steps[i-1]
			want := Outpoint{TxID: prev.TxID, Vout: txs[i-1].Outputs[prev.Rest].Index}
			if !slices.ContainsFunc(tx.Inputs, func(in Input) bool { return in.Prev == want }) {
				break
			}
		}
		steps = append(steps, s)
	}
	return steps, len(steps) >= o.MinPeelHops
}

// Scatter is value paid out to many fresh addresses by one transaction or
// a run of them.
type Scatter struct {
	Recipients []string // the fresh addresses, sorted
	Value      int64    // sats paid to them
	Txs        int
}

// ScatterOf says whether txs pay at least MinScatter distinct fresh
// addresses. An address is fresh unless it is one of the run's input
// addresses (change) or seen says it has a history (nil: none has).
// CoinJoins do not count: their many outputs are the mixer's.
func ScatterOf(txs []Tx, seen func(addr string) bool, opts ShapeOptions) (Scatter, bool) {
	o := opts.withDefaults()
	inputs := map[string]bool{}
	for _, tx := range txs {
		for _, in := range tx.Inputs {
			inputs[in.Address] = true
		}
	}
	fresh := map[string]bool{}
	var sc Scatter
	for _, tx := range txs {
		if _, cj := DetectCoinJoin(tx); cj {
			continue
		}
		paid := false
		for _, out := range tx.Outputs {
			a := out.Address
			if a == "" || out.Value == 0 || inputs[a] || (seen != nil && seen(a)) {
				continue
			}
			fresh[a] = true
			sc.Value += out.Value
			paid = true
		}
		if paid {
			sc.Txs++
		}
	}
	for a := range fresh {
		sc.Recipients = append(sc.Recipients, a)
	}
	slices.Sort(sc.Recipients)
	return sc, len(sc.Recipients) >= o.MinScatter
}
