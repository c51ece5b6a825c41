package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowtrace/flowtrace/cmd/flowtrace/internal/serve"
)

// serveOptions are the flags of `flowtrace serve`.
type serveOptions struct {
	listen    string
	explorers string
}

func newServeCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve DIR [--listen 127.0.0.1:PORT]",
		Short: "Open a trace folder (or a batch folder) in the browser",
		Long: "serve shows a trace output folder (graph.json) or a batch folder (cases/*/graph.json) as an\n" +
			"interactive graph on a local page: filters, search, the selected node's transfers, fan-outs\n" +
			"expanded on demand, labels saved to labels.csv in the case folder, export as SVG or PNG.",
		Example: "  flowtrace serve out/demo\n  flowtrace serve out/batch --listen 127.0.0.1:8080",
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("serve takes one folder: flowtrace serve out/demo (a trace --out folder or a batch folder)")
			}
			return runServe(cmd.Context(), o, args[0], stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:7474", "address to listen on (HOST:PORT); anything but loopback exposes the case to the network")
	f.StringVar(&o.explorers, "explorers", "", `JSON FILE of block explorers per chain: {"ethereum":{"tx":"https://etherscan.io/tx/{tx}","address":"https://etherscan.io/address/{address}"}}`)
	return cmd
}

// newServer checks the folder and the options and builds the server.
func (o *serveOptions) newServer(dir string) (*serve.Server, error) {
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
	s, err := o.newServer(dir)
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
