package main

import (
	"cmp"
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
	"strings"
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

// submitOptions are the flags of `batch --queue` that travel with its tasks.
type submitOptions struct {
	priority    string
	caseTimeout time.Duration
	maxAttempts int
}

func (s *submitOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.priority, "priority", string(queue.Bulk), "with --queue: queue of the cases, interactive (taken first) or bulk")
	f.DurationVar(&s.caseTimeout, "case-timeout", 30*time.Minute, "with --queue: a case running longer fails (and is retried)")
	f.IntVar(&s.maxAttempts, "max-attempts", 3, "with --queue: runs of a failing case, with backoff, before it is archived as failed")
}

// runQueuedBatch enqueues the cases, then (unless --no-wait) waits for the
// workers and builds the batch's outputs from the output store.
func runQueuedBatch(ctx context.Context, o *batchOptions, path string, runs []caseRun, stdout, stderr io.Writer) error {
	prio, err := queue.ParsePriority(o.submit.priority)
	if err != nil {
		return usageErr("--priority: %v", err)
	}
	if o.submit.maxAttempts < 1 {
		return usageErr("--max-attempts %d: give at least 1", o.submit.maxAttempts)
	}
	store, err := filepath.Abs(o.trace.out)
	if err != nil {
		return usageErr("--out: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(store, "cases"), 0o755); err != nil {
		return withCode(exitError, fmt.Errorf("batch: %w", err))
	}
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
	b := queue.Batch{ID: id, Priority: prio, Store: store, Timeout: o.submit.caseTimeout, Attempts: o.submit.maxAttempts}
	added, err := q.Enqueue(ctx, b, order, payloads)
	if err != nil {
		return withCode(exitError, err)
	}
	fmt.Fprintf(stderr, "batch %s: %d cases enqueued on %s (%d already were); start workers with: flowtrace worker --queue URL\n",
		id, added, q.Name(prio), len(order)-added)
	if o.noWait {
		fmt.Fprintln(stdout, id)
		return nil
	}
	progress := batch.NewProgress(stderr, len(order), 10*time.Second)
	reported := 0
	for {
		finished, err := q.Settled(ctx, id)
		if err != nil {
			return withCode(exitError, err)
		}
		for ; reported < int(finished); reported++ {
			progress.Done(false)
		}
		if finished >= int64(len(order)) {
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
	rows, err := collect(ctx, q, id, store)
	if err != nil {
		return withCode(exitError, err)
	}
	if err := writeBatchOutputs(o.trace.out, rows); err != nil {
		return withCode(exitError, err)
	}
	fmt.Fprintln(stdout, filepath.Join(o.trace.out, "summary.csv"))
	return batchExit(ctx, rows, len(order), stderr)
}

// collect reads a batch's results and the outputs the workers wrote to
// store/cases/<id>/ into summary rows.
func collect(ctx context.Context, q *queue.Queue, id, store string) ([]batch.Row, error) {
	results, err := q.Final(ctx, id)
	if err != nil {
		return nil, err
	}
	var rows []batch.Row
	for _, caseID := range slices.Sorted(maps.Keys(results)) {
		r := results[caseID]
		if r.Status == batch.StatusFailed {
			rows = append(rows, batch.Row{CaseID: caseID, Status: r.Status, Error: r.Error, DurationMS: r.DurationMS, Endpoints: map[string]int{}})
			continue
		}
		row, err := rowFromDir(caseID, filepath.Join(store, "cases", caseID), r.Status)
		if err != nil {
			return nil, fmt.Errorf("%w (the output store %s must be the directory the workers write to)", err, store)
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
	trace           traceOptions
	queue           queueOptions
	name            string
	store           string
	concurrency     int
	retryDelay      time.Duration
	shutdownTimeout time.Duration
	recheck         time.Duration
	exitIdle        bool
	nodes           *nodePool
}

func newWorkerCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &workerOptions{}
	host, _ := os.Hostname()
	cmd := &cobra.Command{
		Use:   "worker --queue URL [flags]",
		Short: "Trace the cases of queued batches (run any number, on any machine)",
		Long: "worker takes cases from the queue (asynq on Redis; interactive cases before bulk ones), traces them with\n" +
			"its own node (--rpc or ETH_RPC_URL) and flags, writes each case's outputs to the batch's output store and\n" +
			"records a small result in Redis. A failed case is retried with backoff, then archived with its error.\n" +
			"A case whose worker died goes back to the queue when its lease expires (about a minute).\n" +
			"SIGTERM or Ctrl-C stops taking cases and gives the running ones --shutdown-timeout to finish.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runWorker(cmd.Context(), o, stderr) },
	}
	o.trace.register(cmd)
	noCaseSVG(cmd, &o.trace)
	o.queue.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.name, "name", host+"-"+strconv.Itoa(os.Getpid()), "worker name in the result records")
	f.StringVar(&o.store, "store", "", "output store to write cases to (default: the batch's --out as the submitter gave it; mount the shared directory there)")
	f.IntVar(&o.concurrency, "concurrency", 1, "cases traced at once")
	f.DurationVar(&o.retryDelay, "retry-delay", 10*time.Second, "delay before a failed case's first retry; doubled each time, at most 10m")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long running cases may finish before they go back to the queue")
	f.DurationVar(&o.recheck, "recheck-node", time.Minute, "identify the node again (chain, head) after this long; also after a case fails on it")
	f.BoolVar(&o.exitIdle, "exit-when-idle", false, "stop when the queue has nothing left (for jobs and tests)")
	group(cmd, "Worker", "queue", "name", "store", "concurrency", "retry-delay", "shutdown-timeout", "recheck-node", "exit-when-idle")
	_ = f.MarkHidden("batch-id")
	hideCaseFlags(cmd)
	_ = f.MarkHidden("out")
	cmd.SetUsageFunc(groupedUsage(append([]string{"Worker"}, traceGroups...)))
	return cmd
}

func runWorker(ctx context.Context, o *workerOptions, stderr io.Writer) error {
	if o.concurrency < 1 {
		return usageErr("--concurrency %d: run at least 1", o.concurrency)
	}
	q, closeQ, err := o.queue.open(ctx)
	if err != nil {
		return err
	}
	defer closeQ()
	o.nodes = &nodePool{recheck: o.recheck}
	defer o.nodes.close()
	fmt.Fprintf(stderr, "worker %s: waiting for cases\n", o.name)
	err = q.Serve(ctx, queue.WorkerConfig{
		Name: o.name, Concurrency: o.concurrency, RetryDelay: o.retryDelay, MaxRetryDelay: 10 * time.Minute,
		ShutdownTimeout: o.shutdownTimeout, ExitWhenIdle: o.exitIdle, IdleCheck: time.Second, Log: stderr,
	}, func(ctx context.Context, t queue.Task, attempt int) (queue.Result, bool) {
		return o.work(ctx, t, attempt, stderr)
	})
	if err != nil {
		return withCode(exitError, err)
	}
	if ctx.Err() != nil {
		return withCode(exitInterrupted, errors.New("worker stopped; its unfinished cases went back to the queue"))
	}
	return nil
}

// work traces one case into the output store: into a temporary folder
// beside the case's, whose files are then renamed into place, so a case
// folder never holds a half-written file.
func (o *workerOptions) work(ctx context.Context, t queue.Task, attempt int, stderr io.Writer) (queue.Result, bool) {
	var c cases.Case
	if err := json.Unmarshal(t.Case, &c); err != nil || !cases.ValidID(c.ID) || c.ID != t.CaseID {
		return queue.Result{Status: batch.StatusFailed, Error: fmt.Sprintf("unreadable case %q", t.CaseID)}, true
	}
	store := cmp.Or(o.store, t.Store)
	parent := filepath.Join(store, "cases")
	tmp, err := os.MkdirTemp(parent, "."+c.ID+".tmp-*")
	if err != nil {
		return queue.Result{Status: batch.StatusFailed, Error: fmt.Sprintf("output store: %v (give the worker --store DIR, the shared directory)", err)}, false
	}
	defer os.RemoveAll(tmp)
	row, bad := traceOneCase(ctx, caseRun{c: c, opts: o.trace.forCase(c)}, tmp, o.nodes)
	if ctx.Err() != nil {
		return queue.Result{Status: batch.StatusFailed, Error: ctx.Err().Error()}, false
	}
	res := queue.Result{Status: row.Status, Error: row.Error, DurationMS: row.DurationMS}
	if row.Status == batch.StatusFailed {
		fmt.Fprintf(stderr, "worker %s: case %s failed (attempt %d): %s\n", o.name, c.ID, attempt, oneLine(row.Error))
		return res, bad
	}
	if err := moveInto(tmp, filepath.Join(parent, c.ID)); err != nil {
		return queue.Result{Status: batch.StatusFailed, Error: err.Error()}, false
	}
	fmt.Fprintf(stderr, "worker %s: case %s %s in %d ms\n", o.name, c.ID, row.Status, row.DurationMS)
	return res, false
}

// moveInto renames every file of from into dir (same file system: each
// rename is atomic).
func moveInto(from, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output store: %w", err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		return fmt.Errorf("output store: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if err := os.Rename(filepath.Join(from, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("output store: %w", err)
		}
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func newBatchStatusCmd(stdout io.Writer) *cobra.Command {
	o := &queueOptions{}
	cmd := &cobra.Command{
		Use:   "status --queue URL --batch-id ID",
		Short: "Show the progress of a queued batch (from asynq's Inspector and the batch's records)",
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
			slices.Sort(st.Holding)
			fmt.Fprintf(stdout, "batch %s: %d/%d cases finished (%d failed); workers holding its cases: %v\n",
				o.batch, st.Finished, st.Total, st.Failed, st.Holding)
			fmt.Fprintf(stdout, "queue %s (all its batches): %d pending, %d active, %d to retry, %d archived\n",
				st.Queue, st.Pending, st.Active, st.Retry, st.Archived)
			return nil
		},
	}
	o.register(cmd)
	return cmd
}
