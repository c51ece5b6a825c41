package networks_test

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/chains/networks"
)

func TestBundled(t *testing.T) {
	all, err := networks.All()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ethereum", "sepolia", "holesky", "bsc", "bsc-testnet", "arbitrum", "optimism", "base", "polygon", "avalanche", "dev"}
	for _, name := range want {
		if _, ok := networks.Lookup(name); !ok {
			t.Errorf("no network %q", name)
		}
	}
	if len(all) != len(want) {
		t.Errorf("%d networks, want %d: %v", len(all), len(want), networks.Names())
	}
	for _, n := range all {
		if n.Kind != networks.Dev && n.Explorer == "" {
			t.Errorf("%s: no explorer", n.Name)
		}
		if n.Kind != networks.Dev && n.BlockTime <= 0 {
			t.Errorf("%s: no block time", n.Name)
		}
	}
}

// The facts other code relies on, checked against the file.
func TestFacts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		id      int64
		genesis string
		symbol  string
		reorg   uint64
	}{
		{"ethereum", 1, "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3", "ETH", 64},
		{"bsc", 56, "0x0d21840abff46b96c84b2ac9e10e4f5cdaeb5693cb665db62a2f3b02d2d57b5b", "BNB", 15},
		{"arbitrum", 42161, "0x7ee576b35482195fc49205cec9af72ce14f003b9ae69f6ba0faef4514be8b442", "ETH", 64},
		{"optimism", 10, "0x7ca38a1916c42007829c55e69d3e9a73265554b586a499015373241b8a3fa48b", "ETH", 64},
		{"base", 8453, "0xf712aa9241cc24369b143cf6dce85f0902a9731e70d66818a3a5845b296c73dd", "ETH", 64},
		{"polygon", 137, "0xa9c28ce2141b56c474f1dc504bee9b01eb1bd7d1a507580d5519d4437a97de1b", "POL", 128},
		{"avalanche", 43114, "0x31ced5b9beb7f8782b014660da0cb18cc409f121f408186886e1ca3e8eeca96b", "AVAX", 1},
		{"dev", 1337, "", "ETH", 0},
	} {
		n, ok := networks.Lookup(tc.name)
		if !ok {
			t.Fatalf("no %s", tc.name)
		}
		if n.ChainID != tc.id || n.GenesisHash != tc.genesis || n.NativeSymbol != tc.symbol || n.ReorgBuffer != tc.reorg {
			t.Errorf("%s = %d %s %s %d, want %d %s %s %d", tc.name, n.ChainID, n.GenesisHash, n.NativeSymbol, n.ReorgBuffer,
				tc.id, tc.genesis, tc.symbol, tc.reorg)
		}
		byID, ok := networks.ByChainID(big.NewInt(tc.id))
		if !ok || byID.Name != tc.name {
			t.Errorf("ByChainID(%d) = %q, %v; want %s", tc.id, byID.Name, ok, tc.name)
		}
	}
}

func TestLookupAliases(t *testing.T) {
	for alias, want := range map[string]string{"BNB": "bsc", "arbitrum-one": "arbitrum", "matic": "polygon", "c-chain": "avalanche", "OP": "optimism", "mainnet": "ethereum"} {
		n, ok := networks.Lookup(alias)
		if !ok || n.Name != want {
			t.Errorf("Lookup(%q) = %q, %v; want %s", alias, n.Name, ok, want)
		}
	}
	if _, ok := networks.Lookup("dogechain"); ok {
		t.Error("Lookup(dogechain) found a network")
	}
	if n, ok := networks.ByLayerZeroEID(30184); !ok || n.Name != "base" {
		t.Errorf("ByLayerZeroEID(30184) = %q, %v; want base", n.Name, ok)
	}
	if _, ok := networks.ByLayerZeroEID(0); ok {
		t.Error("ByLayerZeroEID(0) found a network")
	}
	if _, ok := networks.ByChainID(big.NewInt(999999999)); ok {
		t.Error("ByChainID(999999999) found a network")
	}
}

