package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/flowtrace/flowtrace/chains/crosschain"
	"github.com/flowtrace/flowtrace/chains/rpcreplay"
	"github.com/flowtrace/flowtrace/tracer"
)

// A trace over several chains: the traced chain's node and a node of each
// other chain named by --rpc CHAIN=URL (or $BTC_RPC_URL), joined by the
// bridges whose deposits on one are paired with their payouts on another
// (chains/crosschain). Two small registries say how: chainOpeners opens a
// chain's Source by its kind, chainPairers lists the pairers from a kind of
// chain to another. A new bridge is a new pairer registered in its own
// file; a new kind of chain, a new opener.

// Kinds of chain: each is opened alike, whatever its network.
const (
	kindEVM     = "evm"
	kindBitcoin = "bitcoin"
)

// chainKind is the kind of a flowtrace chain name ("" for none).
func chainKind(name string) string {
	if _, ok := lookupChain(name); ok {
		return kindEVM
	}
	if _, ok := lookupBitcoin(name); ok {
		return kindBitcoin
	}
	return ""
}

// linkedChain is another chain's node, opened for a trace: its part of the
// crosschain Source and what the command says and saves of it.
type linkedChain struct {
	name  string // the flowtrace chain name (bitcoin-regtest)
	kind  string
	chain crosschain.Chain // chain.Name is the bridges' name for it (bitcoin)
	// own is the chain's Source as opened (a *bitcoin.Source, an
	// *evm.Source), for the pairers that read it.
	own  tracer.Source
	node string // how the node is asked and why, one line
	// feeSink is where the chain pays its fees as transfers, qualified
	// with the chain ("" for none).
	feeSink tracer.Address
	// wrappedNatives are the chain's wrapped native coins (an EVM
	// chain's WETH), for the bridges that pay in them.
	wrappedNatives []tracer.Address
	// maxBlocks refuses a window of the chain its Source would read block
	// by block beyond --max-blocks (nil: no such limit).
	maxBlocks func(w tracer.BlockRange) error
	save      func() error
	close     func()
}

// chainIO is how a chain's node is reached: its endpoints and, with
// --record or --replay, the recording's transport.
type chainIO struct {
	urls      []string
	transport http.RoundTripper // nil: the network
	save      func() error
}

// chainOpener opens the node of chain name (a flowtrace name of the
// opener's kind) for a trace linked to the traced one.
type chainOpener func(ctx context.Context, o *traceOptions, name string, via chainIO) (*linkedChain, error)

// chainOpeners by kind of chain.
var chainOpeners = map[string]chainOpener{}

// pairerFactory makes a bridge's pairer of deposits on the traced chain
// from (a flowtrace name) to their payouts on to; nil, nil when the bridge
// does not join these two chains.
type pairerFactory func(from string, to *linkedChain) (crosschain.Pairer, error)

// pairerKey is a bridge's direction: the kind of the deposits' chain and
// the kind of the payouts' chain.
type pairerKey struct{ from, to string }

// chainPairers lists the bridges by direction; each registers itself in
// its file's init.
var chainPairers = map[pairerKey][]pairerFactory{}

// bridgeNames says which directions have a pairer, for messages.
var bridgeNames = map[pairerKey][]string{}

func registerPairer(from, to, bridge string, f pairerFactory) {
	k := pairerKey{from, to}
	chainPairers[k] = append(chainPairers[k], f)
	bridgeNames[k] = append(bridgeNames[k], bridge)
}

// knownDirections lists the directions a trace can cross, for messages.
func knownDirections() string {
	var s []string
	for _, k := range slices.SortedFunc(maps.Keys(bridgeNames), func(a, b pairerKey) int { return strings.Compare(a.from+a.to, b.from+b.to) }) {
		s = append(s, fmt.Sprintf("%s from %s to %s chains", strings.Join(bridgeNames[k], ", "), k.from, k.to))
	}
	return strings.Join(s, "; ")
}

