package bridges

import (
	"math/big"
	"strings"
	"testing"
	"time"
)

// legs splits the recorded events into the deposit legs (read on their
// source chain) and the fill legs (on their destination), as the recorded
// transfers played them: Across from Ethereum, Stargate from Arbitrum.
func legs(t *testing.T) (deps, fills []Leg) {
	evs := decodedAll(t)
	for _, e := range evs {
		switch {
		case e.Side == Deposit && e.Protocol == Stargate:
			deps = append(deps, Leg{Chain: "arbitrum", Event: e, Known: true})
		case e.Side == Deposit:
			deps = append(deps, Leg{Chain: "ethereum", Event: e, Known: true})
		case e.Protocol == Stargate:
			fills = append(fills, Leg{Chain: "bsc", Event: e, Known: true})
		case e.DepositID != nil && e.DepositID.Int64() == 1_000_000:
			fills = append(fills, Leg{Chain: "bsc", Event: e, Known: true})
		default:
			fills = append(fills, Leg{Chain: "arbitrum", Event: e, Known: true})
		}
	}
	if len(deps) != 6 || len(fills) != 5 {
		t.Fatalf("%d deposits, %d fills recorded; want 6, 5", len(deps), len(fills))
	}
	return deps, fills
}

func TestMatchRecorded(t *testing.T) {
	deps, fills := legs(t)
	m, err := NewMatcher(0, deps...)
	if err != nil {
		t.Fatal(err)
	}
	// Fills arrive in any order; one offered twice counts once; deposits
	// are not fills.
	for _, i := range []int{3, 4, 1, 0, 2, 0} {
		if !m.Offer(fills[i]) {
			t.Errorf("fill %d (%s) answers no deposit", i, fills[i].Event.Name)
		}
	}
	if m.Offer(deps[0]) {
		t.Error("a deposit was taken as a fill")
	}
	type want struct {
		status    Status
		fillChain string
		received  *big.Int
		conf      float64
		doubt     string
	}
	check := func(scanned int64, wants []want) {
		t.Helper()
		res := m.Results(scanned)
		if len(res) != len(wants) {
			t.Fatalf("%d results, want %d", len(res), len(wants))
		}
		for i, w := range wants {
			p := res[i]
			if p.Deposit.Event.TxHash != deps[i].Event.TxHash || p.Status != w.status {
				t.Errorf("pair %d: deposit %s status %s, want %s %s", i, p.Deposit.Event.TxHash, p.Status, deps[i].Event.TxHash, w.status)
				continue
			}
			if w.status != Paired {
				if p.Fill != nil || p.Received != nil {
					t.Errorf("pair %d: %s with a fill", i, p.Status)
				}
				continue
			}
			if p.Fill.Chain != w.fillChain || (w.received != nil && !eq(p.Received, w.received)) || (w.received == nil && p.Received != nil) || p.Confidence != w.conf {
				t.Errorf("pair %d: fill on %s, received %v, confidence %v; want %s %v %v (doubts %q)",
					i, p.Fill.Chain, p.Received, p.Confidence, w.fillChain, w.received, w.conf, p.Doubts)
			}
			if got := strings.Join(p.Doubts, "; "); !strings.Contains(got, w.doubt) || (w.doubt == "" && got != "") {
				t.Errorf("pair %d: doubts %q, want %q", i, got, w.doubt)
			}
			if p.Delay < 0 || p.Fill.Event.Time < p.Deposit.Event.Time {
				t.Errorf("pair %d: delay %d", i, p.Delay)
			}
		}
	}
	dep0 := deps[0].Event
	// Before the deadline: the unfilled deposit is pending.
	paired := []want{
		{Paired, "arbitrum", eth(990), 1, ""},
		{Paired, "bsc", eth(1980), 1, ""},
		{Paired, "bsc", eth(499), 1, ""},
		{Pending, "", nil, 0, ""},
		{Paired, "arbitrum", eth(395), 0.9 * 0.9, "speed-up"},
		{Paired, "arbitrum", nil, 1, ""}, // a LayerZero packet: delivered, no amount
	}
	check(dep0.Time+60, paired)
	// Past its fill deadline (and the clock skew), it is not found.
	paired[3].status = NotFound
	check(dep0.FillDeadline+ClockSkew+1, paired)
	// The horizon is the Stargate send's bound (no deadline: the default
	// max delay), later than the Across deadlines (an hour).
	if h, want := m.Horizon(), deps[2].Event.Time+int64(DefaultMaxDelay/time.Second)+ClockSkew; h != want {
		t.Errorf("horizon %d, want %d", h, want)
	}
	// PairAnnotations carry both legs.
	ann := PairAnnotations(m.Results(dep0.Time)[4])
	if ann[AnnPair] != "paired" || ann[AnnFillChain] != "arbitrum" || ann[AnnFillTx] != fills[3].Event.TxHash ||
		ann[AnnReceived] != eth(395).String() || ann[AnnConfidence] != "0.81" || !strings.Contains(ann[AnnDoubts], "speed-up") {
		t.Errorf("pair annotations %v", ann)
	}
	if ann := PairAnnotations(m.Results(dep0.FillDeadline + ClockSkew + 1)[3]); len(ann) != 1 || ann[AnnPair] != "not_found" {
		t.Errorf("unpaired annotations %v", ann)
	}
}

