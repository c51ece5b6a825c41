package evm

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
	"golang.org/x/sync/errgroup"

	"github.com/flowtrace/flowtrace/tracer"
)

// NativeMode says how native and internal ETH transfers are found.
type NativeMode string

// Native modes.
const (
	NativeAuto        NativeMode = "auto"         // probe: trace_filter if served, else the block scan
	NativeTraceFilter NativeMode = "trace_filter" // trace_filter (Erigon, Reth, Nethermind, providers)
	NativeBlockScan   NativeMode = "blockscan"    // debug_traceBlockByNumber with the callTracer
	NativeOff         NativeMode = "off"          // tokens only
)

// ParseNativeMode reads a NativeMode from its name ("" means auto).
func ParseNativeMode(s string) (NativeMode, error) {
	switch m := NativeMode(s); m {
	case "":
		return NativeAuto, nil
	case NativeAuto, NativeTraceFilter, NativeBlockScan, NativeOff:
		return m, nil
	}
	return "", fmt.Errorf("evm: unknown native mode %q (want auto, trace_filter, blockscan or off)", s)
}

// Options configure a Source. The zero value is usable.
type Options struct {
	// Chain is the name put on transfers; default "ethereum".
	Chain string
	// HTTPClient is the transport (record / replay); default a plain client.
	HTTPClient *http.Client
	// RequestsPerSecond caps JSON-RPC requests (batch elements) per second
	// to the endpoint; 0 = unlimited.
	RequestsPerSecond float64
	// MaxConcurrent caps HTTP round trips in flight; default 4.
	MaxConcurrent int
	// BatchSize is the JSON-RPC batch elements per round trip; default 100.
	BatchSize int
	// LookupBatchSize is BatchSize for batches of cheap lookups
	// (eth_getCode, eth_getTransactionByHash); default 10 x BatchSize, at
	// most 1000. Both are halved for the Source's life when a node refuses
	// a batch.
	LookupBatchSize int
	// AddressesPerQuery is the size of the address OR-list of one
	// eth_getLogs or trace_filter request; default 1000.
	AddressesPerQuery int
	// WrappedNatives are the chain's WETH9-like contracts, whose Deposit and
	// Withdrawal events are read as token transfers (wrap.go).
	WrappedNatives []tracer.Address
	// Native selects how native transfers are found; default NativeAuto.
	Native NativeMode
	// MaxBlocks is the most blocks one query may scan; default 100000.
	MaxBlocks uint64
	// RequestTimeout caps one HTTP round trip; default 2 minutes.
	RequestTimeout time.Duration
	// MaxResponseBytes caps the body of one answer; default 64 MiB. A
	// larger answer to a range query makes it split; to a batch, smaller
	// batches.
	MaxResponseBytes int64
}

// ErrTooManyBlocks is returned when a query would scan more than
// Options.MaxBlocks blocks.
var ErrTooManyBlocks = errors.New("evm: block scan larger than the limit")

// Method names ChainInfo.NativeMethod takes.
const (
	MethodTraceFilter = "trace_filter"
	MethodBlockScan   = "debug_traceBlockByNumber"
)

// ChainInfo is what Probe learned about the node.
type ChainInfo struct {
	ChainID     *big.Int
	GenesisHash string
	Head        uint64
	// NativeMethod is MethodTraceFilter, MethodBlockScan, or "" when native
	// transfers are not traced.
	NativeMethod string
}

// Source is a tracer.Source over an EVM node's JSON-RPC endpoint.
type Source struct {
	c                 *caller
	chain             string
	addressesPerQuery int
	maxBlocks         uint64
	mode              NativeMode
	limits            limits

	probeMu sync.Mutex
	info    *ChainInfo
	native  NativeMode // resolved mode: never NativeAuto once probed

	mu      sync.Mutex
	blocks  map[uint64]*blockEntry // block scan results, kept for the Source's life
	txFrom  map[common.Hash]common.Address
	scanned int64
	accts   map[common.Address]tracer.Account
	tokens  map[common.Address]*tracer.Token // nil value: no metadata

	blockStore    BlockStore       // see UseBlockStore; nil: none (guarded by mu)
	probeRequests atomic.Int64     // see CountAsProbe
	wrapped       []common.Address // see Options.WrappedNatives
	events        bool             // see DecodeEvents
	bridgeEvents  bool             // see DecodeBridges
	ahead         bool             // see DescribeAhead
}

var (
	_ tracer.Source    = (*Source)(nil)
	_ tracer.Metered   = (*Source)(nil)
	_ tracer.Described = (*Source)(nil)
)

// Dial prepares a Source for the node at rawURL (http, https, ws or wss). It
// does not contact the node; Probe does. Errors name only the URL's host.
func Dial(ctx context.Context, rawURL string, opts Options) (*Source, error) {
	return DialAll(ctx, []string{rawURL}, opts)
}