// linkedURLs are the other chains' endpoints: the --rpc CHAIN=URL values
// for chains other than the traced one, and $BTC_RPC_URL for bitcoin when
// no Bitcoin node is named, the trace is live and it can go on on Bitcoin.
// A chain no bridge reaches from the traced chain is bad input. A command
// that follows one chain (batch, worker, serve's expansions) links none.
func (o *traceOptions) linkedURLs(traced string) (map[string][]string, error) {
	urls, others, err := o.rpcByChain()
	if err != nil || !o.crossChain {
		return map[string][]string{}, err
	}
	from := chainKind(traced)
	named := false
	for _, name := range slices.Sorted(maps.Keys(others)) {
		named = named || chainKind(name) == kindBitcoin
		if len(chainPairers[pairerKey{from, chainKind(name)}]) == 0 {
			return nil, usageErr("--rpc %s=URL: no bridge is followed from %s to %s yet (followed: %s); drop it and trace each chain on its own",
				name, traced, name, knownDirections())
		}
	}
	if len(others) > 0 && len(urls) == 0 && o.replay == "" {
		names := slices.Sorted(maps.Keys(others))
		return nil, usageErr("--rpc names nodes of %s but none of the traced chain %s: give --rpc URL (or %s=URL) for %s, or --chain one of %s",
			strings.Join(names, " and "), traced, traced, traced, strings.Join(names, ", "))
	}
	var btc []string
	for _, name := range slices.Sorted(maps.Keys(others)) {
		if chainKind(name) == kindBitcoin {
			btc = append(btc, name)
		}
	}
	if len(btc) > 1 {
		return nil, usageErr("--rpc names nodes of %s: a trace goes on on one Bitcoin network; keep the one the bridges paid out on", strings.Join(btc, " and "))
	}
	if env := envURL(bitcoinRPCEnv); !named && len(env) > 0 && o.replay == "" && from != kindBitcoin &&
		len(chainPairers[pairerKey{from, kindBitcoin}]) > 0 {
		others["bitcoin"] = env
	}
	return others, nil
}

// linksEVM reports whether a trace of traced goes on on another EVM chain
// (--rpc CHAIN=URL or --replay CHAIN=FILE names one): the traced chain's
// deposits into EVM bridges are then decoded, and only then.
func (o *traceOptions) linksEVM(traced string) bool {
	urls, err := o.linkedURLs(traced)
	if err != nil {
		return false
	}
	for name := range urls {
		if chainKind(name) == kindEVM {
			return true
		}
	}
	for name := range o.linkedFiles[1] {
		if o.crossChain && chainKind(name) == kindEVM {
			return true
		}
	}
	return false
}

// openLinked opens the node of every other chain of the trace.
func (o *traceOptions) openLinked(ctx context.Context, traced string, logf func(string, ...any)) ([]*linkedChain, error) {
	urls, err := o.linkedURLs(traced)
	if err != nil {
		return nil, err
	}
	records, replays := o.linkedFiles[0], o.linkedFiles[1]
	for _, files := range []map[string]string{records, replays} {
		for name := range files {
			if _, ok := urls[name]; !ok && replays[name] == "" {
				return nil, usageErr("--record %s=FILE: no node of %s to record: give --rpc %s=URL", name, name, name)
			}
		}
	}
	for name := range replays {
		if _, ok := urls[name]; !ok {
			urls[name] = []string{"http://replay.invalid/"}
		}
	}
	var out []*linkedChain
	closeAll := func() {
		for _, l := range out {
			l.close()
		}
	}
	for _, name := range slices.Sorted(maps.Keys(urls)) {
		via, err := chainTransport(urls[name], records[name], replays[name])
		if err != nil {
			closeAll()
			return nil, err
		}
		l, err := chainOpeners[chainKind(name)](ctx, o, name, via)
		if err != nil {
			closeAll()
			return nil, err
		}
		logf("flowtrace: linked chain %s: %s", l.name, l.node)
		out = append(out, l)
	}
	return out, nil
}

// resolveFiles reads --record and --replay CHAIN=FILE: the traced chain's
// file becomes the plain one, the others' wait for openLinked.
func (o *traceOptions) resolveFiles() error {
	traced, _ := chainName(o.chain)
	var err error
	if o.linkedFiles[0], err = o.recordFiles.resolve("record", traced); err != nil {
		return err
	}
	o.linkedFiles[1], err = o.replayFiles.resolve("replay", traced)
	return err
}

// chainTransport reaches one chain's node: live, recorded into record, or
// answered from replay.
func chainTransport(urls []string, record, replay string) (chainIO, error) {
	via := chainIO{urls: urls, save: func() error { return nil }}
	switch {
	case replay != "":
		rp, err := rpcreplay.LoadReplayer(replay)
		if err != nil {
			return via, usageErr("--replay: %v", err)
		}
		via.transport, via.urls = rp, []string{"http://replay.invalid/"}
	case record != "":
		rec := rpcreplay.NewRecorder(http.DefaultTransport)
		via.transport, via.save = rec, func() error { return rec.Save(record) }
	}
	return via, nil
}

// linkSource joins the traced chain's Source and the linked chains through
// every registered bridge between their kinds.
func linkSource(primary crosschain.Chain, primaryKind string, linked []*linkedChain) (*crosschain.Source, error) {
	var others []crosschain.Chain
	var pairers []crosschain.Pairer
	for _, l := range linked {
		others = append(others, l.chain)
		for _, f := range chainPairers[pairerKey{primaryKind, l.kind}] {
			p, err := f(primary.Name, l)
			if err != nil {
				return nil, err
			}
			if p != nil {
				pairers = append(pairers, p)
			}
		}
	}
	return crosschain.New(primary, others, pairers...)
}