func TestMatchDoubts(t *testing.T) {
	deps, fills := legs(t)
	across, stargate, packet := deps[0], deps[2], deps[5]
	fill, receipt, delivery := fills[0], fills[2], fills[4]
	for _, tc := range []struct {
		name   string
		dep    Leg
		fill   func(Leg) Leg
		paired bool
		conf   float64
		doubt  string
	}{
		{"unknown fill contract", across, func(f Leg) Leg { f.Known = false; return f }, true, 0.5, "fill contract is not a known across"},
		{"wrong destination chain", across, func(f Leg) Leg { f.Chain = "base"; return f }, true, 0.3, "the deposit asked for arbitrum"},
		{"other input amount", across, func(f Leg) Leg { f.Event.InputAmount = eth(1); return f }, true, 0.3, "input amount differ"},
		{"other origin chain", across, func(f Leg) Leg { f.Event.OriginChainID = 10; return f }, false, 0, ""},
		{"other deposit id", across, func(f Leg) Leg { f.Event.DepositID = big.NewInt(70); return f }, false, 0, ""},
		{"after the deadline", across, func(f Leg) Leg { f.Event.Time = across.Event.FillDeadline + ClockSkew + 1; return f }, false, 0, ""},
		{"long before the deposit", across, func(f Leg) Leg { f.Event.Time = across.Event.Time - ClockSkew - 1; return f }, false, 0, ""},
		{"receipt from another source", stargate, func(f Leg) Leg { f.Event.SrcEID = 30101; return f }, true, 0.3, "not arbitrum's 30110"},
		{"receipt of less", stargate, func(f Leg) Leg { f.Event.OutputAmount = eth(10); return f }, true, 0.5, "differs from the amount the send promised"},
		{"receipt of another guid", stargate, func(f Leg) Leg { f.Event.GUID = "0x01"; return f }, false, 0, ""},
		{"packet of another nonce", packet, func(f Leg) Leg { f.Event.Nonce = 43; return f }, false, 0, ""},
		{"packet from another sender", packet, func(f Leg) Leg { f.Event.Sender = recipient1.Hex(); return f }, false, 0, ""},
		{"packet delivered on another chain", packet, func(f Leg) Leg { f.Chain = "base"; return f }, false, 0, ""},
		{"packet delivered by an unknown endpoint", packet, func(f Leg) Leg { f.Known = false; return f }, true, 0.5, "not a known layerzero"},
	} {
		base := map[Protocol]Leg{Across: fill, Stargate: receipt, LayerZero: delivery}[tc.dep.Event.Protocol]
		m, err := NewMatcher(0, tc.dep)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Offer(tc.fill(base)); got != tc.paired {
			t.Errorf("%s: offered = %v, want %v", tc.name, got, tc.paired)
			continue
		}
		if !tc.paired {
			continue
		}
		p := m.Results(0)[0]
		if p.Confidence != tc.conf || !strings.Contains(strings.Join(p.Doubts, "; "), tc.doubt) {
			t.Errorf("%s: confidence %v, doubts %q; want %v, %q", tc.name, p.Confidence, p.Doubts, tc.conf, tc.doubt)
		}
	}
}

// Two fills naming one deposit: the earlier one wins, whatever the order
// they come in, and the pair says there was another.
func TestMatchCompetingFills(t *testing.T) {
	deps, fills := legs(t)
	first := fills[0]
	later := first
	later.Event.TxHash, later.Event.Time, later.Event.Block = "0xfeed", first.Event.Time+5, first.Event.Block+1
	for _, order := range [][]Leg{{first, later}, {later, first}} {
		m, err := NewMatcher(time.Hour, deps[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range order {
			m.Offer(f)
		}
		p := m.Results(0)[0]
		if p.Fill.Event.TxHash != first.Event.TxHash || p.Confidence != 0.5 || !strings.Contains(strings.Join(p.Doubts, ";"), "another fill") {
			t.Errorf("order %s first: fill %s, confidence %v, doubts %q", order[0].Event.TxHash, p.Fill.Event.TxHash, p.Confidence, p.Doubts)
		}
	}
}

func TestNewMatcherRefuses(t *testing.T) {
	deps, fills := legs(t)
	noTime := deps[0]
	noTime.Event.Time = 0
	unknown := deps[0]
	unknown.Chain = "dogechain"
	for name, l := range map[string]Leg{"a fill": fills[0], "no block time": noTime, "unknown chain": unknown} {
		if _, err := NewMatcher(0, l); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := NewMatcher(-time.Second, deps[0]); err == nil {
		t.Error("negative max delay: no error")
	}
	// A Stargate send has no deadline: the bound is the max delay.
	m, err := NewMatcher(time.Hour, deps[2])
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Results(deps[2].Event.Time + 3600 + ClockSkew + 1)[0]; p.Status != NotFound || p.Until != deps[2].Event.Time+3600 {
		t.Errorf("after an hour: %s until %d", p.Status, p.Until)
	}
}
