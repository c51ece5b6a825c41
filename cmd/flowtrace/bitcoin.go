package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/flowtrace/flowtrace/chains/bitcoin"
	"github.com/flowtrace/flowtrace/chains/networks"
	"github.com/flowtrace/flowtrace/tracer"
)

// bitcoinChain is a Bitcoin network flowtrace traces: its --chain name and
// the network's parameters (address prefixes, what getblockchaininfo says).
type bitcoinChain struct {
	name   string
	params *chaincfg.Params
}

// bitcoinChains are the Bitcoin networks --chain takes; nodeChain is the
// chain as getblockchaininfo names it (bitcoin.ChainParams).
var bitcoinChains = func() []bitcoinChain {
	var out []bitcoinChain
	for _, c := range []struct{ name, nodeChain string }{
		{"bitcoin", "main"}, {"bitcoin-testnet", "test"}, {"bitcoin-testnet4", "testnet4"},
		{"bitcoin-signet", "signet"}, {"bitcoin-regtest", "regtest"}, {"bitcoin-simnet", "simnet"},
	} {
		p, ok := bitcoin.ChainParams(c.nodeChain)
		if !ok {
			panic("bitcoin.ChainParams lost " + c.nodeChain) // a programming error
		}
		out = append(out, bitcoinChain{c.name, p})
	}
	return out
}()

// bitcoinNative is Bitcoin's coin: amounts are in satoshis.
const (
	bitcoinSymbol   = "BTC"
	bitcoinDecimals = 8
)

// lookupBitcoin finds --chain among the Bitcoin networks.
func lookupBitcoin(name string) (bitcoinChain, bool) {
	for _, c := range bitcoinChains {
		if strings.EqualFold(name, c.name) {
			return c, true
		}
	}
	return bitcoinChain{}, false
}

