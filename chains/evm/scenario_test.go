package evm

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/core/vm/program"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"

	"github.com/flowtrace/flowtrace/fixtures/contracts"
	"github.com/flowtrace/flowtrace/fixtures/devnode"
)

// The scenario every live test and recording of this package runs on the dev
// node. Keys are derived from fixed seeds, so addresses and transaction
// hashes are the same on every run.
//
//	block 1: alice deploys Disperse, Token (minting 1e6 TT to alice),
//	         reverter (sends 1 wei to dave, then reverts),
//	         forwarder (calls reverter with 1000 wei, then pays carol 2000 wei, ignoring failures),
//	         destroyer (selfdestructs to erin)
//	block 2: tx0 alice -> bob 1 ETH
//	         tx1 alice -> Disperse 6e15 wei, paying carol 1e15, dave 2e15, bob 3e15
//	         tx2 alice token.transfer(bob, 500 TT)
//	         tx3 alice -> forwarder 5000 wei (the reverter frame fails; carol gets 2000)
//	         tx4 alice -> destroyer 7000 wei (selfdestruct moves it to erin)
//	         tx5 alice -> Disperse with a value mismatch: the transaction fails
//	         tx6 alice token.transfer(carol, 0)
//	block 3: tx0 bob token.transfer(carol, 100 TT)
//	         tx1 bob -> carol 0.1 ETH
type scenario struct {
	node                                 *devnode.Node
	alice, bob, carol, dave, erin        common.Address
	disperse, token, reverter, forwarder common.Address
	destroyer                            common.Address
	head                                 uint64
}

func keyOf(seed string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("flowtrace evm test " + seed)))
	if err != nil {
		panic(err)
	}
	return k
}

func addrOf(seed string) common.Address { return crypto.PubkeyToAddress(keyOf(seed).PublicKey) }

func ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.Ether)) }

func deployCode(runtime *program.Program) []byte {
	return program.New().ReturnViaCodeCopy(runtime.Bytes()).Bytes()
}

// scenarioAddrs is the scenario's accounts, known without running it.
func scenarioAddrs() *scenario {
	s := &scenario{
		alice: addrOf("alice"), bob: addrOf("bob"), carol: addrOf("carol"), dave: addrOf("dave"), erin: addrOf("erin"),
	}
	s.disperse = crypto.CreateAddress(s.alice, 0)
	s.token = crypto.CreateAddress(s.alice, 1)
	s.reverter = crypto.CreateAddress(s.alice, 2)
	s.forwarder = crypto.CreateAddress(s.alice, 3)
	s.destroyer = crypto.CreateAddress(s.alice, 4)
	return s
}

// startScenario runs the scenario on a fresh dev node.
func startScenario(tb testing.TB) *scenario {
	tb.Helper()
	aliceKey, bobKey := keyOf("alice"), keyOf("bob")
	s := scenarioAddrs()
	c := startDevChain(tb, map[common.Address]*big.Int{s.alice: ether(100), s.bob: ether(100)})
	s.node = c.node
	send := func(key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte) {
		tb.Helper()
		c.send(tb, key, to, value, data)
	}
	commit := func() {
		tb.Helper()
		var err error
		if s.head, err = c.node.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
	must := func(b []byte, err error) []byte {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	zero := new(big.Int)

	// Block 1.
	send(aliceKey, nil, zero, contracts.Disperse.Bin)
	send(aliceKey, nil, zero, must(contracts.Token.DeployData("Test Token", "TT", uint8(18), s.alice, ether(1_000_000))))
	reverter := program.New().Call(nil, s.dave, 1, 0, 0, 0, 0).Op(vm.POP).Push(0).Push(0).Op(vm.REVERT)
	send(aliceKey, nil, zero, deployCode(reverter))
	forwarder := program.New().
		Call(nil, s.reverter, 1000, 0, 0, 0, 0).Op(vm.POP).
		Call(nil, s.carol, 2000, 0, 0, 0, 0).Op(vm.POP).Op(vm.STOP)
	send(aliceKey, nil, zero, deployCode(forwarder))
	send(aliceKey, nil, zero, deployCode(program.New().Selfdestruct(s.erin)))
	commit()

	// Block 2.
	send(aliceKey, &s.bob, ether(1), nil)
	send(aliceKey, &s.disperse, big.NewInt(6e15), must(contracts.Disperse.Call("disperseEther",
		[]common.Address{s.carol, s.dave, s.bob}, []*big.Int{big.NewInt(1e15), big.NewInt(2e15), big.NewInt(3e15)})))
	send(aliceKey, &s.token, zero, must(contracts.Token.Call("transfer", s.bob, ether(500))))
	send(aliceKey, &s.forwarder, big.NewInt(5000), nil)
	send(aliceKey, &s.destroyer, big.NewInt(7000), nil)
	send(aliceKey, &s.disperse, big.NewInt(1e15), must(contracts.Disperse.Call("disperseEther",
		[]common.Address{s.carol}, []*big.Int{big.NewInt(2e15)})))
	send(aliceKey, &s.token, zero, must(contracts.Token.Call("transfer", s.carol, zero)))
	commit()

	// Block 3.
	send(bobKey, &s.token, zero, must(contracts.Token.Call("transfer", s.carol, ether(100))))
	send(bobKey, &s.carol, big.NewInt(1e17), nil)
	commit()
	if s.head != 3 {
		tb.Fatalf("head = %d, want 3", s.head)
	}
	return s
}

// devChain is a fresh dev node that takes signed legacy transactions.
type devChain struct {
	node   *devnode.Node
	ec     *ethclient.Client
	signer types.Signer
	nonces map[*ecdsa.PrivateKey]uint64
}

// startDevChain starts a dev node with alloc, closed when tb ends.
func startDevChain(tb testing.TB, alloc map[common.Address]*big.Int) *devChain {
	tb.Helper()
	n, err := devnode.Start(devnode.Options{Alloc: alloc})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Close() })
	return &devChain{node: n, ec: ethclient.NewClient(n.Client()), signer: types.LatestSignerForChainID(devnode.ChainID), nonces: map[*ecdsa.PrivateKey]uint64{}}
}

// send signs a transaction from key with its next nonce and sends it (to
// the next block: the caller commits).
func (c *devChain) send(tb testing.TB, key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte) *types.Transaction {
	tb.Helper()
	tx := types.MustSignNewTx(key, c.signer, &types.LegacyTx{
		Nonce: c.nonces[key], To: to, Value: value, Gas: 2_000_000, GasPrice: big.NewInt(10 * params.GWei), Data: data,
	})
	c.nonces[key]++
	if err := c.ec.SendTransaction(context.Background(), tx); err != nil {
		tb.Fatal(err)
	}
	return tx
}

// names maps the scenario's addresses to their names, for readable tests.
func (s *scenario) names() map[common.Address]string {
	return map[common.Address]string{
		s.alice: "alice", s.bob: "bob", s.carol: "carol", s.dave: "dave", s.erin: "erin",
		s.disperse: "disperse", s.token: "token", s.reverter: "reverter", s.forwarder: "forwarder",
		s.destroyer: "destroyer", {}: "zero",
	}
}
