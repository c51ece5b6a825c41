package crosschain

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/chains/evm/bridges"
	"github.com/flowtrace/flowtrace/tracer"
)

// fakeFills answers fixed fill events and accounts, and notes what it was asked.
type fakeFills struct {
	fills     []bridges.Event
	contracts map[tracer.Address]bool
	asked     []evm.FillQuery
}

func (f *fakeFills) BridgeFills(_ context.Context, q evm.FillQuery) ([]bridges.Event, error) {
	f.asked = append(f.asked, q)
	return f.fills, nil
}

func (f *fakeFills) Describe(_ context.Context, accounts, _ []tracer.Address) (tracer.Descriptions, error) {
	d := tracer.Descriptions{Accounts: map[tracer.Address]tracer.Account{}}
	for _, a := range accounts {
		d.Accounts[a] = tracer.Account{IsContract: f.contracts[a]}
	}
	return d, nil
}

const (
	spoke     = "0x00000000000000000000000000000000000000a1"
	wethArb   = "0x82aF49447D8a07e3bd95BD0d56f35241523fBab1"
	usdcArb   = "0xaf88d065e77c8cC2239327C5EDb3A432268e5831"
	recipient = "0x00000000000000000000000000000000000b0b01"
	fillTx    = "0xf111000000000000000000000000000000000000000000000000000000000001"
)

