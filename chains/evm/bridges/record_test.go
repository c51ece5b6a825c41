//go:build record

package bridges

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"math/big"
	"os"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/fixtures/contracts"
	"github.com/flowtrace/flowtrace/fixtures/devnode"
)

// TestRecord plays the recorded bridge transfers on a dev node and rewrites
// recLogs. It builds only with -tags record, so the package's other tests
// (and its fuzz target) do not link a node.
// The recorded transfers: Ethereum -> Arbitrum over Across V3 (deposit 7),
// Ethereum -> BSC over Across V3.5 (deposit 1000000), Arbitrum -> BSC over
// Stargate V2 (guid), an Across V3 deposit never filled (8), one whose
// depositor sped it up to another recipient (9), and a LayerZero packet
// (nonce 42) from Ethereum to Arbitrum.
func TestRecord(t *testing.T) {
	node, err := devnode.Start(devnode.Options{Alloc: map[common.Address]*big.Int{depositor: eth(1_000_000), relayer: eth(1_000_000)}})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	ctx := context.Background()
	ec := ethclient.NewClient(node.Client())
	nonces := map[common.Address]uint64{}
	send := func(k *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte) common.Hash {
		from := crypto.PubkeyToAddress(k.PublicKey)
		tx := types.MustSignNewTx(k, types.LatestSignerForChainID(devnode.ChainID), &types.LegacyTx{
			Nonce: nonces[from], To: to, Value: value, Gas: 3_000_000, GasPrice: big.NewInt(10_000_000_000), Data: data,
		})
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatal(err)
		}
		nonces[from]++
		return tx.Hash()
	}
	settle := func(txs ...common.Hash) {
		if _, err := node.Commit(); err != nil {
			t.Fatal(err)
		}
		for _, h := range txs {
			r, err := ec.TransactionReceipt(ctx, h)
			if err != nil || r.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("tx %s: %v (receipt %+v)", h.Hex(), err, r)
			}
		}
	}
	bridge := contracts.MiniBridge
	code, err := bridge.DeployData()
	if err != nil {
		t.Fatal(err)
	}
	deploy := send(depositorKey, nil, nil, code)
	settle(deploy)
	r, _ := ec.TransactionReceipt(ctx, deploy)
	at := r.ContractAddress
	call := func(k *ecdsa.PrivateKey, value *big.Int, method string, args ...any) common.Hash {
		data, err := bridge.ABI.Pack(method, args...)
		if err != nil {
			t.Fatal(method, err)
		}
		return send(k, &at, value, data)
	}
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := uint32(head.Time + 3600)
	// Deposits, in one block.
	settle(
		call(depositorKey, eth(1000), "depositV3", wethEthereum, wethArbitrum, eth(990), big.NewInt(42161), uint32(7), deadline, recipient1),
		call(depositorKey, eth(2000), "deposit", word(wethEthereum), word(wbnbBSC), eth(1980), big.NewInt(56), big.NewInt(1_000_000), deadline, word(recipient2)),
		call(depositorKey, eth(500), "send", guid, uint32(30102), eth(1)),
		call(depositorKey, eth(300), "depositV3", wethEthereum, wethArbitrum, eth(297), big.NewInt(42161), uint32(8), deadline, recipient1),
		call(depositorKey, eth(400), "depositV3", wethEthereum, wethArbitrum, eth(396), big.NewInt(42161), uint32(9), deadline, recipient1),
		call(depositorKey, nil, "sendPacket", uint64(42), uint32(30101), word(oappSender), uint32(30110), word(oappReceiver), packetGUID, []byte("hi")),
	)
	// Fills, in the next block.
	settle(
		call(relayerKey, eth(990), "fillV3Relay", wethEthereum, wethArbitrum, eth(1000), big.NewInt(1), uint32(7), deadline, depositor, recipient1, recipient1),
		call(relayerKey, eth(1980), "fillRelay", word(wethEthereum), word(wbnbBSC), eth(2000), big.NewInt(1), big.NewInt(1_000_000), deadline, word(depositor), recipient2),
		call(relayerKey, eth(499), "receiveOFT", guid, uint32(30110), recipient3),
		call(relayerKey, eth(395), "fillV3Relay", wethEthereum, wethArbitrum, eth(400), big.NewInt(1), uint32(9), deadline, depositor, recipient1, spedUpTo),
		call(relayerKey, nil, "deliverPacket", uint32(30101), word(oappSender), uint64(42), oappReceiver),
	)
	c, err := rpc.DialHTTP(node.URL()) // over HTTP, as a real node is asked
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var raw json.RawMessage
	if err := c.CallContext(ctx, &raw, "eth_getLogs", map[string]any{"fromBlock": "0x0", "toBlock": "latest", "address": at}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", " "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	if err := os.WriteFile(recLogs, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
