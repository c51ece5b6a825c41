package evm

import (
	"context"
	"encoding/json"
	"math/big"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/flowtrace/flowtrace/chains/evm/bridges"
	"github.com/flowtrace/flowtrace/chains/rpcfault"
	"github.com/flowtrace/flowtrace/chains/rpcreplay"
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

// The fills of named deposits (7 and 8), read from the recorded three-chain case: the
// Across fill of deposit 7 from Ethereum, not the fill of deposit 7 from
// another chain in the same block; and the same through a node that first
// answers logs outside the range asked (re-asked, nothing kept from them).
func TestBridgeFillsRecorded(t *testing.T) {
	data, err := os.ReadFile("../../fixtures/three-evm/case.json")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Fill   string   `json:"across_fill"`
		Stolen []string `json:"stolen"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	q := FillQuery{Protocol: bridges.Across, Window: tracer.BlockRange{From: 1, To: 3}, Origins: []uint64{1}, DepositIDs: []*big.Int{big.NewInt(7), big.NewInt(8)}}
	waits := 0
	read := func(url string, rt http.RoundTripper) []bridges.Event {
		src, err := Dial(context.Background(), url, Options{Chain: "arbitrum", HTTPClient: &http.Client{Transport: rt}})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		src.c.wait = func(context.Context, time.Duration) error { waits++; return nil } // retry waits noted, not spent
		evs, err := src.BridgeFills(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	check := func(how string, evs []bridges.Event) {
		if len(evs) != 1 || evs[0].TxHash != c.Fill || evs[0].OriginChainID != 1 || evs[0].DepositID.Int64() != 7 ||
			"arbitrum:"+evs[0].Recipient != c.Stolen[2] || evs[0].OutputAmount.String() != "5970000000000000000" || evs[0].Time == 0 {
			t.Errorf("%s: fills %+v; want the one of deposit 7 from chain 1 in %s, paying %s 5.97 ETH", how, evs, c.Fill, c.Stolen[2])
		}
	}
	rp, err := rpcreplay.LoadReplayer("../../fixtures/three-evm/arbitrum.replay")
	if err != nil {
		t.Fatal(err)
	}
	check("replayed", read("http://127.0.0.1:1/", rp))
	p, err := rpcfault.Start(rpcfault.Options{Upstream: "http://127.0.0.1:1/", Transport: rp, Classes: []rpcfault.Class{rpcfault.LogOutOfRange}, Rate: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	check("through stray logs", read(p.URL(), http.DefaultTransport))
	if p.Counts()[rpcfault.LogOutOfRange] == 0 || waits == 0 {
		t.Errorf("%d stray logs served in %d requests, %d answers re-asked; want some of each", p.Counts()[rpcfault.LogOutOfRange], p.Requests(), waits)
	}
	if _, err := (&Source{}).BridgeFills(context.Background(), FillQuery{Protocol: bridges.LayerZero, Window: q.Window}); err == nil {
		t.Error("fills of LayerZero packets were asked")
	}
}
