package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/flowtrace/flowtrace/cache"
	"github.com/flowtrace/flowtrace/chains/bitcoin"
	"github.com/flowtrace/flowtrace/chains/crosschain"
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/chains/rpcreplay"
	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

// traceOptions are the flags of `flowtrace trace`.
type traceOptions struct {
	rpcURLs   []string
	rpcFlag   *pflag.Flag // --rpc, to tell a given value from the default
	chain     string
	seeds     []string
	theftTxs  []string
	incident  string
	fromBlock string
	toBlock   string

	depth           int
	expand          []string
	minValue        string
	taint           string
	maxAddresses    int
	maxRequests     int64
	maxBlocks       uint64
	timeout         time.Duration
	maxResponseMB   int64
	anyGenesis      bool // --skip-genesis-check
	stopAtContracts bool
	labelFiles      []string
	noBundled       bool

	native        string
	rps           float64
	maxConcurrent int
	batchSize     int
	record        string // the traced chain's file
	replay        string
	recordFiles   *chainFiles // --record: the traced chain's in record, the others' by chain
	replayFiles   *chainFiles

	out      string
	caseName string
	full     bool
	render   time.Duration
	quiet    bool
	cache    cacheFlags
	// crossChain lets --rpc CHAIN=URL name nodes of other chains than the
	// traced one: the trace goes on on them through bridges (trace only).
	crossChain bool
	// linkedFiles are the other chains' --record and --replay files, by chain (resolveFiles).
	linkedFiles [2]map[string]string
}

// traceGroups orders the flag groups of `flowtrace trace --help`.
var traceGroups = []string{"What to trace", "Where to stop", "Node", "Record and replay", "Cache", "Output"}

func newTraceCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &traceOptions{crossChain: true}
	cmd := &cobra.Command{
		Use:   "trace --seed ADDR[,ADDR] --from-block N [flags]",
		Short: "Trace stolen value forward from seed addresses",
		Example: "  # trace a theft from its exploiter address, block 21895000 on\n" +
			"  export ETH_RPC_URL=https://node.example   # keep the key out of your shell history\n" +
			"  flowtrace trace --seed 0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2 --from-block 21895000 --out out/bybit\n\n" +
			"  # a case as one file (name, chain, seeds, theft_txs, window, labels)\n" +
			"  flowtrace trace --incident fixtures/dev-theft/incident.yaml --replay fixtures/dev-theft/rpc.replay --out out/demo\n\n" +
			"  # follow THORChain swaps from Ethereum into Bitcoin: a node of each chain\n" +
			"  flowtrace trace --rpc $ETH_RPC_URL --rpc bitcoin=$BTC_RPC_URL --seed 0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2 --from-block 21895000 --out out/bybit\n\n" +
			"  # replay a recorded trace with no network\n" +
			"  flowtrace trace --replay fixtures/scenario/rpc.replay $(cat fixtures/scenario/args) --out out/demo",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.applyIncident(cmd.Flags()); err != nil {
				return err
			}
			return runTrace(cmd.Context(), o, stdout, stderr)
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&o.incident, "incident", "", "incident FILE (YAML: name, chain, seeds, theft_txs, window, labels, depth, min_value): the case as one file; flags override it")
	group(cmd, "What to trace", "incident")
	cmd.SetUsageFunc(groupedUsage(traceGroups))
	return cmd
}

