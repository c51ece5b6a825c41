package main

import (
	"math/big"
	"strings"
	"testing"
)

func TestCheckChain(t *testing.T) {
	eth, _ := lookupChain("ethereum")
	dev, _ := lookupChain("dev")
	bsc, _ := lookupChain("BNB")
	const ethGenesis = "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"
	for _, tc := range []struct {
		name    string
		chain   chainSpec
		id      int64
		genesis string
		want    string // "" = accepted
	}{
		{"ethereum", eth, 1, ethGenesis, ""},
		{"genesis in upper case", eth, 1, "0x" + strings.ToUpper(ethGenesis[2:]), ""},
		{"ethereum, genesis unknown", eth, 1, "", ""},
		{"dev, any genesis", dev, 1337, "0x" + strings.Repeat("1", 64), ""},
		{"bsc node, --chain ethereum", eth, 56, "", "pass --chain bsc"},
		{"arbitrum node, --chain bsc", bsc, 42161, "", "pass --chain arbitrum"},
		{"unknown chain id", eth, 424242, "", "serves chain id 424242, not ethereum (chain id 1)"},
		{"fork of ethereum", eth, 1, "0x" + strings.Repeat("ab", 32), "not ethereum's " + ethGenesis},
	} {
		err := checkChain(tc.chain, big.NewInt(tc.id), tc.genesis)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}

func TestChainAliases(t *testing.T) {
	for _, name := range []string{"arbitrum-one", "Polygon", "avax", "bsc"} {
		if _, ok := lookupChain(name); !ok {
			t.Errorf("--chain %s unknown", name)
		}
	}
	for _, name := range []string{"ethereum", "bsc", "arbitrum", "optimism", "base", "polygon", "avalanche", "dev"} {
		if !strings.Contains(chainNames(), name) || !strings.Contains(reorgBufferHelp(), "on "+name) {
			t.Errorf("%s missing from the --chain or --reorg-buffer help", name)
		}
	}
}