// Each mainnet's wrapped native coin is in the token registry, once; every
// chain of the token registry is a network.
func TestWrappedNativeInTokens(t *testing.T) {
	reg, err := labels.Bundled()
	if err != nil {
		t.Fatal(err)
	}
	all, _ := networks.All()
	for _, n := range all {
		w := reg.WrappedNatives(n.Name)
		if n.Kind == networks.Mainnet && len(w) != 1 {
			t.Errorf("%s: %d wrapped_native rows in chains/labels/tokens.csv, want 1", n.Name, len(w))
		}
		if len(w) == 1 {
			tok, _ := reg.Token(n.Name, w[0])
			if !strings.HasSuffix(tok.Symbol, n.NativeSymbol) && !(n.NativeSymbol == "POL" && tok.Symbol == "WPOL") {
				t.Errorf("%s: wrapped native %s does not wrap %s", n.Name, tok.Symbol, n.NativeSymbol)
			}
		}
	}
}

func TestURLsAndBlocks(t *testing.T) {
	n, _ := networks.Lookup("arbitrum")
	if got := n.TxURL("0xab"); got != "https://arbiscan.io/tx/0xab" {
		t.Errorf("TxURL = %s", got)
	}
	if got := n.AddressURL("0xcd"); got != "https://arbiscan.io/address/0xcd" {
		t.Errorf("AddressURL = %s", got)
	}
	if got := n.Blocks(time.Minute); got != 240 {
		t.Errorf("arbitrum blocks in a minute = %d, want 240", got)
	}
	dev, _ := networks.Lookup("dev")
	if dev.TxURL("0xab") != "" || dev.Blocks(time.Hour) != 0 {
		t.Error("dev has an explorer or a block time")
	}
}

func TestReadRejects(t *testing.T) {
	head := "name,aliases,kind,chain_id,genesis_hash,native_symbol,native_decimals,reorg_buffer,block_time_ms,explorer,log_range_cap,trace_filter,debug_trace,layerzero_eid,notes,source\n"
	good := "x,,mainnet,5,0x" + strings.Repeat("ab", 32) + ",X,18,1,1000,https://x.io,0,no,yes,0,,https://x.io/src\n"
	if _, err := networks.Read(strings.NewReader(head + good)); err != nil {
		t.Fatalf("good row: %v", err)
	}
	for name, tc := range map[string]struct{ row, want string }{
		"bad header":      {"", "header"},
		"bad kind":        {strings.Replace(good, "mainnet", "sidechain", 1), "kind"},
		"bad id":          {strings.Replace(good, ",5,", ",-5,", 1), "chain_id"},
		"no genesis":      {strings.Replace(good, "0x"+strings.Repeat("ab", 32), "", 1), "genesis_hash"},
		"short hash":      {strings.Replace(good, "0x"+strings.Repeat("ab", 32), "0xab", 1), "genesis_hash"},
		"bad support":     {strings.Replace(good, ",no,yes,", ",maybe,yes,", 1), "trace_filter"},
		"no source":       {strings.Replace(good, "https://x.io/src", "etherscan", 1), "source"},
		"http explorer":   {strings.Replace(good, "https://x.io,", "http://x.io,", 1), "explorer"},
		"upper name":      {strings.Replace(good, "x,,", "X,,", 1), "name"},
		"duplicate id":    {good + strings.Replace(good, "x,,", "y,,", 1), "chain id 5 used twice"},
		"duplicate alias": {good + strings.Replace(good, "x,,", "y,x,", 1), `name "x" used twice`},
	} {
		in := head + tc.row
		if name == "bad header" {
			in = strings.Replace(head, "name,", "nom,", 1) + good
		}
		_, err := networks.Read(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one naming %q", name, err, tc.want)
		}
	}
}