// acrossDeposit is an Across deposit transfer on Ethereum as the evm Source
// annotates it, made at time 1,000,000 (block 20).
func acrossDeposit(id int64, outputToken, recipient string) Deposit {
	ev := bridges.Event{Protocol: bridges.Across, Side: bridges.Deposit, Name: "V3FundsDeposited", Contract: spoke,
		DepositID: big.NewInt(id), DestChainID: 42161, Depositor: "0x00000000000000000000000000000000000000d0", Recipient: recipient,
		InputToken: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", InputAmount: big.NewInt(1000), OutputToken: outputToken, OutputAmount: big.NewInt(990)}
	t := xfer("ethereum", 20, fmt.Sprintf("0xd%d", id), "thief", spoke, 1000)
	t.Annotations = bridges.Annotations(ev)
	return Deposit{Transfer: t, Time: 1_000_000, Chain: "ethereum"}
}

// fillOf is the fill of d on Arbitrum at block 5 (time 1,000,060).
func fillOf(d Deposit) bridges.Event {
	ev, _ := bridges.DepositEvent(d.Transfer.Annotations)
	return bridges.Event{Protocol: bridges.Across, Side: bridges.Fill, Name: "FilledV3Relay", Contract: spoke, TxHash: fillTx, Block: 5, TxIndex: 2, LogIndex: 3,
		Time: 1_000_060, DepositID: ev.DepositID, OriginChainID: 1, Depositor: ev.Depositor, Recipient: ev.Recipient,
		InputToken: ev.InputToken, InputAmount: ev.InputAmount, OutputToken: ev.OutputToken, OutputAmount: ev.OutputAmount}
}

func arbitrumPairer(t *testing.T, f *fakeFills, head uint64) *EVMBridge {
	t.Helper()
	// Arbitrum: block n at 999,000 + 12n.
	p, err := NewEVMBridge(bridges.Across, "arbitrum", f, &linearClock{base: 999_000, step: 12, head: head},
		EVMBridgeOptions{WrappedNatives: []tracer.Address{wethArb}, Labels: labelMap{"ethereum/" + spoke: {Category: tracer.CategoryBridge}, "arbitrum/" + spoke: {Category: tracer.CategoryBridge}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The fill's output token decides the asset paid: WETH reaches an account
// without code as the native coin, a contract as WETH; another token as
// itself. Every deposit is asked in one query, by origin and deposit id.
func TestEVMBridgeAssetPaid(t *testing.T) {
	native, toContract, token := acrossDeposit(7, wethArb, recipient), acrossDeposit(8, wethArb, "0x00000000000000000000000000000000000c0de1"), acrossDeposit(9, usdcArb, recipient)
	f := &fakeFills{fills: []bridges.Event{fillOf(native), fillOf(toContract), fillOf(token)}}
	f.contracts = map[tracer.Address]bool{"0x00000000000000000000000000000000000c0de1": true}
	p := arbitrumPairer(t, f, 1000)
	prs, err := p.Pair(context.Background(), []Deposit{native, toContract, token}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.asked) != 1 || len(f.asked[0].DepositIDs) != 3 || len(f.asked[0].Origins) != 1 || f.asked[0].Origins[0] != 1 {
		t.Errorf("asked %+v, want one query for deposits 7, 8 and 9 from chain 1", f.asked)
	}
	for i, want := range []tracer.Asset{tracer.NativeAsset, wethArb, usdcArb} {
		pr := prs[i]
		if pr.Status != StatusPaired || len(pr.Legs) != 1 || pr.Legs[0].Asset != want || pr.Legs[0].Amount.Int64() != 990 || !pr.Legs[0].Event ||
			pr.Legs[0].Output != 3 || pr.Legs[0].Delay != 60 || pr.Annotations[bridges.AnnConfidence] != "1.00" {
			t.Errorf("deposit %d: %+v; want paired, one leg of 990 %s from log 3, 60 s later, confidence 1", i, pr, want)
		}
	}
	if s := p.Swap(native); s != "ethereum-7" {
		t.Errorf("swap %q, want ethereum-7", s)
	}
}

// Unfilled deposits are pending until the destination is read past their
// bound, then not found; a deposit whose event cannot be read is not
// searched, and says why.
func TestEVMBridgeUnpaired(t *testing.T) {
	d := acrossDeposit(7, wethArb, recipient)
	broken := acrossDeposit(8, wethArb, recipient)
	delete(broken.Transfer.Annotations, bridges.AnnDepositID)
	f := &fakeFills{}
	prs, err := arbitrumPairer(t, f, 1000).Pair(context.Background(), []Deposit{d, broken}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Read up to block 1000 (time 1,011,000), before the 6 h bound.
	if prs[0].Status != StatusPending || !strings.Contains(prs[0].Detail, "no fill of across deposit 7 from ethereum on arbitrum yet") {
		t.Errorf("deposit 7: %+v, want pending", prs[0])
	}
	if prs[1].Status != StatusNotFound || !strings.Contains(prs[1].Detail, "not searched") || len(f.asked[0].DepositIDs) != 1 {
		t.Errorf("deposit without an id: %+v (asked %+v), want not_found, not searched", prs[1], f.asked)
	}
	// A chain read well past the bound: not found.
	prs, err = arbitrumPairer(t, &fakeFills{}, 10_000).Pair(context.Background(), []Deposit{d}, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	if prs[0].Status != StatusNotFound || !strings.Contains(prs[0].Detail, "no fill of across deposit 7 from ethereum on arbitrum in blocks") {
		t.Errorf("deposit 7 past its bound: %+v, want not_found", prs[0])
	}
	// Nothing of the destination read after the deposit yet: pending, not asked.
	f = &fakeFills{}
	prs, err = arbitrumPairer(t, f, 5).Pair(context.Background(), []Deposit{d}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if prs[0].Status != StatusPending || len(f.asked) != 0 {
		t.Errorf("deposit 7 before the destination's head: %+v (asked %d times), want pending, nothing asked", prs[0], len(f.asked))
	}
}

// A Stargate send of a token is paired but not followed: the receipt does
// not name the token the destination pool pays.
func TestEVMBridgeStargateToken(t *testing.T) {
	guid := "0x5e1f0d1c9a0b6e2d4c3b2a19080706050403020100ffeeddccbbaa998877665544"
	send := bridges.Event{Protocol: bridges.Stargate, Side: bridges.Deposit, Name: "OFTSent", Contract: spoke, GUID: guid, DstEID: 30110,
		Depositor: "0x00000000000000000000000000000000000000d0", InputAmount: big.NewInt(500), OutputAmount: big.NewInt(499)}
	d := Deposit{Transfer: xfer("ethereum", 20, "0xd0", "thief", spoke, 500), Time: 1_000_000, Chain: "ethereum"}
	d.Transfer.Asset, d.Transfer.Kind = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", tracer.KindERC20
	d.Transfer.Annotations = bridges.Annotations(send)
	f := &fakeFills{fills: []bridges.Event{{Protocol: bridges.Stargate, Side: bridges.Fill, Name: "OFTReceived", Contract: spoke, TxHash: fillTx, Block: 5,
		Time: 1_000_060, GUID: guid, SrcEID: 30101, Recipient: recipient, OutputAmount: big.NewInt(499)}}}
	p, err := NewEVMBridge(bridges.Stargate, "arbitrum", f, &linearClock{base: 999_000, step: 12, head: 1000}, EVMBridgeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prs, err := p.Pair(context.Background(), []Deposit{d}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if prs[0].Status != StatusPaired || len(prs[0].Legs) != 0 || !strings.Contains(prs[0].Detail, "not followed") || len(f.asked[0].GUIDs) != 1 {
		t.Errorf("token send: %+v, want paired with no leg, saying it is not followed", prs[0])
	}
	// Unknown contracts lower the confidence.
	if c := prs[0].Annotations[bridges.AnnConfidence]; c != "0.35" {
		t.Errorf("confidence %s with both contracts unlabelled, want 0.35", c)
	}
	if _, err := NewEVMBridge(bridges.LayerZero, "arbitrum", f, &linearClock{}, EVMBridgeOptions{}); err == nil {
		t.Error("a LayerZero packet pairer was made")
	}
}
