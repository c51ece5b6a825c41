package evm

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/flowtrace/flowtrace/chains/evm/bridges"
	"github.com/flowtrace/flowtrace/tracer"
)

// The bridge deposits recorded from MiniBridge on a dev node annotate the
// transfers into the contract in their transactions; fills, packets and
// transfers elsewhere are left alone.
func TestAnnotateBridgeDeposits(t *testing.T) {
	b, err := os.ReadFile("bridges/testdata/bridge.logs.json")
	if err != nil {
		t.Fatal(err)
	}
	var logs []types.Log
	if err := json.Unmarshal(b, &logs); err != nil {
		t.Fatal(err)
	}
	var out []tracer.Transfer
	for _, l := range logs {
		out = append(out, tracer.Transfer{TxHash: l.TxHash.Hex(), BlockNumber: l.BlockNumber, To: tracer.Address(l.Address.Hex())})
	}
	out = append(out, tracer.Transfer{TxHash: logs[0].TxHash.Hex(), BlockNumber: logs[0].BlockNumber, To: "0x00000000000000000000000000000000000b0b01"})
	annotateFromLogs(out, logs)
	sides := map[string]int{}
	for i, x := range out[:len(logs)] {
		ev, _, _ := bridges.Decode(logs[i])
		switch {
		case ev.Side == bridges.Deposit && ev.Protocol != bridges.LayerZero:
			back, err := bridges.DepositEvent(x.Annotations)
			if err != nil || back.TxHash != "" || back.Name != ev.Name || back.Contract != ev.Contract {
				t.Errorf("deposit %s: annotations %v read back as %+v, %v", ev.Name, x.Annotations, back, err)
			}
			sides[string(ev.Protocol)]++
		case x.Annotations != nil:
			t.Errorf("%s %s annotated %v", ev.Protocol, ev.Name, x.Annotations)
		}
	}
	if sides["across"] != 4 || sides["stargate"] != 1 {
		t.Errorf("annotated deposits %v, want 4 Across and 1 Stargate", sides)
	}
	if out[len(logs)].Annotations != nil {
		t.Errorf("a transfer to another address of a deposit's tx was annotated: %v", out[len(logs)].Annotations)
	}
}
