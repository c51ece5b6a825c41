package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/crosschain"
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/tracer"
)

func init() { chainOpeners[kindEVM] = openEVMLinked }

// openEVMLinked opens an EVM node beside the traced chain, for the bridges
// registered from the traced chain's kind to EVM chains: its chain id and
// genesis are checked against name, its router, mixer and bridge events
// decoded. It keeps
// the traced chain's request limits; its labels are the registry's rows
// for name.
func openEVMLinked(ctx context.Context, o *traceOptions, name string, via chainIO) (*linkedChain, error) {
	spec, _ := lookupChain(name)
	reg, err := loadRegistry(o.noBundled, o.labelFiles)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: via.transport}
	if via.transport == nil {
		client = nil
	}
	src, err := evm.DialAll(ctx, via.urls, evm.Options{
		Chain: spec.Name, HTTPClient: client, RequestsPerSecond: o.rps, MaxConcurrent: o.maxConcurrent,
		BatchSize: o.batchSize, MaxBlocks: o.maxBlocks, RequestTimeout: o.timeout, MaxResponseBytes: o.maxResponseMB << 20,
		WrappedNatives: reg.WrappedNatives(spec.Name),
	})
	if err != nil {
		return nil, usageErr("--rpc %s=URL: %v", name, err)
	}
	src.DecodeEvents()
	src.DecodeBridges() // a trace may cross on from here to a third chain
	info, err := o.identify(ctx, src, &traceRequest{chain: spec})
	if err != nil {
		src.Close()
		return nil, err
	}
	src.CountAsProbe()
	var opts []rpc.ClientOption
	if client != nil {
		opts = append(opts, rpc.WithHTTPClient(client))
	}
	rc, err := rpc.DialOptions(ctx, via.urls[0], opts...)
	if err != nil {
		src.Close()
		return nil, usageErr("--rpc %s=URL: %v", name, err)
	}
	return &linkedChain{
		name: spec.Name, kind: kindEVM, own: src, save: via.save, wrappedNatives: reg.WrappedNatives(spec.Name),
		close: func() { rc.Close(); src.Close() },
		chain: crosschain.Chain{Name: spec.Name, Source: src, Clock: crosschain.EVMClock{C: rc},
			Coin: tracer.Token{Symbol: spec.NativeSymbol, Decimals: spec.NativeDecimals}, Labels: reg},
		node: fmt.Sprintf("%s (chain id %s), native transfers via %s; no hop cache for a linked chain yet", spec.Name, info.ChainID, orNone(info.NativeMethod)),
	}, nil
}
