package evm

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/tracer"
)

// Real mainnet eth_call replies (testdata/metamask-core/SOURCE.md, MIT):
// MKR's symbol() answers bytes32, not an ABI string; describe's decoding
// reads both, and the registry then recognises MKR and catches another
// contract answering MKR's metadata.
func TestMetaMaskTokenMetadata(t *testing.T) {
	b, err := os.ReadFile("testdata/metamask-core/eth_call_replies.json")
	if err != nil {
		t.Fatal(err)
	}
	var calls []struct {
		To     common.Address `json:"to"`
		Data   hexutil.Bytes  `json:"data"`
		Result hexutil.Bytes  `json:"result"`
	}
	if err := json.Unmarshal(b, &calls); err != nil {
		t.Fatal(err)
	}
	meta := map[common.Address]*tracer.Token{}
	for _, c := range calls {
		tok := meta[c.To]
		if tok == nil {
			tok = &tracer.Token{}
			meta[c.To] = tok
		}
		switch string(c.Data) {
		case string(symbolCall):
			s, ok := decodeSymbol(c.Result)
			if !ok {
				t.Errorf("%s: symbol %x does not decode", c.To.Hex(), []byte(c.Result))
			}
			tok.Symbol = s
		case string(decimalsCall):
			d, ok := decodeDecimals(c.Result)
			if !ok {
				t.Errorf("%s: decimals %x do not decode", c.To.Hex(), []byte(c.Result))
			}
			tok.Decimals = d
		default:
			t.Fatalf("unexpected call %x", []byte(c.Data))
		}
	}
	mkr := common.HexToAddress("0x9f8F72aA9304c8B593d555F12eF6589cC3A579A2")
	matic := common.HexToAddress("0x7d1afa7b718fb893db30a3abc0cfc608aacfebb0")
	if got := *meta[mkr]; got.Symbol != "MKR" || got.Decimals != 18 {
		t.Errorf("MKR = %+v, want MKR, 18 (bytes32 symbol)", got)
	}
	if got := *meta[matic]; got.Symbol != "MATIC" || got.Decimals != 18 {
		t.Errorf("MATIC = %+v, want MATIC, 18 (string symbol)", got)
	}

	reg, err := labels.Bundled()
	if err != nil {
		t.Fatal(err)
	}
	if !reg.Recognised("ethereum", addr(mkr)) {
		t.Errorf("the bundled registry does not recognise MKR")
	}
	if real, ok := reg.Impersonates("ethereum", addr(mkr), *meta[mkr]); ok {
		t.Errorf("MKR itself reads as impersonating %s", real)
	}
	// Another contract answering MKR's real metadata impersonates MKR.
	other := tracer.Address("0x0000000000000000000000000000000000000001")
	if real, ok := reg.Impersonates("ethereum", other, *meta[mkr]); !ok || real != addr(mkr) {
		t.Errorf("a copy of MKR's metadata: impersonates %q, %v; want %s", real, ok, addr(mkr))
	}
}
