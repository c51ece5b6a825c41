package tracer

import (
	"fmt"
	"math/big"
	"strings"
)

// TaintModel decides which part of an outflow is stolen value, from what its
// sender received before it. Every model is time-causal (an outflow only
// draws on inflows replayed before it), works per address and asset, and
// conserves value (what an outflow carries leaves its sender's purse). Each
// model is one file: poison.go, haircut.go, fifo.go.
//
// The ledger knows an address's inflows only from transfers the walk read:
// the seeds' inflows in the window and the outflows of expanded addresses.
// Value of unknown origin (a balance from before the window, inflows from
// addresses never expanded) counts as clean and appears when it is spent.
type TaintModel interface {
	// Name is the model's name in --taint, params and the report.
	Name() string
	newPurse() purse
}

// purse is what one address holds of one asset, as a model sees it.
type purse interface {
	// receive books an inflow of amount, of which tainted is stolen value.
	receive(amount, tainted *big.Int)
	// spend books an outflow of amount and returns its stolen part.
	spend(amount *big.Int) *big.Int
	// forfeit drops x of the stolen value held, leaving the balance: the
	// stolen input of a trade, traded away at the pool.
	// It returns what it dropped (no more than the stolen value held).
	forfeit(x *big.Int) *big.Int
	// tainted is the stolen value held now.
	tainted() *big.Int
}

// TaintModels lists the models in the order the report shows them.
func TaintModels() []TaintModel { return []TaintModel{Poison{}, Haircut{}, FIFO{}} }

// ParseTaint returns the model named s.
func ParseTaint(s string) (TaintModel, error) {
	var names []string
	for _, m := range TaintModels() {
		if m.Name() == s {
			return m, nil
		}
		names = append(names, m.Name())
	}
	return nil, fmt.Errorf("taint model %q: want one of %s", s, strings.Join(names, ", "))
}

// modelOf is the model the options ask for: poison-first by default.
func modelOf(m TaintModel) TaintModel {
	if m == nil {
		return Poison{}
	}
	return m
}

// takeUpTo takes up to x out of held and returns what it took.
func takeUpTo(held, x *big.Int) *big.Int {
	d := new(big.Int).Set(minInt(x, held))
	held.Sub(held, d)
	return d
}
