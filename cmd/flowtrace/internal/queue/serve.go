package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hibiken/asynq"
)

// Work runs one case; attempt is 1 on the first run. A failed Result with
// Permanent set is not retried.
type Work func(ctx context.Context, t Task, attempt int) (r Result, permanent bool)

// WorkerConfig sets up a worker process.
type WorkerConfig struct {
	Name            string        // recorded with each result
	Concurrency     int           // cases at once
	RetryDelay      time.Duration // first retry's delay; doubled each time, at most MaxRetryDelay
	MaxRetryDelay   time.Duration
	ShutdownTimeout time.Duration // on a stop, how long running cases may finish before they go back to the queue
	ExitWhenIdle    bool          // stop when no queue has a case left
	IdleCheck       time.Duration // how often to look, with ExitWhenIdle
	Log             io.Writer
}

// retryDelay is the backoff: a case whose worker died is retried at once,
// a failed one after d, 2d, 4d... at most limit.
func retryDelay(d, limit time.Duration) asynq.RetryDelayFunc {
	return func(n int, err error, _ *asynq.Task) time.Duration {
		if errors.Is(err, asynq.ErrLeaseExpired) {
			return 0
		}
		for range min(n, 30) {
			d *= 2
			if d >= limit {
				return limit
			}
		}
		return d
	}
}

// Serve takes cases from both queues (interactive first) and runs them
// with work until ctx ends (then it stops gracefully: running cases get
// ShutdownTimeout to finish, else they go back to the queue) or, with
// ExitWhenIdle, until nothing is left.
func (q *Queue) Serve(ctx context.Context, cfg WorkerConfig, work Work) error {
	queues := map[string]int{}
	for i, p := range Priorities {
		queues[q.Name(p)] = len(Priorities) - i
	}
	srv := asynq.NewServerFromRedisClient(q.rc, asynq.Config{
		Concurrency:              max(cfg.Concurrency, 1),
		BaseContext:              func() context.Context { return context.WithoutCancel(ctx) },
		Queues:                   queues,
		StrictPriority:           true,
		RetryDelayFunc:           retryDelay(cfg.RetryDelay, cfg.MaxRetryDelay),
		ShutdownTimeout:          cfg.ShutdownTimeout,
		DelayedTaskCheckInterval: time.Second,
		Logger:                   logger{w: cfg.Log, name: cfg.Name},
		LogLevel:                 asynq.WarnLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TaskType, func(tctx context.Context, at *asynq.Task) error {
		return q.handle(tctx, at, cfg.Name, work)
	})
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("queue: start worker: %w", err)
	}
	defer srv.Shutdown()
	stopping := func() {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "worker %s: stopping: no new case; the running ones have %s to finish\n", cfg.Name, cfg.ShutdownTimeout)
		}
	}
	if !cfg.ExitWhenIdle {
		<-ctx.Done()
		stopping()
		return nil
	}
	tick := time.NewTicker(max(cfg.IdleCheck, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			stopping()
			return nil
		case <-tick.C:
		}
		if idle, err := q.Idle(ctx); err == nil && idle {
			return nil
		}
	}
}

// handle runs one case task. A case that has its result already (its
// worker died after recording it) is acknowledged without running again.
func (q *Queue) handle(ctx context.Context, at *asynq.Task, worker string, work Work) error {
	var t Task
	if err := json.Unmarshal(at.Payload(), &t); err != nil {
		return fmt.Errorf("unreadable case task: %v: %w", err, asynq.SkipRetry)
	}
	done, err := q.Recorded(ctx, t.Batch, t.CaseID)
	if err != nil {
		return err
	}
	if done {
		return nil
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	start := time.Now()
	r, permanent := work(ctx, t, retried+1)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		r = Result{Status: "failed", Error: fmt.Sprintf("timed out after %s", time.Since(start).Round(time.Second)), DurationMS: time.Since(start).Milliseconds()}
	case ctx.Err() != nil:
		return ctx.Err() // the worker stops: asynq puts the case back
	}
	r.Worker, r.Attempt = worker, retried+1
	if r.Status == "failed" && !permanent && retried < maxRetry {
		return errors.New(r.Error) // retried after the backoff
	}
	if _, err := q.Record(context.WithoutCancel(ctx), t.Batch, t.CaseID, r); err != nil {
		return err
	}
	if r.Status == "failed" {
		return fmt.Errorf("%s: %w", r.Error, asynq.SkipRetry) // archived with its error
	}
	return nil
}

// logger prints asynq's warnings and errors on the worker's log.
type logger struct {
	w    io.Writer
	name string
}

func (l logger) print(level string, args []any) {
	if l.w != nil {
		fmt.Fprintf(l.w, "worker %s: queue %s: %s\n", l.name, level, fmt.Sprint(args...))
	}
}

func (l logger) Debug(args ...any) {}
func (l logger) Info(args ...any)  {}
func (l logger) Warn(args ...any)  { l.print("warning", args) }
func (l logger) Error(args ...any) { l.print("error", args) }
func (l logger) Fatal(args ...any) { l.print("error", args) }
