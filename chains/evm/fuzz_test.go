package evm

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/flowtrace/flowtrace/tracer"
)

// Fuzz targets for what comes from users and nodes. `make fuzz` runs each
// for a short time; seed corpora are in testdata/fuzz/<Target>.

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{
		"0x084E974C859A7d2b30F09005326BFbe3B727cF17", "0x084e974c859a7d2b30f09005326bfbe3b727cf17",
		"0X084E974C859A7D2B30F09005326BFBE3B727CF17", "0x084E974C859A7d2b30F09005326BFbe3B727cF18",
		" 0x084E974C859A7d2b30F09005326BFbe3B727cF17\n", "0x", "084E974C859A7d2b30F09005326BFbe3B727cF17",
		"0x084E974C859A7d2b30F09005326BFbe3B727cF1", "0xg84E974C859A7d2b30F09005326BFbe3B727cF17", "0x084E974C859A7d2b30F09005326BFbe3B727cF17é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			if !strings.Contains(err.Error(), "\"") {
				t.Errorf("error %q does not quote the input", err)
			}
			return
		}
		if !common.IsHexAddress(string(a)) || common.HexToAddress(string(a)).Hex() != string(a) {
			t.Fatalf("ParseAddress(%q) = %q, not EIP-55", s, a)
		}
		if !strings.EqualFold(string(a)[2:], strings.TrimSpace(s)[2:]) {
			t.Fatalf("ParseAddress(%q) = %q, other digits", s, a)
		}
		if again, err := ParseAddress(string(a)); err != nil || again != a {
			t.Fatalf("ParseAddress(%q) = %q, %v; not idempotent", a, again, err)
		}
	})
}

// FuzzDecodeLogs decodes eth_getLogs answers: no panic, and every transfer
// decoded is a Transfer event's, with a non-negative amount and an order key
// after the transaction's value transfers.
func FuzzDecodeLogs(f *testing.F) {
	if data, err := os.ReadFile("testdata/logs.transfer.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`[{"address":"0x0000000000000000000000000000000000000001","topics":["0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef","0x0000000000000000000000000000000000000000000000000000000000000001","0x0000000000000000000000000000000000000000000000000000000000000002"],"data":"0x0000000000000000000000000000000000000000000000000000000000000001","blockNumber":"0x1","transactionHash":"0x0000000000000000000000000000000000000000000000000000000000000003","transactionIndex":"0x0","blockHash":"0x0000000000000000000000000000000000000000000000000000000000000004","logIndex":"0xffffffffffffffff","removed":false}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var logs []types.Log
		if json.Unmarshal(data, &logs) != nil {
			return
		}
		for _, tr := range logsToTransfers("ethereum", logs) {
			if tr.Amount == nil || tr.Amount.Sign() < 0 {
				t.Fatalf("amount %v", tr.Amount)
			}
			if tr.Kind != tracer.KindERC20 && tr.Kind != tracer.KindERC721 {
				t.Fatalf("kind %q", tr.Kind)
			}
			if tr.Seq < logSeqBase {
				t.Fatalf("log index %d gives order key %d, before the transaction's value transfers", tr.LogIndex, tr.Seq)
			}
		}
	})
}

// FuzzDecodeCallFrames decodes debug_traceBlockByNumber answers (callTracer)
// and reads the block's transfers both ways: no panic, no negative amount.
func FuzzDecodeCallFrames(f *testing.F) {
	if data, err := os.ReadFile("testdata/block2.callTracer.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`[{"txHash":"0x01","result":{"type":"CALL","from":"0x0000000000000000000000000000000000000001","to":"0x0000000000000000000000000000000000000002","value":"0x10","calls":[{"type":"DELEGATECALL","from":"0x0000000000000000000000000000000000000002","to":"0x0000000000000000000000000000000000000003","value":"0x5","error":"reverted"}]}}]`))
	f.Add([]byte(`[{"txHash":"0x01","error":"execution timeout"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var traces []txTrace
		if json.Unmarshal(data, &traces) != nil {
			return
		}
		b, err := blockFromTraces(7, traces)
		if err != nil {
			return
		}
		all := map[common.Address]bool{}
		for _, tr := range traces {
			if tr.Result != nil {
				all[tr.Result.From] = true
				if tr.Result.To != nil {
					all[*tr.Result.To] = true
				}
			}
		}
		for _, dir := range []tracer.Direction{tracer.Outgoing, tracer.Incoming} {
			for _, tr := range b.transfers("ethereum", dir, all) {
				if tr.Amount == nil || tr.Amount.Sign() < 0 || tr.BlockNumber != 7 {
					t.Fatalf("transfer %+v", tr)
				}
			}
		}
	})
}

// FuzzTokenMetadata decodes symbol() and decimals() answers of hostile
// tokens: symbols come back as valid UTF-8 of bounded length.
func FuzzTokenMetadata(f *testing.F) {
	f.Add([]byte{})
	f.Add(common.FromHex("0x0000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000455534454000000000000000000000000000000000000000000000000000000"))
	f.Add(common.FromHex("0x5553445400000000000000000000000000000000000000000000000000000000"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, ok := decodeSymbol(data); ok && (len(s) > 4*maxSymbolRunes || !utf8.ValidString(s)) {
			t.Fatalf("decodeSymbol = %q", s)
		}
		decodeDecimals(data)
	})
}

// FuzzCheckIDs checks answers against the ids of the request: no panic, and
// an answer that passes is JSON.
func FuzzCheckIDs(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":"0x1"}`), `1`)
	f.Add([]byte(`[{"jsonrpc":"2.0","id":1,"result":"0x1"},{"jsonrpc":"2.0","id":2,"error":{"code":-32000,"message":"x"}}]`), `1,2`)
	f.Add([]byte(`[{"jsonrpc":"2.0","id":987654321,"result":"0x1"}]`), `1`)
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":{"oops"`), `1`)
	f.Fuzz(func(t *testing.T, body []byte, ids string) {
		want := strings.Split(ids, ",")
		if checkIDs(body, want) == nil && !json.Valid(body) {
			t.Fatalf("checkIDs accepted %q", body)
		}
	})
}
