package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestNodeURLs: which --rpc values reach the traced chain's node, with and
// without CHAIN=URL, and the environment defaults per chain family.
func TestNodeURLs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		eth, btc string // $ETH_RPC_URL, $BTC_RPC_URL
		args     []string
		want     []string
		err      string
	}{
		{name: "plain URL", args: []string{"--rpc", "http://a:8545"}, want: []string{"http://a:8545"}},
		{name: "a query with = is a URL", args: []string{"--rpc", "https://node.example/v3?key=abc"}, want: []string{"https://node.example/v3?key=abc"}},
		{name: "chain=URL for the traced chain", args: []string{"--rpc", "ethereum=http://a", "--rpc", "http://b"}, want: []string{"http://b", "http://a"}},
		{name: "a Bitcoin chain=URL", args: []string{"--chain", "bitcoin-regtest", "--rpc", "bitcoin-regtest=http://u:p@b:18443"}, want: []string{"http://u:p@b:18443"}},
		{name: "$ETH_RPC_URL for EVM", eth: "http://eth", btc: "http://btc", want: []string{"http://eth"}},
		{name: "$BTC_RPC_URL for Bitcoin", eth: "http://eth", btc: "http://btc", args: []string{"--chain", "bitcoin"}, want: []string{"http://btc"}},
		{name: "--rpc wins over $BTC_RPC_URL", btc: "http://btc", args: []string{"--chain", "bitcoin", "--rpc", "http://given"}, want: []string{"http://given"}},
		{name: "no node for Bitcoin", eth: "http://eth", args: []string{"--chain", "bitcoin"}, want: nil},
		{name: "another chain", args: []string{"--rpc", "bitcoin=http://u:secret@b"}, err: "cross-chain traces: --rpc bitcoin=URL names a node of bitcoin, but this trace follows ethereum only"},
		{name: "unknown chain", args: []string{"--rpc", "doge=http://u:secret@b"}, err: `--rpc doge=URL: unknown chain "doge"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(evmRPCEnv, tc.eth)
			t.Setenv(bitcoinRPCEnv, tc.btc)
			o := &traceOptions{}
			cmd := &cobra.Command{}
			cmd.SetOut(io.Discard)
			o.register(cmd)
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			got, err := o.nodeURLs()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "secret") {
					t.Fatalf("error %v, want %q (and no credentials)", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// parseRPC keeps every chain's URLs, for a trace over several chains.
func TestParseRPCByChain(t *testing.T) {
	got, err := parseRPC([]string{"http://plain", "bitcoin=http://b1", "eth=http://e", "bitcoin=http://b2"})
	if err != nil {
		t.Fatal(err)
	}
	for chain, want := range map[string][]string{"": {"http://plain"}, "bitcoin": {"http://b1", "http://b2"}} {
		if !slices.Equal(got[chain], want) {
			t.Errorf("%q: %q, want %q", chain, got[chain], want)
		}
	}
	if len(got) != 3 {
		t.Errorf("chains %v: want plain, bitcoin and the alias eth's chain", got)
	}
}
