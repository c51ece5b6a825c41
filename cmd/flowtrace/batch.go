package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/flowtrace/flowtrace/cmd/flowtrace/internal/batch"
	"github.com/flowtrace/flowtrace/cmd/flowtrace/internal/cases"
)

// batchOptions are the flags of `flowtrace batch`; the trace flags given
// with it are the defaults of every case.
type batchOptions struct {
	trace       traceOptions // trace.out is the batch's output directory
	workers     int
	skipInvalid bool
	queue       queueOptions
	submit      submitOptions
	noWait      bool
}

func newBatchCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &batchOptions{}
	cmd := &cobra.Command{
		Use:   "batch CASES --out DIR [flags]",
		Short: "Trace many cases (CSV or JSON Lines), resumable; or enqueue them for workers with --queue",
		Long: "batch traces every case of a case file, each into DIR/cases/<case_id>/ with the outputs of `trace`,\n" +
			"then writes summary.csv, summary.json, links.csv (addresses shared by several cases) and batch.dot.\n" +
			"Re-running the same command skips the cases already finished. The trace flags set each case's defaults.\n\n" +
			"Case file columns: " + strings.Join(cases.Columns, ",") + " (case_id, seeds and from_block required).",
		Example: "  flowtrace batch cases.csv --out out/batch --workers 4\n" +
			"  flowtrace batch cases.jsonl --out out/batch --queue redis://queue-host:6379/0   # workers: flowtrace worker --queue ...\n" +
			"  flowtrace batch status --queue redis://queue-host:6379/0 --batch-id ID",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBatch(cmd.Context(), o, args[0], stdout, stderr)
		},
	}
	o.trace.register(cmd)
	f := cmd.Flags()
	o.trace.out = "out/batch" // --out is the trace flag, with the batch's default
	f.Lookup("out").DefValue = o.trace.out
	f.Lookup("out").Usage = "output directory of the batch"
	noCaseSVG(cmd, &o.trace)
	f.IntVar(&o.workers, "workers", 2, "cases traced at once")
	f.BoolVar(&o.skipInvalid, "skip-invalid", false, "skip malformed cases instead of refusing to start")
	f.BoolVar(&o.noWait, "no-wait", false, "with --queue: enqueue and return instead of waiting for the results")
	o.queue.register(cmd)
	o.submit.register(cmd)
	group(cmd, "Batch", "out", "workers", "skip-invalid", "queue", "batch-id", "no-wait", "priority", "case-timeout", "max-attempts")
	hideCaseFlags(cmd)
	cmd.SetUsageFunc(groupedUsage(append([]string{"Batch"}, traceGroups...)))
	cmd.AddCommand(newBatchStatusCmd(stdout))
	return cmd
}

// noCaseSVG makes cases leave graph.svg out unless --render-timeout is
// given: laying out a graph costs more than a warm trace.
func noCaseSVG(cmd *cobra.Command, o *traceOptions) {
	o.render = 0
	f := cmd.Flags().Lookup("render-timeout")
	f.DefValue = "0"
	f.Usage = "bound on laying out each case's graph.svg (0, the default for batches: leave it out)"
}

// hideCaseFlags hides the trace flags a case file sets per case.
func hideCaseFlags(cmd *cobra.Command) {
	for _, name := range []string{"seed", "from-block", "to-block", "case", "record", "replay", "quiet"} {
		_ = cmd.Flags().MarkHidden(name)
	}
}

// caseRun is one case ready to trace.
type caseRun struct {
	c      cases.Case
	opts   traceOptions
	params string // hash of what the case is traced with
}