func bitcoinChainNames() string {
	var names []string
	for _, c := range bitcoinChains {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// spec is the chain as the shared trace code sees it: a name and a coin.
func (c bitcoinChain) spec() chainSpec {
	return networks.Network{Name: c.name, NativeSymbol: bitcoinSymbol, NativeDecimals: bitcoinDecimals}
}

// txid is a Bitcoin transaction id as --theft-tx takes it.
var txid = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// validateBitcoin checks every flag of a Bitcoin trace that can be checked
// without the node. Seeds of another Bitcoin network are told after the
// probe, against the network the node serves.
func (o *traceOptions) validateBitcoin(net bitcoinChain) (*traceRequest, error) {
	r := &traceRequest{chain: net.spec()}
	if err := o.parseSeeds(r, bitcoinSeed(net)); err != nil {
		return nil, err
	}
	for _, a := range r.seeds {
		if strings.HasPrefix(string(a), bitcoin.TxPrefix) {
			return nil, usageErr("--seed %s is a transaction: give the addresses it paid", a)
		}
	}
	if err := o.parseTheftTxs(r, txid, "a transaction id of 64 hex digits"); err != nil {
		return nil, err
	}
	if o.native != "auto" {
		return nil, usageErr("--native %s: Bitcoin has no tokens; drop --native", o.native)
	}
	if err := o.validateCommon(r); err != nil {
		return nil, err
	}
	if len(r.rpc) > 1 {
		return nil, usageErr("--rpc: a Bitcoin trace takes one node for now: give one URL")
	}
	return r, o.checkNode()
}

// bitcoinSeed reads a --seed or --expand for a trace on net: an address of
// net in canonical form, a transaction's node (tx:<txid>, for --expand), or
// as given when it is an address of another Bitcoin network (told after
// the probe, against the network the node serves: onNetwork). An address
// of no Bitcoin network is an error.
func bitcoinSeed(net bitcoinChain) func(string) (tracer.Address, error) {
	return func(s string) (tracer.Address, error) {
		if hub, ok := strings.CutPrefix(s, bitcoin.TxPrefix); ok && txid.MatchString(hub) {
			return bitcoin.TxAddress(strings.ToLower(hub)), nil
		}
		a, err := bitcoin.ParseAddress(s, net.params)
		switch {
		case err == nil:
			return tracer.Address(a), nil
		case errors.Is(err, bitcoin.ErrNotBitcoin) || !bitcoin.LooksLikeAddress(s):
			return "", err
		}
		return tracer.Address(strings.TrimSpace(s)), nil
	}
}

// onNetwork checks r's seeds and --expand against the network the node
// serves, and writes them in canonical form.
func (o *traceOptions) onNetwork(r *traceRequest, params *chaincfg.Params) error {
	check := func(flag string, raw []string, into []tracer.Address) error {
		for i, s := range raw {
			if strings.HasPrefix(string(into[i]), bitcoin.TxPrefix) {
				continue
			}
			a, err := bitcoin.ParseAddress(s, params)
			if err != nil {
				return usageErr("%s: %v: give an address of that network, or the --chain it belongs to", flag, err)
			}
			into[i] = tracer.Address(a)
		}
		return nil
	}
	if err := check("--seed", o.seeds, r.seeds); err != nil {
		return err
	}
	return check("--expand", o.expand, r.expand)
}

// traceBitcoin traces on a Bitcoin node (Bitcoin Core or btcd JSON-RPC):
// the probe says how spends are found, the walk runs over bitcoin.Source.
func (o *traceOptions) traceBitcoin(ctx context.Context, net bitcoinChain, stdout, stderr io.Writer) error {
	req, err := o.validateBitcoin(net)
	if err != nil {
		return err
	}
	logf := o.logger(stderr)
	reg, err := loadRegistry(o.noBundled, o.labelFiles)
	if err != nil {
		return err
	}
	httpClient, endpoints, save, err := o.transport()
	if err != nil {
		return err
	}
	var rt http.RoundTripper
	if httpClient != nil {
		rt = httpClient.Transport
	}
	c, err := bitcoin.Dial(endpoints[0], bitcoin.Options{
		Transport: rt, RequestsPerSecond: o.rps, MaxConcurrent: o.maxConcurrent, BatchSize: o.batchSize, Timeout: o.timeout,
	})
	if err != nil {
		return usageErr("--rpc: %v", err)
	}
	p, err := c.ProbeNode(ctx)
	if err != nil {
		if errors.Is(err, tracer.ErrUnsupported) {
			return usageErr("%v: point --rpc at Bitcoin Core (-txindex) or btcd (--txindex --addrindex)", err)
		}
		return withCode(exitError, fmt.Errorf("%v; check that the node is up and --rpc (or %s) is right", err, bitcoinRPCEnv))
	}
	if p.Params.Name != net.params.Name {
		other := p.Chain
		for _, c := range bitcoinChains {
			if c.params.Name == p.Params.Name {
				other = c.name
			}
		}
		return usageErr("the node serves %s (getblockchaininfo chain %q), not %s: pass --chain %s or point --rpc at a %s node", other, p.Chain, net.name, other, net.name)
	}
	if err := o.onNetwork(req, p.Params); err != nil {
		return err
	}
	window, err := req.window(uint64(p.Height))
	if err != nil {
		return err
	}
	if err := p.CheckWindow(int64(window.From)); err != nil {
		return usageErr("%v", err)
	}
	probeRequests, _ := c.Usage()
	src := bitcoin.NewSource(c, p, bitcoin.SourceOptions{Chain: net.name})
	method, why := src.Method()
	if n := window.Len(); method == bitcoin.SpendsByBlockScan && n > o.maxBlocks {
		return usageErr("the window [%d,%d] needs a scan of %d blocks (roughly %s at ~2 blocks/s on a full node); narrow it with --to-block, raise --max-blocks, or use btcd with --addrindex",
			window.From, window.To, n, (time.Duration(n/2) * time.Second).String())
	}
	logf("flowtrace: chain %s (node: %s), head %d, window [%d,%d], spends by %s: %s", net.name, p.Chain, p.Height, window.From, window.To, method, why)
	if !req.cache.off {
		logf("flowtrace: the hop cache is not used on Bitcoin yet: every block comes from the node")
	}
	return o.walkAndWrite(ctx, req, walkInput{
		src: probed{src, probeRequests}, window: window, labels: firstLabel{reg, src.Labels()}, tokens: reg, save: save, feeSink: bitcoin.FeeAddress,
		node: fmt.Sprintf("Bitcoin %s; spends found by %s: %s", p.Chain, method, why),
	}, stdout, stderr)
}

// probed is a Bitcoin Source whose usage counts the probe's requests as
// identifying the chain.
type probed struct {
	*bitcoin.Source
	requests int64
}

func (p probed) Usage() tracer.Usage {
	u := p.Source.Usage()
	u.ProbeRequests = p.requests
	return u
}

// firstLabel asks each labeler in turn: the first that knows an address names it.
type firstLabel []tracer.Labeler

func (ls firstLabel) Lookup(chain string, a tracer.Address) (tracer.Label, bool) {
	for _, l := range ls {
		if lb, ok := l.Lookup(chain, a); ok {
			return lb, true
		}
	}
	return tracer.Label{}, false
}
