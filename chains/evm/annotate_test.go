package evm

import (
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/flowtrace/flowtrace/tracer"
)

// thorDepositLog ABI-encodes a router Deposit event the way the router emits it.
func thorDepositLog(t *testing.T, router common.Address, tx common.Hash, block uint64, memo string) types.Log {
	t.Helper()
	u256, _ := abi.NewType("uint256", "", nil)
	str, _ := abi.NewType("string", "", nil)
	data, err := abi.Arguments{{Type: u256}, {Type: str}}.Pack(big.NewInt(5e18), memo)
	if err != nil {
		t.Fatal(err)
	}
	return types.Log{Address: router, TxHash: tx, BlockNumber: block, Data: data,
		Topics: []common.Hash{thorDepositTopic, common.BytesToHash([]byte{0xa}), {}}}
}

func TestAnnotateFromLogs(t *testing.T) {
	router, pool, other := common.HexToAddress("0x7c"), common.HexToAddress("0x70"), common.HexToAddress("0x99")
	tx1, tx2, tx3 := common.HexToHash("0x1"), common.HexToHash("0x2"), common.HexToHash("0x3")
	out := []tracer.Transfer{
		{TxHash: tx1.Hex(), BlockNumber: 10, To: tracer.Address(router.Hex())},
		{TxHash: tx2.Hex(), BlockNumber: 11, To: tracer.Address(pool.Hex())},
		{TxHash: tx1.Hex(), BlockNumber: 10, To: tracer.Address(other.Hex())}, // same tx, not the router
	}
	addr32 := func(a common.Address) []byte { return common.LeftPadBytes(a.Bytes(), 32) }
	logs := []types.Log{
		thorDepositLog(t, router, tx1, 10, "=:BTC.BTC:bc1qdest/bc1qrefund:5e6/1/0:t:10"),
		{Address: pool, TxHash: tx2, BlockNumber: 11, Topics: []common.Hash{tornadoDepositTopic, common.HexToHash("0xc0")}, Data: make([]byte, 64)},
		{Address: pool, TxHash: tx3, BlockNumber: 15, Topics: []common.Hash{tornadoWithdrawalTopic, {}}, Data: append(addr32(common.HexToAddress("0xbeef")), make([]byte, 64)...)},
		{Address: pool, TxHash: tx3, BlockNumber: 9, Topics: []common.Hash{tornadoWithdrawalTopic, {}}, Data: append(addr32(common.HexToAddress("0xdead")), make([]byte, 64)...)},
	}
	annotateFromLogs(out, logs)
	want := map[string]string{tracer.AnnBridge: "thorchain", tracer.AnnMemo: "=:BTC.BTC:bc1qdest/bc1qrefund:5e6/1/0:t:10",
		tracer.AnnDestChain: "bitcoin", tracer.AnnDestAsset: "BTC.BTC", tracer.AnnDestAddress: "bc1qdest",
		tracer.AnnRefundAddress: "bc1qrefund", tracer.AnnDestLimit: "5000000", tracer.AnnDestDecimals: "8"}
	for k, v := range want {
		if out[0].Annotations[k] != v {
			t.Errorf("router transfer %s = %q, want %q", k, out[0].Annotations[k], v)
		}
	}
	if out[1].Annotations[tracer.AnnMixer] != "tornado" || out[1].Annotations[tracer.AnnCommitment] != common.HexToHash("0xc0").Hex() {
		t.Errorf("pool transfer = %v", out[1].Annotations)
	}
	if w := out[1].Annotations[tracer.AnnWithdrawals]; w != "15/"+tx3.Hex()+"/"+common.HexToAddress("0xbeef").Hex() {
		t.Errorf("withdrawals = %q, want only the later one", w)
	}
	if out[2].Annotations != nil {
		t.Errorf("a transfer to another address of the tx was annotated: %v", out[2].Annotations)
	}
}

func FuzzDecodeString(f *testing.F) {
	u256, _ := abi.NewType("uint256", "", nil)
	str, _ := abi.NewType("string", "", nil)
	data, _ := abi.Arguments{{Type: u256}, {Type: str}}.Pack(big.NewInt(1), "=:b:bc1q")
	f.Add(data)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, ok := decodeString(data, 32)
		if ok && len(s) > len(data) {
			t.Fatalf("decoded %d bytes from %d", len(s), len(data))
		}
		_ = strings.ToValidUTF8(s, "")
	})
}
