// Command flowtrace-scenario plays the test theft of fixtures/scenario on a
// geth --dev node and checks a flowtrace graph against its truth.
//
//	flowtrace-scenario play  --rpc URL --out DIR          writes DIR/{truth.json,labels.csv,args}
//	flowtrace-scenario check --truth truth.json --graph graph.json
//	flowtrace-scenario two-chain --rpc URL --out DIR [--flowtrace bin/flowtrace]
//	                             starts btcd, plays a THORChain ETH -> BTC swap on both nodes,
//	                             traces it over both and checks it
//
// Exit codes: 0 ok (check: the graph is exact), 1 error (check: lists the
// differences), 2 usage.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  flowtrace-scenario play  --rpc URL --out DIR [--label LABEL]
  flowtrace-scenario check --truth truth.json --graph graph.json
  flowtrace-scenario two-chain --rpc URL --out DIR [--flowtrace bin/flowtrace]
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "play":
		return runPlay(ctx, args[1:], stdout, stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "two-chain":
		return runTwoChain(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "flowtrace-scenario: unknown command %q\n%s", args[0], usage)
	return 2
}
