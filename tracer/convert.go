package tracer

import "math/big"

// Conversions. A bridge swap is a deposit on one chain into the swap's hub
// and a payout from the hub on another chain (or a refund), in other
// transactions: the payout names its deposit (AnnConverts). Like a trade's
// output (swap.go), the payout carries stolen value at the executed rate,
// tainted(deposit) * amount(payout) / amount(deposit), whatever the hub
// held; the deposit's stolen value leaves the hub, booked as bridged (or
// refunded). A swap paid out in several legs books each leg at the same
// rate. The payout does not draw on the hub's balance: the bridge paid it.

// prepareConversion indexes the deposit that e, an outflow, pays out
// when e is a bridge's payout.
func (l *ledger) prepareConversion(e *event) {
	ref := e.t.Annotations[AnnConverts]
	if ref == "" {
		e.converts = -1
		return
	}
	e.converts = l.id(ref)
	l.convRefs[e.converts] = true
}

// recordDeposit remembers what e, a deposit a payout names, carried into
// the bridge.
func (l *ledger) recordDeposit(e *event, x *big.Int) {
	if l.convIns == nil {
		l.convIns = map[int32]*swapLeg{}
	}
	l.convIns[e.n] = &swapLeg{asset: e.t.Asset, poolSlot: e.toSlot, amount: e.t.Amount, tainted: new(big.Int).Set(x)}
}

// conversionOutput returns the stolen part of e when e is a bridge's
// payout, and books its deposit as bridged at the hub (once).
func (l *ledger) conversionOutput(e *event) (*big.Int, bool) {
	if e.converts < 0 {
		return nil, false
	}
	in := l.convIns[e.converts]
	if in == nil || in.amount.Sign() == 0 {
		return new(big.Int), true // its deposit carried nothing the walk saw
	}
	x := new(big.Int).Mul(e.t.Amount, in.tainted)
	x.Quo(x, in.amount)
	if x.Cmp(e.t.Amount) > 0 {
		x.Set(e.t.Amount)
	}
	if l.bridged == nil {
		l.bridged, l.bridgedIn = map[string]map[int32]*big.Int{}, map[int32]*big.Int{}
	}
	if !in.booked {
		in.booked = true
		kind := e.t.Annotations[AnnConversion]
		if kind != ConversionRefunded {
			kind = ConversionBridged
		}
		// The hub's purse of the deposit's asset: a hub that never
		// received that asset holds none of it.
		if hub, ok := l.slots[slotKey{e.from, l.slotOf[in.poolSlot].asset}]; ok {
			gone := l.purse(hub).forfeit(in.tainted)
			if l.bridged[kind] == nil {
				l.bridged[kind] = map[int32]*big.Int{}
			}
			addAt(l.bridged[kind], hub, gone)
		}
	}
	addAt(l.bridgedIn, e.toSlot, x)
	return x, true
}
