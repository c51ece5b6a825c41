package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/fixtures/scenario"
)

type playOptions struct {
	RPC   string
	Out   string
	Label string
}

func parsePlay(args []string, stderr io.Writer) (playOptions, error) {
	var o playOptions
	fs := flag.NewFlagSet("play", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.RPC, "rpc", "", "HTTP JSON-RPC URL of a geth --dev node (its first account must be unlocked and funded)")
	fs.StringVar(&o.Out, "out", "", "directory to write truth.json, labels.csv and args into")
	fs.StringVar(&o.Label, "label", "", "key-derivation label; another label plays with other wallets (default "+scenario.DefaultLabel+")")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.RPC == "" || o.Out == "" || fs.NArg() > 0 {
		return o, errors.New("play needs --rpc and --out and no other arguments")
	}
	return o, nil
}

func runPlay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parsePlay(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "flowtrace-scenario: %v\n", err)
		}
		return 2
	}
	start := time.Now()
	t, err := play(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flowtrace-scenario: %s\n", redact(err.Error(), o.RPC))
		return 1
	}
	fmt.Fprintf(stdout, "played on chain %d: blocks [%d,%d], %d stolen, %d noise, %d poisoning addresses in %v; case written to %s\n",
		t.ChainID, t.FromBlock, t.ToBlock, len(t.Stolen), len(t.Noise), len(t.Poisoning), time.Since(start).Round(time.Millisecond), o.Out)
	return 0
}

func play(ctx context.Context, o playOptions, stderr io.Writer) (*scenario.Truth, error) {
	client, err := rpc.DialContext(ctx, o.RPC)
	if err != nil {
		return nil, fmt.Errorf("dial --rpc: %w", err)
	}
	defer client.Close()
	chain, err := scenario.NewDevAccountChain(ctx, client)
	if err != nil {
		return nil, err
	}
	t, err := scenario.Play(ctx, chain, scenario.Config{Label: o.Label, Logf: func(f string, a ...any) {
		fmt.Fprintf(stderr, f+"\n", a...)
	}})
	if err != nil {
		return nil, err
	}
	return t, scenario.WriteCase(o.Out, t)
}

// redact removes the RPC URL (whose path, query or userinfo may hold a key)
// from a message, leaving scheme and host.
func redact(msg, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return strings.ReplaceAll(msg, raw, "<rpc>")
	}
	safe := u.Scheme + "://" + u.Host
	msg = strings.ReplaceAll(msg, raw, safe)
	if u.User != nil {
		msg = strings.ReplaceAll(msg, u.User.String(), "<redacted>")
	}
	if u.Path != "" && u.Path != "/" {
		msg = strings.ReplaceAll(msg, u.Path, "/<redacted>")
	}
	if u.RawQuery != "" {
		msg = strings.ReplaceAll(msg, u.RawQuery, "<redacted>")
	}
	return msg
}