// DialAll prepares a Source over several endpoints of the same chain: round
// trips are spread over them, and a failing one is left aside for a while
// and its round trips retried on the others. Rate and concurrency caps apply
// per endpoint. Probe checks that they all serve the same chain.
func DialAll(ctx context.Context, rawURLs []string, opts Options) (*Source, error) {
	if len(rawURLs) == 0 {
		return nil, errors.New("evm: no RPC URL")
	}
	mode, err := ParseNativeMode(string(opts.Native))
	if err != nil {
		return nil, err
	}
	hc := &http.Client{}
	if opts.HTTPClient != nil {
		copied := *opts.HTTPClient
		hc = &copied
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	maxBytes := opts.MaxResponseBytes
	if maxBytes == 0 {
		maxBytes = 64 << 20
	}
	hc.Transport = checkTransport{base: base, maxBytes: maxBytes}
	c := &caller{
		timeout:     opts.RequestTimeout,
		attempts:    6,
		backoffBase: 250 * time.Millisecond,
		backoffMax:  8 * time.Second,
		methods:     map[string]bool{},
	}
	if c.timeout == 0 {
		c.timeout = 2 * time.Minute
	}
	c.batchSize.Store(int64(orDefault(opts.BatchSize, 100)))
	c.lookupSize.Store(int64(orDefault(opts.LookupBatchSize, min(10*int(c.batchSize.Load()), max(1000, int(c.batchSize.Load()))))))
	for _, raw := range rawURLs {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, errors.New("evm: cannot parse the RPC URL")
		}
		c.secrets = append(c.secrets, urlSecrets(u)...)
		host := u.Scheme + "://" + u.Host
		switch u.Scheme {
		case "http", "https", "ws", "wss":
		default:
			return nil, fmt.Errorf("evm: RPC URL %s: unsupported scheme (want http, https, ws or wss)", host)
		}
		ep := &endpoint{host: host, sem: make(chan struct{}, orDefault(opts.MaxConcurrent, 4))}
		if opts.RequestsPerSecond > 0 {
			ep.limiter = newLimiter(opts.RequestsPerSecond)
		}
		if ep.rpc, err = rpc.DialOptions(ctx, raw, rpc.WithHTTPClient(hc)); err != nil {
			for _, e := range c.eps {
				e.rpc.Close()
			}
			return nil, fmt.Errorf("evm: dial %s: %w", host, c.redact(ep, err))
		}
		c.eps = append(c.eps, ep)
	}
	slices.SortFunc(c.secrets, func(a, b string) int { return len(b) - len(a) }) // longest first
	s := &Source{
		c:                 c,
		chain:             opts.Chain,
		addressesPerQuery: orDefault(opts.AddressesPerQuery, 1000),
		maxBlocks:         opts.MaxBlocks,
		mode:              mode,
		blocks:            map[uint64]*blockEntry{},
		txFrom:            map[common.Hash]common.Address{},
		accts:             map[common.Address]tracer.Account{},
		tokens:            map[common.Address]*tracer.Token{},
	}
	if s.chain == "" {
		s.chain = "ethereum"
	}
	for _, a := range opts.WrappedNatives {
		if !common.IsHexAddress(string(a)) {
			return nil, fmt.Errorf("evm: wrapped native %q is not an EVM address", a)
		}
		s.wrapped = append(s.wrapped, common.HexToAddress(string(a)))
	}
	if s.maxBlocks == 0 {
		s.maxBlocks = 100_000
	}
	return s, nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Close releases the connections.
func (s *Source) Close() {
	for _, ep := range s.c.eps {
		ep.rpc.Close()
	}
}

// Usage counts the requests and round trips sent and the blocks scanned.
func (s *Source) Usage() tracer.Usage {
	s.mu.Lock()
	scanned := s.scanned
	s.mu.Unlock()
	return tracer.Usage{
		Requests:      s.c.requests.Load(),
		RoundTrips:    s.c.roundTrips.Load(),
		BlocksScanned: scanned,
		ProbeRequests: s.probeRequests.Load(),
	}
}

// Forget drops what the Source remembers of the traces it served: scanned
// blocks, transaction signers, account kinds and token metadata. A
// long-lived Source (a worker's, across cases) calls it between traces, so
// that its memory does not grow with the number of cases; the hop cache,
// not the Source, keeps answers across traces. Not during a trace.
func (s *Source) Forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocks = map[uint64]*blockEntry{}
	s.txFrom = map[common.Hash]common.Address{}
	s.accts = map[common.Address]tracer.Account{}
	s.tokens = map[common.Address]*tracer.Token{}
}

// Remembered counts the entries the Source keeps from the traces it served
// (blocks, signers, accounts, tokens): what Forget drops.
func (s *Source) Remembered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.blocks) + len(s.txFrom) + len(s.accts) + len(s.tokens)
}

// Methods names the JSON-RPC methods used so far, sorted.
func (s *Source) Methods() []string { return s.c.usedMethods() }

