package evm

import (
	"bufio"
	"encoding/json"
	"math/big"
	"os"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/flowtrace/flowtrace/tracer"
)

// Real mainnet logs of block 17173049 and the token transfers ethereum-etl
// extracts from them (testdata/ethereum-etl/SOURCE.md, MIT): flowtrace's
// decoding must give the same transfers, and read WETH's Deposit events as
// the token leg of a wrap.

func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

type etlLog struct {
	LogIndex    uint           `json:"log_index"`
	TxHash      common.Hash    `json:"transaction_hash"`
	TxIndex     uint           `json:"transaction_index"`
	Address     common.Address `json:"address"`
	Data        hexutil.Bytes  `json:"data"`
	Topics      []common.Hash  `json:"topics"`
	BlockNumber uint64         `json:"block_number"`
}

type etlTransfer struct {
	Token    common.Address `json:"token_address"`
	From     common.Address `json:"from_address"`
	To       common.Address `json:"to_address"`
	Value    json.Number    `json:"value"`
	TxHash   common.Hash    `json:"transaction_hash"`
	LogIndex int            `json:"log_index"`
}

func etlLogs(t *testing.T) []types.Log {
	var logs []types.Log
	for _, l := range readJSONL[etlLog](t, "testdata/ethereum-etl/logs_17173049.jsonl") {
		logs = append(logs, types.Log{Address: l.Address, Topics: l.Topics, Data: l.Data, BlockNumber: l.BlockNumber,
			TxHash: l.TxHash, TxIndex: l.TxIndex, Index: l.LogIndex})
	}
	return logs
}

func TestEthereumETLTokenTransfers(t *testing.T) {
	got := logsToTransfers("ethereum", etlLogs(t))
	want := readJSONL[etlTransfer](t, "testdata/ethereum-etl/token_transfers_17173049.jsonl")
	if len(got) != len(want) {
		t.Fatalf("%d token transfers, ethereum-etl has %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		value, _ := new(big.Int).SetString(string(w.Value), 10)
		if g.Asset != tracer.Asset(w.Token.Hex()) || g.From != addr(w.From) || g.To != addr(w.To) || g.Amount.Cmp(value) != 0 ||
			g.TxHash != w.TxHash.Hex() || g.LogIndex != w.LogIndex || g.Kind != tracer.KindERC20 || g.BlockNumber != 17173049 {
			t.Errorf("transfer %d = %+v, ethereum-etl has %+v", i, g, w)
		}
	}
}

// TestEthereumETLWETHDeposits: the block's two WETH Deposit events (a bot
// wrapping 7.4 ETH; the Uniswap V2 router wrapping 0.2 ETH of a user's
// swapExactETHForTokens) read as WETH sent by the WETH contract.
func TestEthereumETLWETHDeposits(t *testing.T) {
	weth := common.HexToAddress("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
	var got []tracer.Transfer
	for _, l := range etlLogs(t) {
		if l.Address == weth {
			if x, ok := wrapTransfer("ethereum", l); ok {
				got = append(got, x)
			}
		}
	}
	want := []struct {
		logIndex int
		to, wei  string
	}{
		{4, "0xef1c6e67703c7bd7107eed8303fbe6ec2554bf6b", "7400000000000000000"},
		{14, "0x7a250d5630b4cf539739df2c5dacb4c659f2488d", "200000000000000000"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d wraps, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.LogIndex != w.logIndex || g.From != addr(weth) || g.To != addr(common.HexToAddress(w.to)) || g.Amount.String() != w.wei ||
			g.Asset != tracer.Asset(addr(weth)) || g.Annotations["wrap"] != "deposit" {
			t.Errorf("wrap %d = %+v, want %+v", i, g, w)
		}
	}
}
