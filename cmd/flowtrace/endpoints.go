package main

import (
	"cmp"
	"maps"
	"os"
	"regexp"
	"slices"
)

// Environment variables that give a chain's node when --rpc is not given.
const (
	evmRPCEnv     = "ETH_RPC_URL"
	bitcoinRPCEnv = "BTC_RPC_URL"
)

// chainPrefix is the CHAIN of a --rpc CHAIN=URL value: a name, no scheme.
var chainPrefix = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_-]*)=(.+)$`)

// parseRPC reads --rpc values: a plain URL (the traced chain's node) or
// CHAIN=URL. It returns the URLs per chain, by the chain's flowtrace name;
// the plain ones are under "". An unknown CHAIN is bad input. Messages
// never quote a URL (it may hold a key).
func parseRPC(values []string) (map[string][]string, error) {
	byChain := map[string][]string{}
	for _, v := range values {
		m := chainPrefix.FindStringSubmatch(v)
		if m == nil {
			byChain[""] = append(byChain[""], v)
			continue
		}
		name, ok := chainName(m[1])
		if !ok {
			return nil, usageErr("--rpc %s=URL: unknown chain %q: want one of %s, %s (or a plain URL for the traced chain)", m[1], m[1], chainNames(), bitcoinChainNames())
		}
		byChain[name] = append(byChain[name], m[2])
	}
	return byChain, nil
}

// chainName is the flowtrace name of an EVM or Bitcoin chain given by name
// or alias.
func chainName(s string) (string, bool) {
	if n, ok := lookupChain(s); ok {
		return n.Name, true
	}
	if b, ok := lookupBitcoin(s); ok {
		return b.name, true
	}
	return "", false
}

// nodeURLs are the traced chain's endpoints: the plain --rpc URLs and the
// CHAIN=URL ones for it; with no --rpc, $ETH_RPC_URL on an EVM chain and
// $BTC_RPC_URL on Bitcoin. A CHAIN=URL for another chain is refused: a
// trace follows one chain for now.
func (o *traceOptions) nodeURLs() ([]string, error) {
	traced, _ := chainName(o.chain)
	_, btc := lookupBitcoin(o.chain)
	values := o.rpcURLs
	if btc && !o.rpcGiven() {
		values = envURL(bitcoinRPCEnv)
	}
	byChain, err := parseRPC(values)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(byChain)) {
		if name != "" && name != traced {
			return nil, usageErr("cross-chain traces: --rpc %s=URL names a node of %s, but this trace follows %s only; following value across chains is not supported yet: trace each chain on its own with its --chain and --rpc",
				name, name, cmp.Or(traced, o.chain))
		}
	}
	return append(slices.Clone(byChain[""]), byChain[traced]...), nil
}

// rpcGiven reports whether --rpc was on the command line (its default is
// $ETH_RPC_URL, which a Bitcoin trace must not take).
func (o *traceOptions) rpcGiven() bool { return o.rpcFlag != nil && o.rpcFlag.Changed }

// envURL is the URL in the environment variable name, if set.
func envURL(name string) []string {
	if u := os.Getenv(name); u != "" {
		return []string{u}
	}
	return nil
}