// prepare validates every case against the trace flags; bad cases are
// refused (exit 2) unless --skip-invalid.
func (o *batchOptions) prepare(path string, stderr io.Writer) ([]caseRun, error) {
	list, bad, err := cases.ReadFile(path)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	var runs []caseRun
	for _, c := range list {
		opts := o.trace.forCase(c)
		if _, err := opts.validate(); err != nil {
			bad = append(bad, &cases.Error{Line: c.Line, Err: err})
			continue
		}
		runs = append(runs, caseRun{c: c, opts: opts, params: batch.ParamsHash(opts.caseParams())})
	}
	if len(bad) > 0 {
		for i, e := range bad {
			if i == 20 {
				fmt.Fprintf(stderr, "flowtrace: ... and %d more bad cases\n", len(bad)-20)
				break
			}
			fmt.Fprintf(stderr, "flowtrace: %s: %v\n", path, e)
		}
		if !o.skipInvalid {
			return nil, usageErr("%s: %d bad cases: fix them, or pass --skip-invalid to trace the %d good ones", path, len(bad), len(runs))
		}
	}
	if len(runs) == 0 {
		return nil, usageErr("%s: no case to trace", path)
	}
	return runs, nil
}

// forCase returns the trace options of one case: the batch's flags with the
// case's own values on top.
func (o traceOptions) forCase(c cases.Case) traceOptions {
	o.seeds = c.Seeds
	o.fromBlock = strconv.FormatUint(c.FromBlock, 10)
	o.toBlock = "latest"
	if c.ToBlock != "" {
		o.toBlock = c.ToBlock
	}
	if c.Chain != "" {
		o.chain = c.Chain
	}
	if c.Depth > 0 {
		o.depth = c.Depth
	}
	if c.MinValue != "" {
		o.minValue = c.MinValue
	}
	o.labelFiles = slices.Concat(o.labelFiles, c.Labels)
	o.caseName = c.ID
	o.quiet = true
	o.record, o.replay = "", ""
	return o
}

// params are what makes a case's result: a change re-runs it.
func (o traceOptions) caseParams() []string {
	return []string{strings.Join(o.seeds, ","), o.chain, o.fromBlock, o.toBlock, strconv.Itoa(o.depth), o.minValue,
		strconv.Itoa(o.maxAddresses), strconv.FormatInt(o.maxRequests, 10), strconv.FormatBool(o.stopAtContracts),
		strings.Join(o.labelFiles, ";"), o.native}
}

func runBatch(ctx context.Context, o *batchOptions, path string, stdout, stderr io.Writer) error {
	if o.workers < 1 {
		return usageErr("--workers %d: run at least 1", o.workers)
	}
	runs, err := o.prepare(path, stderr)
	if err != nil {
		return err
	}
	if o.queue.url != "" {
		return runQueuedBatch(ctx, o, path, runs, stdout, stderr) // the workers bring their own nodes
	}
	if err := o.trace.checkNode(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(o.trace.out, "cases"), 0o755); err != nil {
		return withCode(exitError, fmt.Errorf("batch: %w", err))
	}
	manifest, err := batch.LoadManifest(o.trace.out)
	if err != nil {
		return withCode(exitError, err)
	}
	progress := batch.NewProgress(stderr, len(runs), 10*time.Second)
	rows := make([]batch.Row, len(runs))
	g := new(errgroup.Group)
	g.SetLimit(o.workers)
	for i, r := range runs {
		dir := filepath.Join(o.trace.out, "cases", r.c.ID)
		if manifest.Finished(r.c.ID, r.params) {
			if row, err := rowFromDir(r.c.ID, dir, manifest.Cases[r.c.ID].Status); err == nil {
				rows[i] = row
				progress.Skip()
				continue
			}
		}
		g.Go(func() error {
			if ctx.Err() != nil {
				return nil
			}
			row, _ := traceOneCase(ctx, r, dir, nil)
			if ctx.Err() != nil && row.Status != batch.StatusDone {
				return nil // interrupted: not recorded, run again next time
			}
			rows[i] = row
			progress.Done(row.Status == batch.StatusFailed)
			return manifest.Record(r.c.ID, batch.Entry{Params: r.params, Status: row.Status, Error: row.Error})
		})
	}
	werr := g.Wait()
	progress.Finish()
	rows = slices.DeleteFunc(rows, func(r batch.Row) bool { return r.CaseID == "" })
	if err := writeBatchOutputs(o.trace.out, rows); err != nil {
		return withCode(exitError, err)
	}
	if werr != nil {
		return withCode(exitError, werr)
	}
	fmt.Fprintln(stdout, filepath.Join(o.trace.out, "summary.csv"))
	return batchExit(ctx, rows, len(runs), stderr)
}

