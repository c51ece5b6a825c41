package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/fixtures/btcnode"
	"github.com/flowtrace/flowtrace/fixtures/scenario"
	"github.com/flowtrace/flowtrace/fixtures/twochain"
)

type twoChainOptions struct {
	RPC       string
	Flowtrace string
	Out       string
}

// runTwoChain starts btcd (built once into the cache by fixtures/btcnode),
// plays the THORChain ETH -> BTC story on the geth --dev node and btcd,
// traces it with the flowtrace binary over both nodes and checks the
// outputs against the story. btcd is stopped before it returns.
func runTwoChain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o twoChainOptions
	fs := flag.NewFlagSet("two-chain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.RPC, "rpc", "", "HTTP JSON-RPC URL of a geth --dev node (its first account must be unlocked and funded)")
	fs.StringVar(&o.Flowtrace, "flowtrace", "bin/flowtrace", "the flowtrace binary to trace with")
	fs.StringVar(&o.Out, "out", "", "directory for the case (truth-two-chain.json, labels.csv, args) and the trace (trace/)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 2
		}
		fmt.Fprintf(stderr, "flowtrace-scenario: %v\n", err)
		return 2
	}
	if o.RPC == "" || o.Out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "flowtrace-scenario: two-chain needs --rpc and --out and no other arguments")
		return 2
	}
	problems, err := twoChain(ctx, o, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flowtrace-scenario: two-chain: %s\n", redact(err.Error(), o.RPC))
		return 1
	}
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "two-chain: %d problems:\n  %s\n", len(problems), strings.Join(problems, "\n  "))
		return 1
	}
	fmt.Fprintln(stdout, "two-chain: exact: every Bitcoin wallet of the story found, no noise, the deposit paired with its OUT: payout, accounting whole on both chains")
	return 0
}

func twoChain(ctx context.Context, o twoChainOptions, stdout, stderr io.Writer) ([]string, error) {
	bin, err := filepath.Abs(o.Flowtrace)
	if err != nil {
		return nil, err
	}
	btc, err := btcnode.Start(ctx)
	if err != nil {
		return nil, err
	}
	defer btc.Close()
	client, err := rpc.DialContext(ctx, o.RPC)
	if err != nil {
		return nil, fmt.Errorf("dial --rpc: %w", err)
	}
	defer client.Close()
	eth, err := scenario.NewDevAccountChain(ctx, client)
	if err != nil {
		return nil, err
	}
	g, err := twochain.Play(ctx, eth, "dev", btc)
	if err != nil {
		return nil, err
	}
	if err := twochain.WriteCase(o.Out, g); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "two-chain: played blocks [%d,%d] on geth and the BTC leg on btcd (%s); tracing over both\n", g.From, g.To, btc.Host)
	data, err := os.ReadFile(filepath.Join(o.Out, "args"))
	if err != nil {
		return nil, err
	}
	out := filepath.Join(o.Out, "trace")
	args := append([]string{"trace", "--rpc", o.RPC, "--rpc", g.BTCChain + "=" + btc.URL, "--out", out}, strings.Fields(string(data))...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = o.Out, stderr, stderr // labels.csv is relative to the case
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("flowtrace trace: %w", err)
	}
	graphJSON, err := os.ReadFile(filepath.Join(out, "graph.json"))
	if err != nil {
		return nil, err
	}
	report, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		return nil, err
	}
	return g.Check(graphJSON, report), nil
}
