package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowtrace/flowtrace/cache/redis"
	"github.com/flowtrace/flowtrace/cmd/flowtrace/internal/batch"
	"github.com/flowtrace/flowtrace/cmd/flowtrace/internal/cases"
	"github.com/flowtrace/flowtrace/cmd/flowtrace/internal/queue"
)

// queueOptions name a Redis queue of batches.
type queueOptions struct {
	url   string
	batch string
}

func (q *queueOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&q.url, "queue", os.Getenv("FLOWTRACE_QUEUE"), "Redis URL of the queue shared with workers (default $FLOWTRACE_QUEUE)")
	cmd.Flags().StringVar(&q.batch, "batch-id", "", "name of the batch in the queue (default: a hash of the case file)")
	cmd.Flags().Lookup("queue").DefValue = "" // may hold a password
}

// open connects to the queue; errors never show the password.
func (q *queueOptions) open(ctx context.Context) (*queue.Queue, func(), error) {
	if q.url == "" {
		return nil, nil, usageErr("no queue: give --queue redis://HOST:PORT/DB (or set FLOWTRACE_QUEUE)")
	}
	c, prefix, err := redis.Connect(ctx, q.url)
	if err != nil {
		return nil, nil, withCode(exitError, fmt.Errorf("%v; check that Redis is up and --queue is right", err))
	}
	return queue.New(c, prefix), func() { c.Close() }, nil
}

// runQueuedBatch enqueues the cases, then (unless --no-wait) waits for the
// workers and collects their outputs into the batch directory.
func runQueuedBatch(ctx context.Context, o *batchOptions, path string, runs []caseRun, stdout, stderr io.Writer) error {
	q, closeQ, err := o.queue.open(ctx)
	if err != nil {
		return err
	}
	defer closeQ()
	id := o.queue.batch
	if id == "" {
		if id, err = fileID(path); err != nil {
			return usageErr("%v", err)
		}
	}
	payloads := map[string][]byte{}
	var order []string
	for _, r := range runs {
		payloads[r.c.ID], _ = json.Marshal(r.c) // a plain struct: cannot fail
		order = append(order, r.c.ID)
	}
	added, err := q.Enqueue(ctx, id, payloads, order)
	if err != nil {
		return withCode(exitError, err)
	}
	fmt.Fprintf(stderr, "batch %s: %d cases enqueued (%d already were); start workers with: flowtrace worker --queue URL\n", id, added, len(order)-added)
	if o.noWait {
		fmt.Fprintln(stdout, id)
		return nil
	}
	progress := batch.NewProgress(stderr, len(order), 10*time.Second)
	reported := 0
	for {
		st, err := q.Status(ctx, id)
		if err != nil {
			return withCode(exitError, err)
		}
		for ; reported < int(st.Finished); reported++ {
			progress.Done(false)
		}
		if st.Finished >= st.Total {
			break
		}
		select {
		case <-ctx.Done():
			progress.Finish()
			return withCode(exitInterrupted, fmt.Errorf("stopped waiting; the workers go on: collect later with the same command (batch %s)", id))
		case <-time.After(time.Second):
		}
	}
	progress.Finish()
	results, err := q.Results(ctx, id)
	if err != nil {
		return withCode(exitError, err)
	}
	rows, err := collect(o.trace.out, results)
	if err != nil {
		return withCode(exitError, err)
	}
	if err := writeBatchOutputs(o.trace.out, rows); err != nil {
		return withCode(exitError, err)
	}
	fmt.Fprintln(stdout, filepath.Join(o.trace.out, "summary.csv"))
	return batchExit(ctx, rows, len(order), stderr)
}

// collect writes the workers' outputs into dir/cases/<id>/ and reads back
// their summary rows.
func collect(dir string, results map[string]queue.Result) ([]batch.Row, error) {
	var rows []batch.Row
	for _, id := range slices.Sorted(maps.Keys(results)) {
		r := results[id]
		caseDir := filepath.Join(dir, "cases", id)
		if err := os.MkdirAll(caseDir, 0o755); err != nil {
			return nil, fmt.Errorf("batch: %w", err)
		}
		for name, data := range r.Files {
			if filepath.Base(name) != name || name == "." || name == ".." {
				return nil, fmt.Errorf("batch: result of %s names a file %q outside its folder", id, name)
			}
			if err := writeFileAtomic(filepath.Join(caseDir, name), data); err != nil {
				return nil, err
			}
		}
		if r.Status == batch.StatusFailed {
			rows = append(rows, batch.Row{CaseID: id, Status: r.Status, Error: r.Error, Endpoints: map[string]int{}})
			continue
		}
		row, err := batch.RowFromGraph(id, r.Status, r.Files["graph.json"])
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// fileID names a batch after its case file's content.
func fileID(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6]), nil
}