// traceOneCase traces a case into dir, on a node of pool when there is one,
// and returns its summary row; bad is set when the case itself is wrong
// (exit 2), so running it again is useless.
func traceOneCase(ctx context.Context, r caseRun, dir string, pool *nodePool) (row batch.Row, bad bool) {
	start := time.Now()
	opts := r.opts
	opts.out = dir
	var errBuf bytes.Buffer
	var err error
	if pool != nil {
		err = pool.trace(ctx, &opts, io.Discard, &errBuf)
	} else {
		err = runTrace(ctx, &opts, io.Discard, &errBuf)
	}
	status := batch.StatusDone
	var ce *codedError
	switch {
	case err == nil:
	case errors.As(err, &ce) && ce.code == exitIncomplete:
		status = batch.StatusPartial
	default:
		msg := err.Error()
		if errors.As(err, &ce) && ce.err == errSilent {
			msg = strings.TrimSpace(errBuf.String())
		}
		return batch.Row{CaseID: r.c.ID, Status: batch.StatusFailed, Chain: opts.chain, Seeds: opts.seeds,
			Error: msg, DurationMS: time.Since(start).Milliseconds(), Endpoints: map[string]int{}}, ce != nil && ce.code == exitUsage
	}
	row, err = rowFromDir(r.c.ID, dir, status)
	if err != nil {
		return batch.Row{CaseID: r.c.ID, Status: batch.StatusFailed, Error: err.Error(), Endpoints: map[string]int{}}, false
	}
	return row, false
}

func rowFromDir(id, dir, status string) (batch.Row, error) {
	data, err := os.ReadFile(filepath.Join(dir, "graph.json"))
	if err != nil {
		return batch.Row{}, fmt.Errorf("batch: %s: %w", id, err)
	}
	return batch.RowFromGraph(id, status, data)
}

// writeBatchOutputs writes summary.csv, summary.json, links.csv, batch.dot,
// batch.json and batch-report.md atomically.
func writeBatchOutputs(dir string, rows []batch.Row) error {
	batch.SortRows(rows)
	links := batch.Links(rows)
	js, err := batch.SummaryJSON(rows)
	if err != nil {
		return err
	}
	report := batch.BuildReport(rows)
	reportJSON, err := report.JSON()
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"summary.csv": batch.SummaryCSV(rows), "summary.json": js,
		"links.csv": batch.LinksCSV(links), "batch.dot": batch.BatchDOT(links),
		"batch.json": reportJSON, "batch-report.md": report.Markdown(),
	} {
		if err := writeFileAtomic(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	return nil
}

// batchExit maps a batch's end to the exit code: 130 interrupted, 3 when a
// case failed, was cut short or was not run, 0 otherwise.
func batchExit(ctx context.Context, rows []batch.Row, total int, stderr io.Writer) error {
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.Status]++
	}
	fmt.Fprintf(stderr, "batch: %d cases: %d done, %d partial, %d failed, %d not run\n",
		total, counts[batch.StatusDone], counts[batch.StatusPartial], counts[batch.StatusFailed], total-len(rows))
	switch {
	case ctx.Err() != nil:
		return withCode(exitInterrupted, errors.New("interrupted: re-run the same command to finish the batch"))
	case counts[batch.StatusDone] < total:
		return withCode(exitIncomplete, errSilent)
	}
	return nil
}
