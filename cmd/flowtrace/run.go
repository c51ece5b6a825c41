package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes (README "Exit codes").
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitIncomplete  = 3
	exitInterrupted = 130
)

// exitError carries an exit code with the error that caused it.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// usageErr is bad input: exit 2. The message should say what to do next.
func usageErr(format string, args ...any) error {
	return &codedError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// withCode attaches an exit code to err.
func withCode(code int, err error) error { return &codedError{code: code, err: err} }

// run is the whole program; main only adds signals and os.Exit.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ce *codedError
	if errors.As(err, &ce) {
		if ce.err != errSilent {
			fmt.Fprintln(stderr, "flowtrace:", ce.err)
		}
		return ce.code
	}
	// Errors from cobra itself (unknown flag, bad value) are usage errors.
	fmt.Fprintln(stderr, "flowtrace:", err)
	fmt.Fprintln(stderr, "Run 'flowtrace --help' for usage.")
	return exitUsage
}

// errSilent marks an exit code whose message was already printed.
var errSilent = errors.New("")

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "flowtrace",
		Short: "Follow stolen crypto through splits, swaps, bridges and mixers",
		Long: "flowtrace follows the value stolen in a theft forward from its seed addresses, hop by hop,\n" +
			"through blockchain RPC nodes, and writes the flow graph (JSON, Graphviz), the transfers (CSV)\n" +
			"and a report of where the value went.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newTraceCmd(stdout, stderr), newBatchCmd(stdout, stderr), newWorkerCmd(stdout, stderr))
	root.AddCommand(newCacheCmd(stdout, stderr), newTransfersCmd(stdout, stderr))
	root.AddCommand(newServeCmd(stdout, stderr))
	return root
}
