package evm

import (
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/flowtrace/flowtrace/tracer"
)

// Real mainnet transactions with go-ethereum's expected tracer output, from
// go-ethereum v1.17.8 eth/tracers/internal/tracetest/testdata (LGPL-3.0,
// see testdata/geth-tracetest/SOURCE.md): the extraction of internal
// transfers (callTracer and the flat, trace_filter-shaped tracer) and of
// token events (callTracer withLog) checked against them.

// tracetestCase is the part of a tracetest file these tests read.
type tracetestCase struct {
	Context struct {
		Number string `json:"number"`
	} `json:"context"`
	Input  hexutil.Bytes   `json:"input"` // the signed transaction
	Result json.RawMessage `json:"result"`
}

func readTracetest(t *testing.T, dir, name string) (tracetestCase, uint64, common.Hash) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata/geth-tracetest", dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var c tracetestCase
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(c.Context.Number, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return c, n, crypto.Keccak256Hash(c.Input) // a legacy transaction's hash is that of its encoding
}

type wantMove struct {
	kind     tracer.TransferKind
	path     []int
	from, to string
	wei      string
}

func checkMoves(t *testing.T, got []tracer.Transfer, want []wantMove) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d transfers, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		amount, _ := new(big.Int).SetString(w.wei, 10)
		if g.Kind != w.kind || !equalPath(g.TraceAddress, w.path) || g.From != addr(common.HexToAddress(w.from)) ||
			g.To != addr(common.HexToAddress(w.to)) || g.Amount.Cmp(amount) != 0 || g.Asset != tracer.NativeAsset {
			t.Errorf("transfer %d = %s %v %s -> %s %s, want %+v", i, g.Kind, g.TraceAddress, g.From, g.To, g.Amount, w)
		}
	}
}

