package main

import (
	"context"
	"errors"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// parseTrace parses args as flowtrace trace's flags.
func parseTrace(t *testing.T, args ...string) *traceOptions {
	t.Helper()
	o := &traceOptions{crossChain: true}
	cmd := &cobra.Command{}
	cmd.SetOut(io.Discard)
	o.register(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestLinkedURLs: which nodes of other chains a trace opens, and when
// $BTC_RPC_URL joins.
func TestLinkedURLs(t *testing.T) {
	for _, tc := range []struct {
		name string
		btc  string // $BTC_RPC_URL
		args []string
		want map[string][]string
		err  string
	}{
		{name: "one chain", args: []string{"--rpc", "http://e"}, want: map[string][]string{}},
		{name: "a Bitcoin node", args: []string{"--rpc", "http://e", "--rpc", "bitcoin-regtest=http://b"}, want: map[string][]string{"bitcoin-regtest": {"http://b"}}},
		{name: "$BTC_RPC_URL joins a live EVM trace", btc: "http://env", args: []string{"--rpc", "http://e"}, want: map[string][]string{"bitcoin": {"http://env"}}},
		{name: "not a replayed one", btc: "http://env", args: []string{"--replay", "x.replay"}, want: map[string][]string{}},
		{name: "a named Bitcoin node wins", btc: "http://env", args: []string{"--rpc", "http://e", "--rpc", "bitcoin-signet=http://b"},
			want: map[string][]string{"bitcoin-signet": {"http://b"}}},
		{name: "not a Bitcoin trace", btc: "http://env", args: []string{"--chain", "bitcoin", "--rpc", "http://b"}, want: map[string][]string{}},
		{name: "two Bitcoin networks", args: []string{"--rpc", "http://e", "--rpc", "bitcoin=http://b", "--rpc", "bitcoin-regtest=http://r"},
			err: "--rpc names nodes of bitcoin and bitcoin-regtest: a trace goes on on one Bitcoin network"},
		{name: "EVM chains over EVM bridges", args: []string{"--rpc", "http://e", "--rpc", "base=http://b", "--rpc", "arbitrum=http://a"},
			want: map[string][]string{"arbitrum": {"http://a"}, "base": {"http://b"}}},
		{name: "no bridge from Bitcoin to EVM chains", args: []string{"--chain", "bitcoin", "--rpc", "http://b", "--rpc", "base=http://e"},
			err: "--rpc base=URL: no bridge is followed from bitcoin to base yet (followed: thorchain from evm to bitcoin chains; across, stargate from evm to evm chains)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(evmRPCEnv, "")
			t.Setenv(bitcoinRPCEnv, tc.btc)
			o := parseTrace(t, tc.args...)
			if err := o.resolveFiles(); err != nil {
				t.Fatal(err)
			}
			traced, _ := chainName(o.chain)
			got, err := o.linkedURLs(traced)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !maps.EqualFunc(got, tc.want, slices.Equal) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// A command that follows one chain (batch, worker, serve) links none, even
// with $BTC_RPC_URL set.
func TestNoLinkedChainsOutsideTrace(t *testing.T) {
	t.Setenv(bitcoinRPCEnv, "http://env")
	o := parseTrace(t, "--rpc", "http://e")
	o.crossChain = false
	got, err := o.linkedURLs("ethereum")
	if err != nil || len(got) != 0 {
		t.Errorf("linked %v, %v; want none", got, err)
	}
}

// TestChainFiles: --record and --replay take a plain FILE for the traced
// chain and CHAIN=FILE for any chain; paths are not chain names.
func TestChainFiles(t *testing.T) {
	o := parseTrace(t, "--chain", "dev", "--replay", "dev=a.replay", "--replay", "bitcoin-regtest=b.replay", "--record", "out/x=1.replay")
	if err := o.resolveFiles(); err != nil {
		t.Fatal(err)
	}
	if o.replay != "a.replay" || o.linkedFiles[1]["bitcoin-regtest"] != "b.replay" || len(o.linkedFiles[1]) != 1 {
		t.Errorf("replay %q, others %v; want a.replay for dev and b.replay for bitcoin-regtest", o.replay, o.linkedFiles[1])
	}
	if o.record != "out/x=1.replay" || len(o.linkedFiles[0]) != 0 {
		t.Errorf("record %q, others %v; want the path as a plain file", o.record, o.linkedFiles[0])
	}
	for args, want := range map[string]string{
		"--replay a.replay --replay dev=b.replay":                  "--replay: two files for dev",
		"--replay bitcoin=a.replay --replay bitcoin=b.replay":      "--replay bitcoin=FILE given twice",
		"--record a.replay --record bitcoin-regtest=b.replay":      "",
		"--record ethereum=a.replay --record bitcoin-regtest=b.re": "--record bitcoin-regtest=FILE: no file for the traced chain dev",
	} {
		o := parseTrace(t, append([]string{"--chain", "dev"}, strings.Fields(args)...)...)
		err := o.resolveFiles()
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: error %v, want %q", args, err, want)
		}
	}
}

// TestOpenEVMLinked: the opener a bridge between EVM chains will use checks
// the node against the chain it is given for.
func TestOpenEVMLinked(t *testing.T) {
	o := parseTrace(t)
	o.noBundled = true
	replay := filepath.Join(devTheft, "rpc.replay")
	via, err := chainTransport(nil, "", replay)
	if err != nil {
		t.Fatal(err)
	}
	l, err := openEVMLinked(context.Background(), o, "dev", via)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	if l.chain.Name != "dev" || l.kind != kindEVM || l.chain.Coin.Symbol != "ETH" || !strings.Contains(l.node, "chain id 1337") {
		t.Errorf("opened %s (%s), coin %+v, node %q; want dev, evm, ETH, chain id 1337", l.chain.Name, l.kind, l.chain.Coin, l.node)
	}
	via, err = chainTransport(nil, "", replay)
	if err != nil {
		t.Fatal(err)
	}
	_, err = openEVMLinked(context.Background(), o, "ethereum", via)
	var ce *codedError
	if !errors.As(err, &ce) || ce.code != exitUsage || !strings.Contains(err.Error(), "not ethereum") {
		t.Errorf("a dev node given as ethereum: %v; want exit 2 naming the mismatch", err)
	}
}
