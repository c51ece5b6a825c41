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

// conversionRefs lists the deposits that payouts name.
func conversionRefs(evs []ledgerEvent) map[string]bool {
	m := map[string]bool{}
	for _, e := range evs {
		if ref := e.t.Annotations[AnnConverts]; !e.credit && ref != "" {
			m[ref] = true
		}
	}
	return m
}

// conversionOutput returns the stolen part of t when t is a bridge's
// payout, and books its deposit as bridged at the hub (once).
func (l *ledger) conversionOutput(t Transfer) (*big.Int, bool) {
	ref := t.Annotations[AnnConverts]
	if ref == "" {
		return nil, false
	}
	in := l.convIns[ref]
	if in == nil || in.amount.Sign() == 0 {
		return new(big.Int), true // its deposit carried nothing the walk saw
	}
	x := new(big.Int).Mul(t.Amount, in.tainted)
	x.Quo(x, in.amount)
	if x.Cmp(t.Amount) > 0 {
		x.Set(t.Amount)
	}
	if !in.booked {
		in.booked = true
		kind := t.Annotations[AnnConversion]
		if kind != ConversionRefunded {
			kind = ConversionBridged
		}
		gone := l.purse(t.From, in.asset).forfeit(in.tainted)
		byHub := l.bridged[kind]
		if byHub == nil {
			byHub = map[Address]map[Asset]*big.Int{}
			l.bridged[kind] = byHub
		}
		amountAt(byHub, t.From, in.asset).Add(amountAt(byHub, t.From, in.asset), gone)
	}
	amountAt(l.bridgedIn, t.To, t.Asset).Add(amountAt(l.bridgedIn, t.To, t.Asset), x)
	return x, true
}