// workerOptions are the flags of `flowtrace worker`.
type workerOptions struct {
	trace        traceOptions
	queue        queueOptions
	name         string
	reclaimAfter time.Duration
	maxAttempts  int64
	exitIdle     bool
}

func newWorkerCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &workerOptions{}
	host, _ := os.Hostname()
	cmd := &cobra.Command{
		Use:   "worker --queue URL [flags]",
		Short: "Trace the cases of queued batches (run any number, on any machine)",
		Long: "worker takes cases from the Redis queue, traces them with its own node (--rpc or ETH_RPC_URL) and\n" +
			"flags, stores the outputs in Redis for the submitter and acknowledges each case. Cases of a worker that\n" +
			"died are taken over after --reclaim-after; a case that fails --max-attempts times is dead-lettered.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runWorker(cmd.Context(), o, stderr) },
	}
	o.trace.register(cmd)
	o.queue.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.name, "name", host+"-"+strconv.Itoa(os.Getpid()), "worker name in the queue")
	f.DurationVar(&o.reclaimAfter, "reclaim-after", 2*time.Minute, "take over a case another worker has held this long")
	f.Int64Var(&o.maxAttempts, "max-attempts", 3, "dead-letter a case after this many failed attempts")
	f.BoolVar(&o.exitIdle, "exit-when-idle", false, "stop when the queue has nothing left (for jobs and tests)")
	group(cmd, "Worker", "queue", "name", "reclaim-after", "max-attempts", "exit-when-idle")
	_ = f.MarkHidden("batch-id")
	hideCaseFlags(cmd)
	_ = f.MarkHidden("out")
	cmd.SetUsageFunc(groupedUsage(append([]string{"Worker"}, traceGroups...)))
	return cmd
}

func runWorker(ctx context.Context, o *workerOptions, stderr io.Writer) error {
	q, closeQ, err := o.queue.open(ctx)
	if err != nil {
		return err
	}
	defer closeQ()
	fmt.Fprintf(stderr, "worker %s: waiting for cases\n", o.name)
	for ctx.Err() == nil {
		task, err := q.Next(ctx, o.name, o.reclaimAfter, 2*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(stderr, "worker %s: %v; retrying\n", o.name, err)
			time.Sleep(time.Second)
			continue
		}
		if task == nil {
			if empty, err := q.Empty(ctx); o.exitIdle && err == nil && empty {
				return nil
			}
			continue
		}
		if err := o.work(ctx, q, task, stderr); err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "worker %s: %v\n", o.name, err)
		}
	}
	return withCode(exitInterrupted, errors.New("worker stopped; its unfinished case goes to another worker"))
}

// work traces one task and completes, leaves (to retry) or dead-letters it.
func (o *workerOptions) work(ctx context.Context, q *queue.Queue, t *queue.Task, stderr io.Writer) error {
	var c cases.Case
	if err := json.Unmarshal(t.Payload, &c); err != nil {
		return q.DeadLetter(ctx, t, "unreadable case: "+err.Error())
	}
	dir, err := os.MkdirTemp("", "flowtrace-case-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opts := o.trace.forCase(c)
	row := traceOneCase(ctx, caseRun{c: c, opts: opts}, dir)
	if ctx.Err() != nil {
		return nil // interrupted: the case stays pending and is reclaimed
	}
	if row.Status == batch.StatusFailed {
		if t.Deliveries >= o.maxAttempts {
			return q.DeadLetter(ctx, t, fmt.Sprintf("failed %d times, last: %s", t.Deliveries, row.Error))
		}
		fmt.Fprintf(stderr, "worker %s: case %s failed (attempt %d of %d): %s\n", o.name, c.ID, t.Deliveries, o.maxAttempts, row.Error)
		return nil // not acknowledged: retried after --reclaim-after
	}
	files := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && !e.IsDir() {
			files[e.Name()] = data
		}
	}
	fmt.Fprintf(stderr, "worker %s: case %s %s in %d ms\n", o.name, c.ID, row.Status, row.DurationMS)
	return q.Complete(ctx, t, queue.Result{CaseID: c.ID, Status: row.Status, Worker: o.name, Files: files})
}

func newBatchStatusCmd(stdout io.Writer) *cobra.Command {
	o := &queueOptions{}
	cmd := &cobra.Command{
		Use:   "status --queue URL --batch-id ID",
		Short: "Show the progress of a queued batch",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.batch == "" {
				return usageErr("--batch-id is required (printed when the batch was enqueued)")
			}
			q, closeQ, err := o.open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeQ()
			st, err := q.Status(cmd.Context(), o.batch)
			if err != nil {
				return withCode(exitError, err)
			}
			slices.Sort(st.Workers)
			fmt.Fprintf(stdout, "batch %s: %d/%d cases finished, %d in progress, %d dead-lettered; workers holding cases: %v\n",
				o.batch, st.Finished, st.Total, st.Pending, st.Dead, st.Workers)
			return nil
		},
	}
	o.register(cmd)
	return cmd
}
