package main

import (
	"context"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowtrace/flowtrace/fixtures/synthnode"
)

// TestNodePoolStateDoesNotGrowWithCases: a worker's pooled node serves case
// after case with the chain identified once, and keeps nothing of a finished
// case in its Source (scanned blocks, signers, accounts, tokens), so the
// memory of a worker does not grow with the number of cases it traces.
func TestNodePoolStateDoesNotGrowWithCases(t *testing.T) {
	g := synthnode.Generate(synthnode.Config{Seed: 5, Addresses: 300, Hops: 4})
	srv, err := synthnode.Start(g, synthnode.Options{BatchLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	pool := &nodePool{recheck: time.Hour}
	defer pool.close()
	const cases = 6
	var first *node
	for i := range cases {
		var o traceOptions
		cmd := &cobra.Command{Use: "case"}
		o.register(cmd)
		// Block scan: the Source keeps scanned blocks, signers and accounts.
		err := cmd.ParseFlags([]string{"--rpc", srv.URL(), "--chain", "dev", "--native", "blockscan", "--cache", "off",
			"--no-bundled-labels", "--seed", g.Stolen[i*len(g.Stolen)/cases].Hex(), "--min-value", "0",
			"--from-block", strconv.FormatUint(g.From, 10), "--to-block", strconv.FormatUint(g.To, 10),
			"--out", t.TempDir(), "--render-timeout", "0", "--quiet"})
		if err != nil {
			t.Fatal(err)
		}
		before := srv.Stats().ByMethod["eth_chainId"]
		if err := pool.trace(context.Background(), &o, io.Discard, io.Discard); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if len(pool.idle) != 1 {
			t.Fatalf("case %d: %d idle nodes, want the one node back", i, len(pool.idle))
		}
		n := pool.idle[0]
		if first == nil {
			first = n
		} else if n != first || srv.Stats().ByMethod["eth_chainId"] != before {
			t.Fatalf("case %d: the chain was identified again (want once per worker)", i)
		}
		if got := n.src.Remembered(); got != 0 {
			t.Errorf("case %d: the pooled Source keeps %d entries of finished cases, want 0", i, got)
		}
	}
	if st := srv.Stats(); st.ByMethod["debug_traceBlockByNumber"] == 0 {
		t.Fatalf("the cases scanned no blocks (%v): the test shows nothing", st.ByMethod)
	}
}
