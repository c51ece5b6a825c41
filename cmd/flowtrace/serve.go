package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowtrace/flowtrace/cmd/flowtrace/internal/serve"
)

// serveOptions are the flags of `flowtrace serve`.
type serveOptions struct {
	listen    string
	explorers string
	// trace holds the node, cache and label flags of an expansion; the
	// rest (seeds, window, depth, taint...) comes from the case's graph.json.
	trace traceOptions
}

// fromCase are the trace flags an expansion takes from the case, hidden on serve.
var fromCase = []string{"seed", "theft-tx", "chain", "from-block", "to-block", "min-value", "taint", "depth", "expand",
	"max-addresses", "stop-at-contracts", "out", "case", "quiet", "full"}

func newServeCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve DIR [--listen 127.0.0.1:PORT]",
		Short: "Open a trace folder (or a batch folder) in the browser",
		Long: "serve shows a trace output folder (graph.json) or a batch folder (cases/*/graph.json) as an\n" +
			"interactive graph on a local page: filters, search, the selected node's transfers, fan-outs\n" +
			"expanded on demand, labels saved to labels.csv in the case folder, export as SVG or PNG.",
		Example: "  flowtrace serve out/demo\n  flowtrace serve out/batch --listen 127.0.0.1:8080\n" +
			"  # expand one hop from a node on the page: the same node, cache and labels as the trace\n" +
			"  flowtrace serve out/case --rpc $ETH_RPC_URL --cache redis://127.0.0.1:6379/0 --labels my-labels.csv",
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("serve takes one folder: flowtrace serve out/demo (a trace --out folder or a batch folder)")
			}
			return runServe(cmd.Context(), o, args[0], stdout, stderr)
		},
	}
	o.register(cmd)
	return cmd
}

func (o *serveOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:7474", "address to listen on (HOST:PORT); anything but loopback exposes the case to the network")
	f.StringVar(&o.explorers, "explorers", "", `JSON FILE of block explorers per chain: {"ethereum":{"tx":"https://etherscan.io/tx/{tx}","address":"https://etherscan.io/address/{address}"}}`)
	o.trace.register(cmd) // --rpc, --cache, --labels...: "expand one hop" traces as trace does
	for _, name := range fromCase {
		f.MarkHidden(name)
	}
}

// newServer checks the folder and the options and builds the server.
func (o *serveOptions) newServer(dir string, stderr io.Writer) (*serve.Server, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, usageErr("%s is not a folder: give a trace --out folder (with graph.json) or a batch --out folder", dir)
	}
	opts := serve.Options{Dir: dir}
	if o.explorers != "" {
		data, err := os.ReadFile(o.explorers)
		if err != nil {
			return nil, usageErr("--explorers: %v", err)
		}
		if err := json.Unmarshal(data, &opts.Explorers); err != nil {
			return nil, usageErr(`--explorers %s: %v; want {"chain":{"tx":"https://…/tx/{tx}","address":"https://…/address/{address}"}}`, o.explorers, err)
		}
	}
	if len(o.trace.rpcURLs) > 0 || o.trace.replay != "" {
		opts.Expand = o.expander(stderr)
	}
	s, err := serve.New(opts)
	if errors.Is(err, serve.ErrNoTrace) {
		return nil, usageErr("%v: give a folder written by flowtrace trace --out or flowtrace batch --out (make demo writes out/demo)", err)
	}
	if err != nil {
		return nil, withCode(exitError, err)
	}
	return s, nil
}

func runServe(ctx context.Context, o *serveOptions, dir string, stdout, stderr io.Writer) error {
	if _, _, err := net.SplitHostPort(o.listen); err != nil {
		return usageErr("--listen %q is not HOST:PORT: try --listen 127.0.0.1:7474", o.listen)
	}
	s, err := o.newServer(dir, stderr)
	if err != nil {
		return err
	}
	if !serve.Loopback(o.listen) {
		fmt.Fprintf(stderr, "flowtrace: warning: --listen %s is not a loopback address: anyone who can reach it can read this case\n", o.listen)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usageErr("--listen %s: %v: choose another port", o.listen, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "flowtrace: serving %s (%d case(s)) at http://%s/ (Ctrl-C stops)\n", dir, len(s.Cases()), ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return withCode(exitError, fmt.Errorf("serve: %w", err))
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
		return nil
	}
}

// expander traces one more hop from an address of a case: the case's trace
// again (its seeds, window, depth, taint and earlier expansions from
// graph.json's params, its labels.csv over the --labels files), with the
// address added to --expand, through the trace command itself, so that
// every output of the folder is rewritten together. The node's answers
// come from --cache when it holds them.
func (o *serveOptions) expander(stderr io.Writer) serve.ExpandFunc {
	var mu sync.Mutex
	return func(ctx context.Context, dir, chain, address string) error {
		mu.Lock()
		defer mu.Unlock()
		var doc struct {
			Case   string            `json:"case"`
			Params map[string]string `json:"params"`
		}
		data, err := os.ReadFile(filepath.Join(dir, serve.GraphFile))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("%s: %w", serve.GraphFile, err)
		}
		p := doc.Params
		if chain != p["chain"] {
			return fmt.Errorf("%s is on %s: only addresses on %s, the traced chain, can be expanded", address, chain, p["chain"])
		}
		t := o.trace
		t.chain, t.seeds, t.theftTxs = p["chain"], splitList(p["seeds"]), splitList(p["theft_txs"])
		t.fromBlock, t.toBlock, t.minValue, t.taint = p["from_block"], p["to_block"], p["min_value"], p["taint"]
		t.stopAtContracts = p["stop_at_contracts"] == "true"
		if t.depth, err = strconv.Atoi(p["depth"]); err != nil {
			return fmt.Errorf("%s: params.depth %q", serve.GraphFile, p["depth"])
		}
		if t.maxAddresses, err = strconv.Atoi(cmp.Or(p["max_addresses"], "0")); err != nil {
			return fmt.Errorf("%s: params.max_addresses %q", serve.GraphFile, p["max_addresses"])
		}
		t.expand = splitList(p["expand"])
		if !slices.Contains(t.expand, address) {
			t.expand = append(t.expand, address)
		}
		t.labelFiles = slices.Clone(o.trace.labelFiles)
		if _, err := os.Stat(filepath.Join(dir, serve.LabelFile)); err == nil {
			t.labelFiles = append(t.labelFiles, filepath.Join(dir, serve.LabelFile))
		}
		t.caseName, t.out, t.quiet = doc.Case, dir, true
		fmt.Fprintf(stderr, "flowtrace: serve: expanding %s in %s\n", address, dir)
		err = runTrace(ctx, &t, io.Discard, stderr)
		var ce *codedError
		if err != nil && (!errors.As(err, &ce) || ce.code != exitIncomplete) {
			fmt.Fprintf(stderr, "flowtrace: serve: expanding %s: %v\n", address, err)
			return errors.New("the expansion failed: the terminal running flowtrace serve says why")
		}
		return nil
	}
}

// splitList splits a comma-separated params value; "" is none.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
