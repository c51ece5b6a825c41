package evm

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/flowtrace/flowtrace/chains/rpcfault"
	"github.com/flowtrace/flowtrace/fixtures/synthnode"
	"github.com/flowtrace/flowtrace/tracer"
)

// A node that caps trace_filter answers and says at how many is read page
// by page (after / count) to the end, and one that limits trace_filter
// ranges in its own words (Reth's) is asked smaller ranges: the same
// transfers as from a node without the limits, for each trace_filter class.
func TestTraceFilterPaged(t *testing.T) {
	ctx := context.Background()
	g := synthnode.Generate(synthnode.Config{Seed: 5, Addresses: 200, Hops: 4})
	srv, err := synthnode.Start(g, synthnode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var frontier []tracer.Address
	for _, a := range append(slices.Clone(g.Seeds), g.Stolen...) {
		frontier = append(frontier, tracer.Address(a.Hex()))
	}
	q := tracer.TransferQuery{Direction: tracer.Outgoing, Addresses: frontier, Window: tracer.BlockRange{From: g.From, To: g.To}}
	read := func(url string) []string {
		src, err := Dial(ctx, url, Options{Chain: "dev", Native: NativeTraceFilter})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		ts, err := src.Transfers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range ts {
			if x.Kind == tracer.KindNative {
				out = append(out, fmt.Sprintf("%s %s %s %s %v", x.TxHash, x.From, x.To, x.Amount, x.TraceAddress))
			}
		}
		slices.Sort(out)
		return out
	}
	want := read(srv.URL())
	if len(want) < 10 {
		t.Fatalf("only %d native transfers in the flow", len(want))
	}
	classes := rpcfault.TraceFilterClasses()
	if len(classes) < 2 {
		t.Fatalf("trace_filter classes %v: want the cap and Reth's range", classes)
	}
	for _, c := range classes {
		t.Run(string(c), func(t *testing.T) {
			p, err := rpcfault.Start(rpcfault.Options{Upstream: srv.URL(), Classes: []rpcfault.Class{c}, MaxResults: 3, MaxRange: 4})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if got := read(p.URL()); !slices.Equal(want, got) {
				t.Errorf("through %s: %d native transfers, want %d", c, len(got), len(want))
			}
			if p.Counts()[c] == 0 {
				t.Errorf("%s refused nothing in %d requests", c, p.Requests())
			}
			t.Logf("%d native transfers; %d requests through %s (%d refused)", len(want), p.Requests(), c, p.Counts()[c])
		})
	}
}