// register adds the trace flags to cmd; batch and worker take them too, as
// the defaults of every case.
func (o *traceOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&o.seeds, "seed", nil, "seed addresses of the theft (comma-separated or repeated)")
	f.StringSliceVar(&o.theftTxs, "theft-tx", nil, "hashes of the theft's transactions: the stolen value is exactly what they moved to the seeds (comma-separated or repeated)")
	f.StringVar(&o.chain, "chain", "ethereum", "chain: "+chainNames()+"; Bitcoin (trace only): "+bitcoinChainNames())
	f.StringVar(&o.fromBlock, "from-block", "", "first block of the window: at or before the theft (required)")
	f.StringVar(&o.toBlock, "to-block", "latest", "last block of the window: a number or latest")
	f.StringVar(&o.minValue, "min-value", "0.1%", "smallest tainted amount followed: whole units (0.5) or a share of the stolen amount (0.1%)")
	f.StringVar(&o.taint, "taint", "poison", "taint model: poison (stolen value leaves first), haircut (each outflow carries the sender's stolen share), fifo (first in, first out), or all (poison, with the other two side by side)")
	f.StringArrayVar(&o.labelFiles, "labels", nil, "label file: CSV chain,address,label,category,source or TagPack .yaml; repeatable, later files win over earlier ones and the bundled registry")
	f.BoolVar(&o.noBundled, "no-bundled-labels", false, "do not load the bundled registry of known Ethereum entities")
	group(cmd, "What to trace", "seed", "theft-tx", "chain", "from-block", "to-block", "min-value", "taint", "labels", "no-bundled-labels")

	f.IntVar(&o.depth, "depth", 10, "hops to follow from the seeds")
	f.IntVar(&o.maxAddresses, "max-addresses", 10000, "stop after this many addresses (0 = no limit)")
	f.Int64Var(&o.maxRequests, "max-rpc-requests", 0, "stop after this many JSON-RPC requests (0 = no limit)")
	f.Uint64Var(&o.maxBlocks, "max-blocks", 100000, "refuse to scan more blocks than this for native transfers")
	f.BoolVar(&o.stopAtContracts, "stop-at-contracts", false, "treat unlabelled contracts as endpoints instead of following them")
	f.StringSliceVar(&o.expand, "expand", nil, "addresses followed one hop past --depth (what flowtrace serve's \"expand one hop\" adds)")
	group(cmd, "Where to stop", "depth", "expand", "max-addresses", "max-rpc-requests", "max-blocks", "stop-at-contracts")

	o.registerNode(cmd)

	f.StringVarP(&o.out, "out", "o", "out/trace", "output directory")
	f.StringVar(&o.caseName, "case", "", "case name written in the outputs (default: the first seed)")
	f.BoolVar(&o.full, "full", false, "draw every address: do not collapse wide fan-outs in graph.dot")
	f.DurationVar(&o.render, "render-timeout", graph.DefaultRenderTimeout, "bound on writing the outputs: graph.svg, written last, is left out if not laid out by then (0: leave it out)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress on stderr")
	group(cmd, "Output", "out", "case", "full", "render-timeout", "quiet")

	o.cache.register(cmd)
}

// traceRequest is the validated input of a trace.
type traceRequest struct {
	chain     chainSpec
	seeds     []tracer.Address
	theftTxs  []string // lower-case 0x + 64 hex
	from      uint64
	to        uint64 // 0 with toLatest
	toLatest  bool
	threshold tracer.Threshold
	taint     tracer.TaintModel
	compare   []tracer.TaintModel // the other models, for --taint all
	expand    []tracer.Address
	native    evm.NativeMode
	cache     cacheSpec
	rpc       []string // the traced chain's endpoints (nodeURLs)
}

// validate checks every flag of an EVM trace that can be checked without
// the node.
func (o *traceOptions) validate() (*traceRequest, error) {
	r := &traceRequest{}
	var ok bool
	if r.chain, ok = lookupChain(o.chain); !ok {
		if _, btc := lookupBitcoin(o.chain); btc {
			return nil, usageErr("--chain %s: Bitcoin is traced by flowtrace trace (and serve) only for now, not by batch or worker", o.chain)
		}
		return nil, usageErr("unknown --chain %q: want one of %s; Bitcoin: %s", o.chain, chainNames(), bitcoinChainNames())
	}
	if err := o.parseSeeds(r, evmSeed); err != nil {
		return nil, err
	}
	if err := o.parseTheftTxs(r, txHash, "0x and 64 hex digits"); err != nil {
		return nil, err
	}
	return r, o.validateCommon(r)
}

// evmSeed reads an EVM --seed or --expand, naming a Bitcoin address as such.
func evmSeed(s string) (tracer.Address, error) {
	if bitcoin.LooksLikeAddress(s) {
		return "", fmt.Errorf("%q is a Bitcoin address: pass --chain bitcoin (or its network's: %s)", s, strings.TrimPrefix(bitcoinChainNames(), "bitcoin, "))
	}
	return parseAddress(s)
}

