package tracer

import "math/big"

// Swaps. When a traced address X sends asset A to a contract P and, in the
// same transaction, P sends X another asset B (a DEX pool trade), the
// stolen part of A is booked as swapped at P and the walk follows B instead:
// B carries stolen value at the executed rate, taint(A) * amount(B) / amount(A),
// whatever P held before. P's own outflows are read because P received
// stolen value; a labelled DEX router is a terminal, so trades through one
// are booked as swapped without following the output.

// pairKey names one trade: a transaction, the trader and the pool, by
// their ledger indexes.
type pairKey struct{ tx, trader, pool int32 }

// swapLeg is the input side of a trade as the ledger replays it.
type swapLeg struct {
	asset           Asset
	poolSlot        int32 // the pool's (a deposit's hub's) purse of asset
	amount, tainted *big.Int
	booked          bool // a conversion's deposit is booked as bridged (convert.go)
}

// swapOutput returns the stolen part of e when e is the output of a trade
// whose input was replayed, and books the input as swapped at the pool.
func (l *ledger) swapOutput(e *event) (*big.Int, bool) {
	in, ok := l.swapIns[pairKey{e.tx, e.to, e.from}]
	if !ok || in.asset == e.t.Asset || in.tainted.Sign() == 0 || in.amount.Sign() == 0 {
		return nil, false
	}
	x := new(big.Int).Mul(e.t.Amount, in.tainted)
	x.Quo(x, in.amount)
	if x.Cmp(e.t.Amount) > 0 {
		x.Set(e.t.Amount)
	}
	// The pool no longer holds the stolen input: it was traded away.
	gone := l.purse(in.poolSlot).forfeit(in.tainted)
	addAt(l.swapped, in.poolSlot, gone)
	addAt(l.swappedIn, e.toSlot, x)
	in.tainted = new(big.Int) // one output books the input once
	return x, true
}

// recordSwapInput remembers what a transfer carried into a possible pool.
func (l *ledger) recordSwapInput(e *event, x *big.Int) {
	l.swapIns[pairKey{e.tx, e.from, e.to}] = &swapLeg{asset: e.t.Asset, poolSlot: e.toSlot, amount: e.t.Amount, tainted: new(big.Int).Set(x)}
}
