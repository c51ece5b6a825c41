package tracer

import "math/big"

// Swaps. When a traced address X sends asset A to a contract P and, in the
// same transaction, P sends X another asset B (a DEX pool trade), the
// stolen part of A is booked as swapped at P and the walk follows B instead:
// B carries stolen value at the executed rate, taint(A) * amount(B) / amount(A),
// whatever P held before. P's own outflows are read because P received
// stolen value; a labelled DEX router is a terminal, so trades through one
// are booked as swapped without following the output.

// swapKey names one trade: a transaction, the trader and the pool.
type swapKey struct {
	tx          string
	trader, pol Address
}

// swapLeg is the input side of a trade as the ledger replays it.
type swapLeg struct {
	asset           Asset
	amount, tainted *big.Int
	booked          bool // a conversion's deposit is booked as bridged (convert.go)
}

// swapPairs indexes the outflows by (tx, sender, recipient), to find the
// other leg of a trade.
func swapPairs(evs []ledgerEvent) map[swapKey]Transfer {
	m := map[swapKey]Transfer{}
	for _, e := range evs {
		if !e.credit {
			m[swapKey{e.t.TxHash, e.t.From, e.t.To}] = e.t
		}
	}
	return m
}

// swapOutput returns the stolen part of t when t is the output of a trade
// whose input was replayed, and books the input as swapped at the pool.
func (l *ledger) swapOutput(t Transfer) (*big.Int, bool) {
	in, ok := l.swapIns[swapKey{t.TxHash, t.To, t.From}]
	if !ok || in.asset == t.Asset || in.tainted.Sign() == 0 || in.amount.Sign() == 0 {
		return nil, false
	}
	x := new(big.Int).Mul(t.Amount, in.tainted)
	x.Quo(x, in.amount)
	if x.Cmp(t.Amount) > 0 {
		x.Set(t.Amount)
	}
	// The pool no longer holds the stolen input: it was traded away.
	gone := l.purse(t.From, in.asset).forfeit(in.tainted)
	amountAt(l.swapped, t.From, in.asset).Add(amountAt(l.swapped, t.From, in.asset), gone)
	amountAt(l.swappedIn, t.To, t.Asset).Add(amountAt(l.swappedIn, t.To, t.Asset), x)
	in.tainted = new(big.Int) // one output books the input once
	return x, true
}

// recordSwapInput remembers what a transfer carried into a possible pool.
func (l *ledger) recordSwapInput(t Transfer, x *big.Int) {
	l.swapIns[swapKey{t.TxHash, t.From, t.To}] = &swapLeg{asset: t.Asset, amount: t.Amount, tainted: new(big.Int).Set(x)}
}

// sumByAsset adds up per-address amounts per asset.
func sumByAsset(m map[Address]map[Asset]*big.Int) map[Asset]*big.Int {
	out := map[Asset]*big.Int{}
	for _, byAsset := range m {
		for a, v := range byAsset {
			if out[a] == nil {
				out[a] = new(big.Int)
			}
			out[a].Add(out[a], v)
		}
	}
	return out
}
