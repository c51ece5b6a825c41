package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowtrace/flowtrace/cache"
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/tracer"
)

// registerNode adds the flags that reach the node, and record and replay:
// trace and transfers take them alike.
func (o *traceOptions) registerNode(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&o.rpcURLs, "rpc", envURLs(), "JSON-RPC endpoint of the node (default $ETH_RPC_URL; $BTC_RPC_URL for Bitcoin), or CHAIN=URL (trace: another chain's node, where bridges paid out); repeat for fallbacks that share the load")
	o.rpcFlag = f.Lookup("rpc")
	f.StringVar(&o.native, "native", "auto", "how native ETH is traced: auto, trace_filter, blockscan or off (tokens only)")
	f.Float64Var(&o.rps, "requests-per-second", 0, "cap on JSON-RPC requests per second (0 = no cap)")
	f.IntVar(&o.maxConcurrent, "max-concurrent-requests", 4, "HTTP requests in flight at once")
	f.IntVar(&o.batchSize, "batch-size", 100, "JSON-RPC requests per batch")
	f.DurationVar(&o.timeout, "request-timeout", 2*time.Minute, "give up on an HTTP request after this long and retry it")
	f.Int64Var(&o.maxResponseMB, "max-response-mb", 64, "largest answer accepted from the node, in MiB: larger ones are asked again in smaller parts")
	f.BoolVar(&o.anyGenesis, "skip-genesis-check", false, "accept nodes that answer a chain's id from another genesis block (a local network playing the chain); the chain id is still checked")
	group(cmd, "Node", "rpc", "native", "requests-per-second", "max-concurrent-requests", "batch-size", "request-timeout", "max-response-mb", "skip-genesis-check")

	o.recordFiles, o.replayFiles = newChainFiles(&o.record), newChainFiles(&o.replay)
	f.Var(o.recordFiles, "record", "record the node's answers to FILE (for tests and reproducible runs); CHAIN=FILE for another chain of the trace, one file per chain")
	f.Var(o.replayFiles, "replay", "answer from a recorded FILE instead of a node (no network); CHAIN=FILE for another chain of the trace")
	group(cmd, "Record and replay", "record", "replay")

	// Never show the environment's RPC URL (it may hold a key) as a default in --help.
	f.Lookup("rpc").DefValue = "[]"
}

// parseWindow reads --from-block and --to-block into r; fromHint says what
// to give when --from-block is missing.
func (o *traceOptions) parseWindow(r *traceRequest, fromHint string) error {
	if o.fromBlock == "" {
		return usageErr("--from-block is required: %s", fromHint)
	}
	var err error
	if r.from, err = strconv.ParseUint(o.fromBlock, 10, 64); err != nil {
		return usageErr("--from-block %q is not a block number", o.fromBlock)
	}
	if o.toBlock == "latest" || o.toBlock == "" {
		r.toLatest = true
	} else if r.to, err = strconv.ParseUint(o.toBlock, 10, 64); err != nil {
		return usageErr("--to-block %q is not a block number or latest", o.toBlock)
	} else if r.to < r.from {
		return usageErr("--from-block %d is after --to-block %d: swap them", r.from, r.to)
	}
	return nil
}

// parseNode checks the flags that reach the node: --native into r, record
// and replay, the request bounds.
func (o *traceOptions) parseNode(r *traceRequest) error {
	var err error
	if r.native, err = evm.ParseNativeMode(o.native); err != nil {
		return usageErr("--native: %v", err)
	}
	if o.record != "" && o.replay != "" {
		return usageErr("--record and --replay exclude each other: record against a node, replay without one")
	}
	if o.timeout <= 0 || o.maxResponseMB <= 0 {
		return usageErr("--request-timeout and --max-response-mb must be above 0")
	}
	return nil
}

// loadRegistry is the bundled registry (unless noBundled) with the label
// files loaded over it in order.
func loadRegistry(noBundled bool, files []string) (*labels.Registry, error) {
	reg := labels.New()
	if !noBundled {
		var err error
		if reg, err = labels.Bundled(); err != nil {
			return nil, withCode(exitError, err)
		}
	}
	for _, path := range files {
		if err := reg.LoadFile(path); err != nil {
			return nil, usageErr("--labels: %v", err)
		}
	}
	return reg, nil
}

// logger prints progress on stderr unless --quiet.
func (o *traceOptions) logger(stderr io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) {
		if !o.quiet {
			fmt.Fprintf(stderr, format+"\n", args...)
		}
	}
}

// dial connects to the node, or to the recording, for r's chain. save
// writes the recording when --record is set.
func (o *traceOptions) dial(ctx context.Context, r *traceRequest, reg *labels.Registry) (src *evm.Source, save func() error, err error) {
	src, _, save, err = o.dialVia(ctx, r, reg)
	return src, save, err
}

// dialVia is dial that also returns how the node is reached (client nil:
// the network; endpoints the URLs, or the recording's).
func (o *traceOptions) dialVia(ctx context.Context, r *traceRequest, reg *labels.Registry) (src *evm.Source, via chainIO, save func() error, err error) {
	client, endpoints, save, err := o.transport()
	if err != nil {
		return nil, via, nil, err
	}
	via.urls = endpoints
	if client != nil {
		via.transport = client.Transport
	}
	src, err = evm.DialAll(ctx, endpoints, evm.Options{
		Chain: r.chain.Name, HTTPClient: client, RequestsPerSecond: o.rps, MaxConcurrent: o.maxConcurrent,
		BatchSize: o.batchSize, Native: r.native, MaxBlocks: o.maxBlocks,
		RequestTimeout: o.timeout, MaxResponseBytes: o.maxResponseMB << 20,
		WrappedNatives: reg.WrappedNatives(r.chain.Name), // WETH9 and kin: wraps keep their taint
	})
	if err != nil {
		return nil, via, nil, usageErr("--rpc: %v", err)
	}
	return src, via, save, nil
}

