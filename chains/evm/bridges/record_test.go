package bridges

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"flag"
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

var record = flag.Bool("record", false, "record testdata/bridge.logs.json from a dev node")

// recLogs holds eth_getLogs over the MiniBridge contract, as the dev node
// answered it. Rewrite it with `go test -run TestRecord -record`; never
// edit it by hand.
const recLogs = "testdata/bridge.logs.json"

// The parties of the recorded bridge transfers (keys derived from labels,
// so every recording names the same addresses).
var (
	depositorKey = key("flowtrace-bridges/depositor")
	relayerKey   = key("flowtrace-bridges/relayer")
	depositor    = crypto.PubkeyToAddress(depositorKey.PublicKey)
	relayer      = crypto.PubkeyToAddress(relayerKey.PublicKey)
	recipient1   = common.HexToAddress("0x00000000000000000000000000000000000b0b01")
	recipient2   = common.HexToAddress("0x00000000000000000000000000000000000b0b02")
	recipient3   = common.HexToAddress("0x00000000000000000000000000000000000b0b03")
	spedUpTo     = common.HexToAddress("0x00000000000000000000000000000000000b0b04")
	// Tokens as the deposits name them: WETH on Ethereum and on Arbitrum.
	wethEthereum = common.HexToAddress("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
	wethArbitrum = common.HexToAddress("0x82aF49447D8a07e3bd95BD0d56f35241523fBab1")
	wbnbBSC      = common.HexToAddress("0xbb4CdB9CBd36B01bD1cBaEBF2De08d9173bc095c")
	guid         = common.HexToHash("0x5e1f0d1c9a0b6e2d4c3b2a19080706050403020100ffeeddccbbaa998877665544")
	// A LayerZero packet from an OApp on Ethereum to one on Arbitrum.
	oappSender   = common.HexToAddress("0x0000000000000000000000000000000000000a01")
	oappReceiver = common.HexToAddress("0x0000000000000000000000000000000000000a02")
	packetGUID   = common.HexToHash("0x9a9b9c9d000000000000000000000000000000000000000000000000000000ff")
)

func key(label string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte(label)))
	if err != nil {
		panic(err)
	}
	return k
}

func eth(milli int64) *big.Int { return new(big.Int).Mul(big.NewInt(milli), big.NewInt(1e15)) }

func word(a common.Address) common.Hash { return common.BytesToHash(a.Bytes()) }

// The recorded transfers: Ethereum -> Arbitrum over Across V3 (deposit 7),
// Ethereum -> BSC over Across V3.5 (deposit 1000000), Arbitrum -> BSC over
// Stargate V2 (guid), an Across V3 deposit never filled (8), one whose
// depositor sped it up to another recipient (9), and a LayerZero packet
// (nonce 42) from Ethereum to Arbitrum.
func TestRecord(t *testing.T) {
	if !*record {
		t.Skip("run with -record to rewrite " + recLogs)
	}
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