// Transfers returns the transfers sent (Outgoing) or received (Incoming) by
// q.Addresses in q.Window: token Transfer events from eth_getLogs, and native
// and internal ETH by the probed native method. TxFrom is set on non-zero
// token transfers, top-level transfers and, with the block scan, internal
// ones (trace_filter does not name the signer of internal traces).
func (s *Source) Transfers(ctx context.Context, q tracer.TransferQuery) ([]tracer.Transfer, error) {
	if q.Window.To < q.Window.From {
		return nil, fmt.Errorf("evm: empty window [%d,%d]", q.Window.From, q.Window.To)
	}
	addrs, err := parseAddresses(q.Addresses)
	if err != nil || len(addrs) == 0 {
		return nil, err
	}
	native, err := s.nativeMode(ctx)
	if err != nil {
		return nil, err
	}
	var tokens, wraps, natives []tracer.Transfer
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		tokens, err = s.tokenTransfers(gctx, q.Direction, addrs, q.Window)
		return err
	})
	g.Go(func() (err error) {
		wraps, err = s.wrapTransfers(gctx, q.Direction, addrs, q.Window)
		return err
	})
	g.Go(func() (err error) {
		switch native {
		case NativeTraceFilter:
			natives, err = s.traceFilter(gctx, q.Direction, addrs, q.Window)
		case NativeBlockScan:
			natives, err = s.scanTransfers(gctx, q.Direction, addrs, q.Window)
		}
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := append(append(natives, tokens...), wraps...)
	// What follows depends only on the transfers: one round together.
	var logs []types.Log
	g, gctx = errgroup.WithContext(ctx)
	g.Go(func() error { return s.fillTxFrom(gctx, out) })
	if q.Direction == tracer.Outgoing && (s.events || s.bridgeEvents) { // router, mixer and bridge events (annotate.go)
		g.Go(func() (err error) {
			logs, err = s.eventLogs(gctx, out, q.Window)
			return err
		})
	}
	if q.Direction == tracer.Outgoing && s.ahead {
		g.Go(func() error {
			s.prefetchRecipients(gctx, out, addrs)
			return nil
		})
	}
	if s.ahead { // tokens first met in this hop, judged by the walk right after
		g.Go(func() error {
			s.prefetchTokens(gctx, out)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	annotateFromLogs(out, logs)
	return out, nil
}

// DescribeAhead makes Transfers of outgoing transfers also describe their
// recipients (eth_getCode, see Describe) in the round of the signer lookups,
// so that a hop costs two dependent rounds rather than three; and the tokens
// any transfers move (eth_call), so that a token first met mid-trace is
// described in the hop that finds it.
// Recipients the caller does not keep cost requests for nothing. Call it
// before tracing.
func (s *Source) DescribeAhead() { s.ahead = true }

// prefetchTokens describes the tokens that ts move and that are not
// described yet (see prefetchRecipients).
func (s *Source) prefetchTokens(ctx context.Context, ts []tracer.Transfer) {
	var toks []tracer.Address
	seen := map[tracer.Asset]bool{}
	s.mu.Lock()
	for i := range ts {
		t := &ts[i] // no copy: fillTxFrom sets TxFrom meanwhile
		if seen[t.Asset] || t.Asset == tracer.NativeAsset || !common.IsHexAddress(string(t.Asset)) {
			continue
		}
		seen[t.Asset] = true
		if _, ok := s.tokens[common.HexToAddress(string(t.Asset))]; !ok {
			toks = append(toks, tracer.Address(t.Asset))
		}
	}
	s.mu.Unlock()
	_, _ = s.Describe(ctx, nil, toks)
}

// prefetchRecipients describes the recipients of the non-zero transfers in
// ts that are not described yet, other than the senders asked about
// (sorted), so that the Describe of the new counterparties that follows a
// hop finds them known instead of costing one more dependent round. A
// failure is left for that Describe to meet.
func (s *Source) prefetchRecipients(ctx context.Context, ts []tracer.Transfer, senders []common.Address) {
	var recips []tracer.Address
	seen := map[tracer.Address]bool{}
	s.mu.Lock()
	for i := range ts {
		t := &ts[i] // no copy: fillTxFrom sets TxFrom meanwhile
		if seen[t.To] || t.Amount == nil || t.Amount.Sign() == 0 || !common.IsHexAddress(string(t.To)) {
			continue
		}
		seen[t.To] = true
		a := common.HexToAddress(string(t.To))
		if _, ok := s.accts[a]; !ok {
			if _, sender := slices.BinarySearchFunc(senders, a, common.Address.Cmp); !sender {
				recips = append(recips, t.To)
			}
		}
	}
	s.mu.Unlock()
	_, _ = s.Describe(ctx, recips, nil)
}

func parseAddresses(in []tracer.Address) ([]common.Address, error) {
	seen := map[common.Address]bool{}
	var out []common.Address
	for _, a := range in {
		if !common.IsHexAddress(string(a)) {
			return nil, fmt.Errorf("evm: %q is not an EVM address", a)
		}
		ca := common.HexToAddress(string(a))
		if !seen[ca] {
			seen[ca] = true
			out = append(out, ca)
		}
	}
	slices.SortFunc(out, func(a, b common.Address) int { return a.Cmp(b) })
	return out, nil
}

// chunks splits addrs into OR-lists of at most n entries.
func chunks[T any](addrs []T, n int) [][]T {
	var out [][]T
	for i := 0; i < len(addrs); i += n {
		out = append(out, addrs[i:min(i+n, len(addrs))])
	}
	return out
}