// probe identifies the node and resolves r's window against its head.
func (o *traceOptions) probe(ctx context.Context, src *evm.Source, r *traceRequest) (evm.ChainInfo, tracer.BlockRange, error) {
	info, err := o.identify(ctx, src, r)
	if err != nil {
		return info, tracer.BlockRange{}, err
	}
	window, err := o.windowFor(src, r, info)
	return info, window, err
}

// identify asks the node what it is and checks it serves r's chain.
func (o *traceOptions) identify(ctx context.Context, src *evm.Source, r *traceRequest) (evm.ChainInfo, error) {
	info, err := src.Probe(ctx)
	if err != nil {
		if errors.Is(err, tracer.ErrUnsupported) {
			return info, usageErr("%v", err)
		}
		if errors.Is(err, evm.ErrOtherChain) {
			return info, usageErr("%v: give --rpc endpoints of one chain", err)
		}
		return info, withCode(exitError, fmt.Errorf("%v; check that the node is up and --rpc (or ETH_RPC_URL) is right", err))
	}
	genesis := info.GenesisHash
	if o.anyGenesis {
		genesis = ""
	}
	if err := checkChain(r.chain, info.ChainID, genesis); err != nil {
		return info, usageErr("%v", err)
	}
	return info, nil
}

// windowFor resolves r's window against the node's head, refusing a block
// scan above --max-blocks.
func (o *traceOptions) windowFor(src *evm.Source, r *traceRequest, info evm.ChainInfo) (tracer.BlockRange, error) {
	window, err := r.window(info.Head)
	if err != nil {
		return tracer.BlockRange{}, err
	}
	if n := src.ScanBlocks(window); n > o.maxBlocks {
		return tracer.BlockRange{}, usageErr("the window [%d,%d] needs a scan of %d blocks for native transfers (roughly %s at ~20 blocks/s on a full node); "+
			"narrow it with --to-block, raise --max-blocks, or use a node that serves trace_filter",
			window.From, window.To, n, (time.Duration(n/20) * time.Second).String())
	}
	return window, nil
}

// node is a dialed and identified node with the labels and the cache in
// front of it: everything a trace needs before its window. A worker keeps
// one across cases, so the chain is identified once, not per case.
type node struct {
	key    string // what it was opened with (nodeKey)
	src    *evm.Source
	via    chainIO // how src reaches the node (for a block-time clock beside it)
	info   evm.ChainInfo
	reg    *labels.Registry
	store  cache.Store
	traced tracer.Source
	save   func() error
	opened time.Time
	used   bool // a trace ran on it
}

// nodeKey is what a node depends on: two cases with the same key can share one.
func (o *traceOptions) nodeKey(r *traceRequest) string {
	return fmt.Sprint(o.rpcURLs, r.chain.Name, r.native, o.rps, o.maxConcurrent, o.batchSize, o.maxBlocks, o.timeout,
		o.maxResponseMB, o.labelFiles, o.noBundled, r.cache, o.cache.reorgBuffer, o.record, o.replay, o.anyGenesis)
}

// openNode loads the labels, dials and identifies the node and opens the cache.
func (o *traceOptions) openNode(ctx context.Context, r *traceRequest, stderr io.Writer) (*node, error) {
	reg, err := loadRegistry(o.noBundled, o.labelFiles)
	if err != nil {
		return nil, err
	}
	logf := o.logger(stderr)
	for _, c := range reg.Conflicts {
		logf("labels: conflict: %s", c)
	}
	src, via, save, err := o.dialVia(ctx, r, reg)
	if err != nil {
		return nil, err
	}
	src.DecodeEvents() // THORChain router and Tornado events -> bridge and mixer patterns
	if o.linksEVM(r.chain.Name) {
		src.DecodeBridges() // Across and Stargate deposits, paired with their fills on the linked chains
	}
	src.DescribeAhead() // recipients' eth_getCode in the round of the signer lookups
	info, err := o.identify(ctx, src, r)
	if err != nil {
		src.Close()
		return nil, err
	}
	n := &node{key: o.nodeKey(r), src: src, via: via, info: info, reg: reg, save: save, opened: time.Now()}
	n.store = r.cache.open(ctx, stderr)
	n.traced = o.cache.wrap(ctx, n.store, src, info, r.chain.Name, stderr)
	return n, nil
}

// metered is the node's Source for the next trace, counting from now: the
// first trace's stats include identifying the chain, a later one's only
// what it asked itself.
func (n *node) metered() tracer.Source {
	m, ok := n.traced.(tracer.Metered)
	if !n.used || !ok {
		n.used = true
		return n.traced
	}
	return &since{Source: n.traced, base: m.Usage()}
}

func (n *node) close() {
	if n.store != nil {
		n.store.Close()
	}
	n.src.Close()
}

// since is a Source whose usage counts from base.
type since struct {
	tracer.Source
	base tracer.Usage
}

func (s *since) Usage() tracer.Usage { return s.Source.(tracer.Metered).Usage().Sub(s.base) }

func (s *since) Methods() []string {
	if d, ok := s.Source.(tracer.Described); ok {
		return d.Methods()
	}
	return nil
}
