package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/crosschain"
	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

// linkInput makes in walk over the traced EVM chain and the linked chains:
// one crosschain Source, each chain's labels beside the registry's, each
// chain's window checked against its limits, every recording saved.
// closeClock closes the traced chain's block-time client.
func (o *traceOptions) linkInput(ctx context.Context, req *traceRequest, n *node, in walkInput, linked []*linkedChain) (_ walkInput, closeClock func(), err error) {
	var opts []rpc.ClientOption
	if n.via.transport != nil {
		opts = append(opts, rpc.WithHTTPClient(&http.Client{Transport: n.via.transport}))
	}
	rc, err := rpc.DialOptions(ctx, n.via.urls[0], opts...)
	if err != nil {
		return in, func() {}, usageErr("--rpc: %v", err)
	}
	clock := &countedClock{Clock: crosschain.EVMClock{C: rc}}
	in.src = clocked{in.src, clock}
	cross, err := linkSource(crosschain.Chain{Name: req.chain.Name, Source: in.src, Clock: clock}, kindEVM, linked)
	if err != nil {
		return in, rc.Close, withCode(exitError, err)
	}
	for _, l := range linked {
		if l.maxBlocks == nil {
			continue
		}
		w, err := cross.ChainWindow(ctx, l.chain.Name, in.window)
		if err != nil {
			return in, rc.Close, withCode(exitError, err)
		}
		if err := l.maxBlocks(w); err != nil {
			return in, rc.Close, err
		}
	}
	for _, l := range linked {
		if l.feeSink == "" {
			continue
		}
		if in.feeSink != "" {
			return in, rc.Close, usageErr("--rpc %s=URL: a trace follows the fees of one chain that pays them as transfers; link one Bitcoin chain", l.name)
		}
		in.feeSink = l.feeSink
	}
	save := in.save
	in.save = func() error {
		if err := save(); err != nil {
			return err
		}
		for _, l := range linked {
			if err := l.save(); err != nil {
				return fmt.Errorf("%s: %w", l.name, err)
			}
		}
		return nil
	}
	in.linkedPrimary = in.src
	in.src, in.labels, in.linked, in.cross = cross, cross.Labels(in.labels), linked, cross
	return in, rc.Close, nil
}

// chainRequests names each chain's requests so far ("" for one chain):
// primary is the traced chain's Source.
func chainRequests(name string, primary tracer.Source, linked []*linkedChain) string {
	if len(linked) == 0 {
		return ""
	}
	var parts []string
	add := func(name string, src tracer.Source) {
		if m, ok := src.(tracer.Metered); ok {
			u := m.Usage()
			parts = append(parts, fmt.Sprintf("%s %d in %d round trips", name, u.Requests, u.RoundTrips))
		}
	}
	add(name, primary)
	for _, l := range linked {
		add(l.name, l.chain.Source)
	}
	return "; requests by chain: " + strings.Join(parts, ", ")
}

// linkedMeta adds to meta what a trace over several chains reports: each
// linked chain's window and node, and the bridge summary.
func linkedMeta(ctx context.Context, meta *graph.Meta, in walkInput, tr *tracer.Trace) error {
	if in.cross == nil {
		return nil
	}
	meta.Windows = map[string]tracer.BlockRange{}
	var nodes []string
	for _, l := range in.linked {
		w, err := in.cross.ChainWindow(ctx, l.chain.Name, in.window)
		if err != nil {
			return err
		}
		meta.Windows[l.chain.Name] = w
		nodes = append(nodes, l.name+": "+l.node)
	}
	meta.Node = strings.Join(nodes, "; ")
	for _, b := range crosschain.Summarize(tr) {
		meta.Bridged = append(meta.Bridged, graph.Bridged{Bridge: b.Bridge, From: b.From, To: b.To, Asset: b.Asset, Status: b.Status,
			Deposits: b.Deposits, Stolen: b.Stolen, PaidAsset: b.PaidAsset, Arrived: b.Arrived})
	}
	return nil
}

// countedClock counts the block-time requests of the traced EVM chain (by
// which the other chains' windows are mapped): one request each.
type countedClock struct {
	crosschain.Clock
	times, heads atomic.Int64
}

func (c *countedClock) BlockTime(ctx context.Context, n uint64) (int64, error) {
	c.times.Add(1)
	return c.Clock.BlockTime(ctx, n)
}

func (c *countedClock) Head(ctx context.Context) (uint64, error) {
	c.heads.Add(1)
	return c.Clock.Head(ctx)
}

// clocked is the traced chain's Source with its clock's requests in its
// usage and methods, so that the stats count every request made.
type clocked struct {
	tracer.Source
	clock *countedClock
}

func (c clocked) Usage() tracer.Usage {
	var u tracer.Usage
	if m, ok := c.Source.(tracer.Metered); ok {
		u = m.Usage()
	}
	n := c.clock.times.Load() + c.clock.heads.Load()
	u.Requests += n
	u.RoundTrips += n
	return u
}

func (c clocked) Methods() []string {
	var out []string
	if d, ok := c.Source.(tracer.Described); ok {
		out = d.Methods()
	}
	if c.clock.times.Load() > 0 {
		out = append(out, "eth_getBlockByNumber")
	}
	if c.clock.heads.Load() > 0 {
		out = append(out, "eth_blockNumber")
	}
	return out
}