// parseSeeds reads --seed and --expand with parse, the chain's address check.
func (o *traceOptions) parseSeeds(r *traceRequest, parse func(string) (tracer.Address, error)) error {
	if len(o.seeds) == 0 {
		return usageErr("no seed addresses: give --seed ADDR (the thief's addresses; comma-separated for several)")
	}
	for _, s := range o.seeds {
		a, err := parse(s)
		if err != nil {
			return usageErr("--seed: %v", err)
		}
		r.seeds = append(r.seeds, a)
	}
	for _, s := range o.expand {
		a, err := parse(s)
		if err != nil {
			return usageErr("--expand: %v", err)
		}
		r.expand = append(r.expand, a)
	}
	return nil
}

// parseTheftTxs reads --theft-tx: hashes matching the chain's form.
func (o *traceOptions) parseTheftTxs(r *traceRequest, form *regexp.Regexp, want string) error {
	for _, h := range o.theftTxs {
		if !form.MatchString(h) {
			return usageErr("--theft-tx %q is not a transaction hash: want %s, comma-separated for several", h, want)
		}
		r.theftTxs = append(r.theftTxs, strings.ToLower(h))
	}
	return nil
}

// validateCommon checks the flags every chain's trace takes alike.
func (o *traceOptions) validateCommon(r *traceRequest) error {
	if err := o.parseWindow(r, "give the block of the theft, or one just before it"); err != nil {
		return err
	}
	var err error
	if r.taint, r.compare, err = parseTaint(o.taint); err != nil {
		return usageErr("--taint: %v", err)
	}
	if r.threshold, err = tracer.ParseThreshold(o.minValue); err != nil {
		return usageErr("--min-value: %v", err)
	}
	if err := o.parseNode(r); err != nil {
		return err
	}
	if o.depth < 1 {
		return usageErr("--depth %d: follow at least 1 hop", o.depth)
	}
	if o.render < 0 {
		return usageErr("--render-timeout %s: give a duration like 8s, or 0 to leave graph.svg out", o.render)
	}
	if r.cache, err = o.cache.resolve(o.record != "", o.replay != ""); err != nil {
		return err
	}
	if o.out == "" {
		return usageErr("--out must name a directory")
	}
	if r.rpc, err = o.nodeURLs(); err != nil {
		return err
	}
	return nil
}

// checkNode refuses to start with no node to ask.
func (o *traceOptions) checkNode() error {
	urls, err := o.nodeURLs()
	if err != nil {
		return err
	}
	if o.replay == "" && len(urls) == 0 {
		env := evmRPCEnv
		if _, btc := lookupBitcoin(o.chain); btc {
			env = bitcoinRPCEnv
		}
		return usageErr("no node: give --rpc URL or set %s (or --replay FILE to use a recording)", env)
	}
	return nil
}

func runTrace(ctx context.Context, o *traceOptions, stdout, stderr io.Writer) error {
	if err := o.resolveFiles(); err != nil {
		return err
	}
	traced, _ := chainName(o.chain)
	if _, err := o.linkedURLs(traced); err != nil {
		return err
	}
	if net, ok := lookupBitcoin(o.chain); ok {
		return o.traceBitcoin(ctx, net, stdout, stderr)
	}
	req, err := o.validate()
	if err != nil {
		return err
	}
	if err := o.checkNode(); err != nil {
		return err
	}
	n, err := o.openNode(ctx, req, stderr)
	if err != nil {
		return err
	}
	defer n.close()
	return o.traceOn(ctx, req, n, stdout, stderr)
}

// traceOn traces req on an open EVM node and writes the outputs; with
// nodes of other chains (--rpc CHAIN=URL), over them too.
func (o *traceOptions) traceOn(ctx context.Context, req *traceRequest, n *node, stdout, stderr io.Writer) error {
	logf := o.logger(stderr)
	window, err := o.windowFor(n.src, req, n.info)
	if err != nil {
		return err
	}
	logf("flowtrace: chain %s (id %s), head %d, window [%d,%d], native transfers via %s",
		req.chain.Name, n.info.ChainID, n.info.Head, window.From, window.To, orNone(n.info.NativeMethod))
	in := walkInput{src: n.metered(), window: window, labels: n.reg, tokens: n.reg, save: n.save, store: n.store}
	linked, err := o.openLinked(ctx, req.chain.Name, logf)
	if err != nil {
		return err
	}
	if len(linked) == 0 {
		return o.walkAndWrite(ctx, req, in, stdout, stderr)
	}
	defer func() {
		for _, l := range linked {
			l.close()
		}
	}()
	in, closeClock, err := o.linkInput(ctx, req, n, in, linked)
	defer closeClock()
	if err != nil {
		return err
	}
	return o.walkAndWrite(ctx, req, in, stdout, stderr)
}

