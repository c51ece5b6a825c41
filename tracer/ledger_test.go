package tracer

import "testing"

// Each outflow's trade partner is the last in chain order of the outflows
// the other way in its transaction, also when they are booked over several
// levels and out of chain order.
func TestLedgerTradePartnerFollowsBookings(t *testing.T) {
	in := eth(5, "trader", "pool", 10)
	back := token(5, "tok", "pool", "trader", 7, "trader")
	back.TxHash = in.TxHash
	back2 := back
	back2.LogIndex, back2.Seq = 1, back.Seq+1 // a second leg back, later in the tx
	l := newLedger(nil, "")
	book := func(ts ...Transfer) {
		for _, x := range ts {
			l.addOutflow(x, x.ID())
		}
		l.merge()
	}
	rev := func(x Transfer) *event { return l.outflow(x.ID()).rev }
	book(in)
	if rev(in) != nil {
		t.Fatal("a lone outflow has a partner")
	}
	book(back2)
	if rev(in) != l.outflow(back2.ID()) || rev(back2) != l.outflow(in.ID()) {
		t.Fatal("the legs booked a level apart are not partners")
	}
	book(back) // earlier in the tx than back2: the partner stays the last
	if rev(in) != l.outflow(back2.ID()) || rev(back) != l.outflow(in.ID()) {
		t.Fatalf("partner of the input is %v, want the later leg back", rev(in).id)
	}
}