func equalPath(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTracetestCallTracer: internal transfers from callTracer frames of real
// mainnet transactions.
func TestTracetestCallTracer(t *testing.T) {
	for name, want := range map[string][]wantMove{
		// A contract pays out 0.5 ETH in an inner CALL (block 2289806).
		"simple": {{tracer.KindInternal, []int{0}, "0x3b873a919aa0512d5a0f09e6dcceaa4a6727fafe", "0x0024f658a46fbb89d8ac105e98d7ac7cbbaf27c5", "500000000000000000"}},
		// SELFDESTRUCT sends the contract's 22,882 ETH to its beneficiary.
		"selfdestruct": {{tracer.KindInternal, []int{0}, "0x3b873a919aa0512d5a0f09e6dcceaa4a6727fafe", "0x000000000000000000000000000000000000dead", "22882074780407317765077"}},
		// An inner CALL of 1.5 ETH fails at once: nothing moved.
		"inner_instafail": nil,
		// The top call reverts: its 1.05 ETH and everything under it moved nothing.
		"inner_throw_outer_revert": nil,
	} {
		t.Run(name, func(t *testing.T) {
			c, n, hash := readTracetest(t, "call_tracer", name)
			var f callFrame
			if err := json.Unmarshal(c.Result, &f); err != nil {
				t.Fatal(err)
			}
			b, err := blockFromTraces(n, []txTrace{{TxHash: hash, Result: &f}})
			if err != nil {
				t.Fatal(err)
			}
			set := map[common.Address]bool{}
			for _, m := range b.moves {
				set[m.from] = true
			}
			got := b.transfers("ethereum", tracer.Outgoing, set)
			checkMoves(t, got, want)
			for _, g := range got {
				if g.TxHash != hash.Hex() || g.BlockNumber != n || g.TxFrom != addr(f.From) {
					t.Errorf("%+v: want tx %s block %d signer %s", g, hash.Hex(), n, f.From.Hex())
				}
			}
		})
	}
}

// TestTracetestFlat: the same extraction from the flat (trace_filter-shaped)
// tracer output. The tracer leaves the transaction's hash and position to
// trace_filter; the test fills them as the node would.
func TestTracetestFlat(t *testing.T) {
	for name, want := range map[string][]wantMove{
		"simple":          {{tracer.KindInternal, []int{0}, "0x3b873a919aa0512d5a0f09e6dcceaa4a6727fafe", "0x0024f658a46fbb89d8ac105e98d7ac7cbbaf27c5", "500000000000000000"}},
		"inner_instafail": nil, // the 1.5 ETH inner call failed: "insufficient balance for transfer"
		// A 10 ETH call whose callee DELEGATECALLs with the same value: 10 ETH moved once.
		"delegatecall_parent_value": {{tracer.KindNative, []int{}, "0x877bd459c9b7d8576b44e59e09d076c25946f443", "0x91765918420bcb5ad22ee0997abed04056705798", "10000000000000000000"}},
	} {
		t.Run(name, func(t *testing.T) {
			c, n, hash := readTracetest(t, "call_tracer_flat", name)
			var traces []parityTrace
			if err := json.Unmarshal(c.Result, &traces); err != nil {
				t.Fatal(err)
			}
			pos := uint(0)
			for i := range traces {
				traces[i].TransactionHash, traces[i].TransactionPosition, traces[i].BlockNumber = &hash, &pos, n
			}
			checkMoves(t, tracesToTransfers("ethereum", traces), want)
		})
	}
}

// logFrame is a callTracer frame with its logs (withLog: true).
type logFrame struct {
	Error string `json:"error"`
	Logs  []struct {
		Address common.Address `json:"address"`
		Topics  []common.Hash  `json:"topics"`
		Data    hexutil.Bytes  `json:"data"`
		Index   hexutil.Uint   `json:"index"`
	} `json:"logs"`
	Calls []logFrame `json:"calls"`
}

// TestTracetestTokenEvents: Transfer events of real mainnet token transfers
// (callTracer withLog) decode to the token transfers the transaction made.
func TestTracetestTokenEvents(t *testing.T) {
	for name, want := range map[string]struct {
		n     int // Transfer events decoded
		first [3]string
	}{
		// transfer(0xdbf0..., 10,000,000) on token 0xf4ec... signed by the sender (block 765825).
		"simple": {1, [3]string{"0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb", "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb", "10000000"}},
		// A contract making 11 transfers of token 0x304a... across nested calls (block 1881284).
		"multi_contracts": {11, [3]string{}},
	} {
		t.Run(name, func(t *testing.T) {
			c, n, hash := readTracetest(t, "call_tracer_withLog", name)
			var root logFrame
			if err := json.Unmarshal(c.Result, &root); err != nil {
				t.Fatal(err)
			}
			var logs []types.Log
			var walk func(f *logFrame)
			walk = func(f *logFrame) {
				if f.Error != "" {
					return // reverted: its events never happened
				}
				for _, l := range f.Logs {
					logs = append(logs, types.Log{Address: l.Address, Topics: l.Topics, Data: l.Data, Index: uint(l.Index), TxHash: hash, BlockNumber: n})
				}
				for i := range f.Calls {
					walk(&f.Calls[i])
				}
			}
			walk(&root)
			got := logsToTransfers("ethereum", logs)
			if len(got) != want.n {
				t.Fatalf("%d token transfers, want %d", len(got), want.n)
			}
			for _, g := range got {
				if g.Kind != tracer.KindERC20 || g.Amount.Sign() <= 0 || g.LogIndex < 0 || g.TxHash != hash.Hex() {
					t.Errorf("%+v", g)
				}
			}
			if want.first[0] != "" {
				g := got[0]
				if g.From != addr(common.HexToAddress(want.first[0])) || g.To != addr(common.HexToAddress(want.first[1])) || g.Amount.String() != want.first[2] {
					t.Errorf("first transfer %s -> %s %s, want %v", g.From, g.To, g.Amount, want.first)
				}
			}
		})
	}
}