// walkInput is what a trace walks, whatever the chain.
type walkInput struct {
	src    tracer.Source
	window tracer.BlockRange
	labels tracer.Labeler
	tokens *labels.Registry
	save   func() error // writes the recording (--record)
	store  cache.Store  // nil: no hop cache
	// node says how the node was asked and why, for the report ("" for none).
	node string
	// feeSink is where the chain pays fees as transfers ("" for none).
	feeSink tracer.Address
	// linked are the other chains of a trace over several (nil for one);
	// cross is the Source over them all.
	linked        []*linkedChain
	cross         *crosschain.Source
	linkedPrimary tracer.Source // the traced chain's own Source under cross
}

// walkAndWrite walks req over in's Source and writes the outputs: the part
// of a trace every chain shares.
func (o *traceOptions) walkAndWrite(ctx context.Context, req *traceRequest, in walkInput, stdout, stderr io.Writer) error {
	logf := o.logger(stderr)
	window, store, reg := in.window, in.store, in.tokens
	primary := in.src
	if in.cross != nil {
		primary = in.linkedPrimary
	}
	trace, err := tracer.Walk(ctx, in.src, tracer.Options{
		Chain: req.chain.Name, Seeds: req.seeds, Window: window, MaxDepth: o.depth, Expand: req.expand, MinValue: req.threshold,
		MaxAddresses: o.maxAddresses, MaxRequests: o.maxRequests, StopAtContracts: o.stopAtContracts,
		Taint: req.taint, CompareTaint: req.compare, Native: tracer.Token{Symbol: req.chain.NativeSymbol, Decimals: req.chain.NativeDecimals}, FeeSink: in.feeSink,
		TheftTxs: req.theftTxs, Labels: in.labels, Tokens: reg, Progress: func(l tracer.LevelStats) {
			logf("level %d: %d addresses in [%d,%d] -> %d transfers, %d new addresses; %d requests in %d round trips, %d blocks scanned (%s)%s",
				l.Level, l.Frontier, l.Window.From, l.Window.To, l.Transfers, l.NewAddresses,
				l.Usage.Requests, l.Usage.RoundTrips, l.Usage.BlocksScanned, l.Elapsed.Round(time.Millisecond), chainRequests(req.chain.Name, primary, in.linked))
		},
	})
	if err != nil {
		if errors.Is(err, tracer.ErrNoStolenValue) {
			return usageErr("%v: check --seed and start --from-block at or before the theft", err)
		}
		if ctx.Err() != nil {
			return withCode(exitInterrupted, errors.New("interrupted before anything was traced"))
		}
		return withCode(exitError, err)
	}
	if err := in.save(); err != nil {
		return withCode(exitError, err)
	}
	meta := graph.Meta{Case: o.caseOrSeed(req), Params: o.params(req, window), Tokens: reg, Node: in.node}
	if err := linkedMeta(ctx, &meta, in, trace); err != nil {
		return withCode(exitError, err)
	}
	files, err := writeOutputs(context.WithoutCancel(ctx), o.out, trace, meta, graph.DOTOptions{Full: o.full}, o.render, logf)
	if err != nil {
		return withCode(exitError, err)
	}
	fmt.Fprintf(stdout, "%s\n", strings.Join(files, "\n"))
	logf("flowtrace: %d addresses, %d transfers, %d requests in %d round trips, %d blocks scanned, %s: %s%s",
		len(trace.Nodes), len(trace.Transfers), trace.Stats.Requests, trace.Stats.RoundTrips, trace.Stats.BlocksScanned,
		trace.Stats.Elapsed.Round(time.Millisecond), stopText(trace.Stats), chainRequests(req.chain.Name, primary, in.linked))
	logf("flowtrace: %s", cacheStatsLine(store, trace.Stats.Usage))
	if trace.Stats.StopReason == tracer.StopHopFailed {
		// Said even with --quiet: the outputs are partial.
		return withCode(exitIncomplete, fmt.Errorf("trace incomplete: %s\n  the outputs hold what was traced; addresses marked \"hop failed\" were not followed: "+
			"run again later, or add a fallback with another --rpc", stopText(trace.Stats)))
	}
	return exitFor(trace.Stats.StopReason)
}

