package bridges

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// FuzzDecode feeds Decode logs with a bridge topic and arbitrary indexed
// topics and data: it must never panic, and an event it accepts must be
// whole (a protocol, a side, and its pairing key).
func FuzzDecode(f *testing.F) {
	topics := Topics()
	for _, l := range mustRecorded(f) {
		for i, t := range topics {
			if t == l.Topics[0] {
				var rest []byte
				for _, x := range l.Topics[1:] {
					rest = append(rest, x.Bytes()...)
				}
				f.Add(uint8(i), rest, l.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, rest, data []byte) {
		l := types.Log{Topics: []common.Hash{topics[int(which)%len(topics)]}, Data: data}
		for len(rest) >= 32 && len(l.Topics) < 4 {
			l.Topics = append(l.Topics, common.BytesToHash(rest[:32]))
			rest = rest[32:]
		}
		ev, ok, err := Decode(l)
		if !ok {
			t.Fatalf("a log with topic %s is not taken as a bridge event", l.Topics[0])
		}
		if err != nil {
			return
		}
		if ev.Protocol == "" || ev.Side == "" {
			t.Fatalf("event without protocol or side: %+v", ev)
		}
		switch ev.Protocol {
		case Across:
			if ev.DepositID == nil || ev.OutputAmount == nil {
				t.Fatalf("across event without deposit id or amount: %+v", ev)
			}
		case Stargate:
			if ev.GUID == "" || ev.OutputAmount == nil {
				t.Fatalf("stargate event without guid or amount: %+v", ev)
			}
		case LayerZero:
			if ev.Sender == "" || ev.Receiver == "" && ev.Side == Fill {
				t.Fatalf("layerzero event without its path: %+v", ev)
			}
		}
		ann := Annotations(ev) // never panics on a decoded event
		if ev.Side != Deposit || ev.Protocol == LayerZero {
			return
		}
		// A deposit's annotations give back what pairs it.
		back, err := DepositEvent(ann)
		if err != nil {
			t.Fatalf("deposit %+v: annotations %v not read back: %v", ev, ann, err)
		}
		if back.Protocol != ev.Protocol || back.GUID != ev.GUID || back.DestChainID != ev.DestChainID || back.DstEID != ev.DstEID ||
			back.FillDeadline != ev.FillDeadline || back.Depositor != ev.Depositor || back.Recipient != ev.Recipient ||
			!sameInt(back.DepositID, ev.DepositID) || !sameInt(back.InputAmount, ev.InputAmount) || !sameInt(back.OutputAmount, ev.OutputAmount) {
			t.Fatalf("deposit %+v read back as %+v", ev, back)
		}
	})
}

func sameInt(a, b *big.Int) bool { return (a == nil) == (b == nil) && (a == nil || a.Cmp(b) == 0) }
