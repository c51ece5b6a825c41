package evm

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/flowtrace/flowtrace/fixtures/contracts"
	"github.com/flowtrace/flowtrace/fixtures/devnode"
	"github.com/flowtrace/flowtrace/tracer"
)

// wrapScenario, on a fresh dev node:
//
//	block 1: victim deploys WETH9
//	block 2: bystander WETH9.deposit() with 10 ETH (clean)
//	block 3: victim -> seed 10 ETH (the theft)
//	block 4: seed WETH9.deposit() with 10 ETH
//	block 5: bystander WETH9.withdraw(10 WETH): the first ETH out of the contract after the theft's
//	block 6: seed WETH9.transfer(hop, 10 WETH)
//	block 7: hop WETH9.withdraw(10 WETH)
//	block 8: hop -> cashout 10 ETH
type wrapScenario struct {
	node                                *devnode.Node
	weth, seed, hop, cashout, bystander common.Address
}

func startWrapScenario(t *testing.T) *wrapScenario {
	t.Helper()
	victimKey, seedKey, hopKey, byKey := keyOf("wrap victim"), keyOf("wrap seed"), keyOf("wrap hop"), keyOf("wrap bystander")
	s := &wrapScenario{seed: addrOf("wrap seed"), hop: addrOf("wrap hop"), cashout: addrOf("wrap cashout"), bystander: addrOf("wrap bystander")}
	victim := addrOf("wrap victim")
	s.weth = crypto.CreateAddress(victim, 0)
	c := startDevChain(t, map[common.Address]*big.Int{victim: ether(100), s.seed: ether(1), s.hop: ether(1), s.bystander: ether(20)})
	s.node = c.node
	step := func(key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte) {
		t.Helper()
		tx := c.send(t, key, to, value, data)
		if _, err := c.node.Commit(); err != nil {
			t.Fatal(err)
		}
		r, err := c.ec.TransactionReceipt(context.Background(), tx.Hash())
		if err != nil || r.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("transaction %s failed: %v", tx.Hash().Hex(), err)
		}
	}
	call := func(method string, args ...any) []byte {
		t.Helper()
		b, err := contracts.WETH9.Call(method, args...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	zero := new(big.Int)
	step(victimKey, nil, zero, contracts.WETH9.Bin)
	step(byKey, &s.weth, ether(10), call("deposit"))
	step(victimKey, &s.seed, ether(10), nil)
	step(seedKey, &s.weth, ether(10), call("deposit"))
	step(byKey, &s.weth, zero, call("withdraw", ether(10)))
	step(seedKey, &s.weth, zero, call("transfer", s.hop, ether(10)))
	step(hopKey, &s.weth, zero, call("withdraw", ether(10)))
	step(hopKey, &s.cashout, ether(10), nil)
	return s
}

// TestLiveWrapKeepsTaint: stolen ETH wrapped into WETH, sent on and unwrapped
// reaches the cash-out with its full taint: the Deposit and Withdrawal
// events are read as the token legs of 1:1 trades with the contract. Without
// them, the stolen ETH held by the contract leaks to whoever unwraps next.
func TestLiveWrapKeepsTaint(t *testing.T) {
	sc := startWrapScenario(t)
	ctx := context.Background()
	minValue, err := tracer.ParseThreshold("0")
	if err != nil {
		t.Fatal(err)
	}
	walk := func(wrapped []tracer.Address) *tracer.Trace {
		t.Helper()
		s, err := Dial(ctx, sc.node.URL(), Options{Chain: "dev", WrappedNatives: wrapped})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.DescribeAhead()
		tr, err := tracer.Walk(ctx, s, tracer.Options{Chain: "dev", Seeds: []tracer.Address{addr(sc.seed)},
			Window: tracer.BlockRange{From: 3, To: 8}, MinValue: minValue})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	received := func(tr *tracer.Trace, a common.Address, asset tracer.Asset) *big.Int {
		for _, n := range tr.Nodes {
			if n.Address == addr(a) && n.Received[asset] != nil {
				return n.Received[asset]
			}
		}
		return new(big.Int)
	}
	weth := tracer.Asset(addr(sc.weth))

	tr := walk([]tracer.Address{addr(sc.weth)})
	if got := received(tr, sc.hop, weth); got.Cmp(ether(10)) != 0 {
		t.Errorf("hop received %s tainted WETH, want 10 ETH's worth (%v)", got, tr.Skipped)
	}
	if got := received(tr, sc.cashout, tracer.NativeAsset); got.Cmp(ether(10)) != 0 {
		t.Errorf("cash-out received %s tainted wei, want all 10 ETH (nodes %+v)", got, tr.Nodes)
	}
	var wraps int
	for _, x := range tr.Transfers {
		if x.Annotations["wrap"] != "" {
			wraps++
		}
	}
	if wraps != 2 {
		t.Errorf("%d wrap legs in the trace, want the deposit and the withdrawal", wraps)
	}
	if got := received(tr, sc.bystander, tracer.NativeAsset); got.Sign() != 0 {
		t.Errorf("the bystander's own unwrap received %s tainted wei, want none", got)
	}

	// Without the wrap events, poison-first at the contract hands the
	// stolen ETH to the next unwrap: the bystander's.
	plain := walk(nil)
	if got := received(plain, sc.bystander, tracer.NativeAsset); got.Cmp(ether(10)) != 0 {
		t.Errorf("without the wrap events the bystander received %s tainted: the test shows nothing", got)
	}
	if got := received(plain, sc.cashout, tracer.NativeAsset); got.Sign() != 0 {
		t.Errorf("without the wrap events the cash-out received %s tainted", got)
	}
}
