package evm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/tracer"
)

// Probe asks the node, in one batch, for its chain id, head, genesis hash and
// API modules, and settles how native transfers are found (see NativeMode).
// When the modules do not say, it tries a tiny trace_filter and a trace of
// the head block. A node that serves neither yields an error wrapping
// tracer.ErrUnsupported unless native tracing is off.
func (s *Source) Probe(ctx context.Context) (ChainInfo, error) {
	s.probeMu.Lock()
	defer s.probeMu.Unlock()
	if s.info != nil {
		return *s.info, nil
	}
	var (
		chainID hexutil.Big
		head    hexutil.Uint64
		genesis struct {
			Hash common.Hash `json:"hash"`
		}
		modules map[string]string
	)
	elems := []rpc.BatchElem{
		{Method: "eth_chainId", Result: &chainID},
		{Method: "eth_blockNumber", Result: &head},
		{Method: "eth_getBlockByNumber", Args: []any{"0x0", false}, Result: &genesis},
	}
	if s.mode == NativeAuto {
		elems = append(elems, rpc.BatchElem{Method: "rpc_modules", Result: &modules})
	}
	// A null genesis is a node still starting up (or a bad answer): ask again.
	check := func() map[int]error {
		if elems[2].Error == nil && genesis.Hash == (common.Hash{}) {
			return map[int]error{2: errors.New("no genesis block")}
		}
		return nil
	}
	if err := s.c.batchChecked(ctx, s.c.eps[0], elems, check); err != nil {
		return ChainInfo{}, fmt.Errorf("evm: probe %s: %w", s.c.eps[0].host, err)
	}
	for _, e := range elems[:3] {
		if e.Error != nil {
			return ChainInfo{}, fmt.Errorf("evm: probe %s: %s: %w", s.c.eps[0].host, e.Method, mapErr(e.Error))
		}
	}
	info := ChainInfo{ChainID: chainID.ToInt(), GenesisHash: genesis.Hash.Hex(), Head: uint64(head)}
	for _, ep := range s.c.eps[1:] {
		if err := s.sameChain(ctx, ep, info); err != nil {
			return ChainInfo{}, err
		}
	}
	native := s.mode
	if native == NativeAuto {
		switch {
		case elems[3].Error == nil && modules["trace"] != "":
			native = NativeTraceFilter
		case elems[3].Error == nil && modules["debug"] != "":
			native = NativeBlockScan
		default:
			var err error
			if native, err = s.tryNative(ctx, info.Head); err != nil {
				return ChainInfo{}, err
			}
		}
	}
	switch native {
	case NativeTraceFilter:
		info.NativeMethod = MethodTraceFilter
	case NativeBlockScan:
		info.NativeMethod = MethodBlockScan
	}
	s.info, s.native = &info, native
	return info, nil
}

// tryNative calls trace_filter and debug_traceBlockByNumber once each, for
// nodes that do not answer rpc_modules (or hide modules from it).
func (s *Source) tryNative(ctx context.Context, head uint64) (NativeMode, error) {
	var tf, db json.RawMessage
	n := hexutil.Uint64(head).String()
	elems := []rpc.BatchElem{
		{Method: "trace_filter", Args: []any{map[string]any{
			"fromBlock": n, "toBlock": n, "fromAddress": []common.Address{{}},
		}}, Result: &tf},
		{Method: "debug_traceBlockByNumber", Args: []any{n, callTracer}, Result: &db},
	}
	if err := s.c.batch(ctx, elems); err != nil {
		return "", fmt.Errorf("evm: probe %s: %w", s.c.host(), err)
	}
	switch {
	case elems[0].Error == nil:
		return NativeTraceFilter, nil
	case elems[1].Error == nil:
		return NativeBlockScan, nil
	}
	return "", fmt.Errorf("evm: node %s serves neither trace_filter (%v) nor debug_traceBlockByNumber (%v), "+
		"needed for native ETH transfers: use a node that serves trace_filter (Erigon, Reth, Nethermind), "+
		"or geth with --http.api eth,debug, or --native off to trace tokens only: %w",
		s.c.host(), elems[0].Error, elems[1].Error, tracer.ErrUnsupported)
}

// callTracer is the tracer configuration of the block scan.
var callTracer = map[string]any{"tracer": "callTracer"}

// nativeMode is the resolved native mode, probing first when it is auto.
func (s *Source) nativeMode(ctx context.Context) (NativeMode, error) {
	if s.mode != NativeAuto {
		return s.mode, nil
	}
	if _, err := s.Probe(ctx); err != nil {
		return "", err
	}
	s.probeMu.Lock()
	defer s.probeMu.Unlock()
	return s.native, nil
}

// ErrOtherChain is returned by Probe when the endpoints serve different chains.
var ErrOtherChain = errors.New("the RPC endpoints serve different chains")

// sameChain checks that ep serves the chain described by info (chain id and
// genesis hash), in one try: an endpoint that does not answer is left to
// fail over during the trace; one that serves another chain is an error.
func (s *Source) sameChain(ctx context.Context, ep *endpoint, info ChainInfo) error {
	var (
		chainID hexutil.Big
		genesis *struct {
			Hash common.Hash `json:"hash"`
		}
	)
	elems := []rpc.BatchElem{
		{Method: "eth_chainId", Result: &chainID},
		{Method: "eth_getBlockByNumber", Args: []any{"0x0", false}, Result: &genesis},
	}
	c := s.c
	if _, err := c.roundTrip(ctx, ep, elems); err != nil || elems[0].Error != nil || elems[1].Error != nil || genesis == nil {
		return nil
	}
	if chainID.ToInt().Cmp(info.ChainID) != 0 || genesis.Hash.Hex() != info.GenesisHash {
		return fmt.Errorf("%w: %s serves chain id %s, genesis %s; %s serves chain id %s, genesis %s",
			ErrOtherChain, c.eps[0].host, info.ChainID, info.GenesisHash, ep.host, chainID.ToInt(), genesis.Hash.Hex())
	}
	return nil
}
