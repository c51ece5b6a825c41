package bridges

import (
	"crypto/ecdsa"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// recLogs holds eth_getLogs over the MiniBridge contract, as the dev node
// answered it. Rewrite it with
// `go test -tags record -run TestRecord ./chains/evm/bridges` (record_test.go);
// never edit it by hand.
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