// transport builds the HTTP client for the node, or for a recording.
// save writes the recording when --record is set; otherwise it does nothing.
func (o *traceOptions) transport() (client *http.Client, endpoints []string, save func() error, err error) {
	save = func() error { return nil }
	if o.replay != "" {
		rp, err := rpcreplay.LoadReplayer(o.replay)
		if err != nil {
			return nil, nil, nil, usageErr("--replay: %v", err)
		}
		return &http.Client{Transport: rp}, []string{"http://replay.invalid/"}, save, nil
	}
	urls, err := o.nodeURLs()
	if err != nil {
		return nil, nil, nil, err
	}
	if o.record != "" {
		rec := rpcreplay.NewRecorder(http.DefaultTransport)
		save = func() error { return rec.Save(o.record) }
		return &http.Client{Transport: rec}, urls, save, nil
	}
	return nil, urls, save, nil
}

// envURLs is the default of --rpc: $ETH_RPC_URL, if set.
func envURLs() []string { return envURL(evmRPCEnv) }

// window resolves the block window against the node's head.
func (r *traceRequest) window(head uint64) (tracer.BlockRange, error) {
	to := r.to
	if r.toLatest {
		to = head
	}
	if to > head {
		return tracer.BlockRange{}, usageErr("--to-block %d is past the node's head %d: lower it or use latest", to, head)
	}
	if r.from > to {
		return tracer.BlockRange{}, usageErr("--from-block %d is after the last block %d of the window", r.from, to)
	}
	return tracer.BlockRange{From: r.from, To: to}, nil
}

func (o *traceOptions) caseOrSeed(r *traceRequest) string {
	if o.caseName != "" {
		return o.caseName
	}
	return string(r.seeds[0])
}

// params are the trace's parameters as written in graph.json: never the RPC URL.
func (o *traceOptions) params(r *traceRequest, w tracer.BlockRange) map[string]string {
	var seeds []string
	for _, s := range r.seeds {
		seeds = append(seeds, string(s))
	}
	p := map[string]string{
		"chain": r.chain.Name, "seeds": strings.Join(seeds, ","),
		"from_block": strconv.FormatUint(w.From, 10), "to_block": strconv.FormatUint(w.To, 10),
		"depth": strconv.Itoa(o.depth), "min_value": o.minValue, "max_addresses": strconv.Itoa(o.maxAddresses),
		"stop_at_contracts": strconv.FormatBool(o.stopAtContracts), "taint": cmp.Or(o.taint, "poison"),
	}
	if o.anyGenesis {
		p["skip_genesis_check"] = "true"
	}
	if len(r.theftTxs) > 0 {
		p["theft_txs"] = strings.Join(r.theftTxs, ",")
	}
	if len(r.expand) > 0 {
		var ex []string
		for _, a := range r.expand {
			ex = append(ex, string(a))
		}
		p["expand"] = strings.Join(ex, ",")
	}
	return p
}

// txHash is a transaction hash as --theft-tx takes it.
var txHash = regexp.MustCompile(`^0x[0-9a-fA-F]{64}$`)

// parseTaint reads --taint: one model, or all (poison for the walk, the
// others compared on the same trace).
func parseTaint(s string) (tracer.TaintModel, []tracer.TaintModel, error) {
	if s == "all" {
		all := tracer.TaintModels()
		return all[0], all[1:], nil
	}
	m, err := tracer.ParseTaint(cmp.Or(s, "poison"))
	return m, nil, err
}

// exitFor maps how a trace stopped to the exit code.
func exitFor(r tracer.StopReason) error {
	switch r {
	case tracer.StopComplete:
		return nil
	case tracer.StopInterrupted:
		return withCode(exitInterrupted, errSilent)
	}
	return withCode(exitIncomplete, errSilent)
}

func stopText(s tracer.Stats) string {
	if s.StopDetail == "" {
		return string(s.StopReason)
	}
	return string(s.StopReason) + " (" + s.StopDetail + ")"
}

func orNone(s string) string {
	if s == "" {
		return "none (tokens only)"
	}
	return s
}
