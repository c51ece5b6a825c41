// Package queue runs the cases of batches as asynq tasks in Redis: one task
// per case, its id "<batch>/<case>", so a second submit of the same batch
// adds nothing. asynq owns delivery: retries with backoff, the per-case
// timeout, recovery of a case whose worker died (once its lease expires),
// archiving of a case that failed for good, priority queues and graceful
// shutdown. This package adds the books a batch needs beside the engine:
// which cases were submitted and one small result record per case (status,
// error, worker), written once per case id. Case outputs are files in the
// batch's output store, never in Redis.
//
// It knows nothing about tracing: a case is an opaque JSON payload.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
)

// TaskType is the asynq type of a case task.
const TaskType = "flowtrace:case"

// Priority names a queue: interactive cases are taken before bulk ones.
type Priority string

// The queues, highest priority first.
const (
	Interactive Priority = "interactive"
	Bulk        Priority = "bulk"
)

// Priorities lists the queues, highest first.
var Priorities = []Priority{Interactive, Bulk}

// ParsePriority checks a queue name given by a user.
func ParsePriority(s string) (Priority, error) {
	for _, p := range Priorities {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("queue: priority %q: want interactive or bulk", s)
}

// Queue is a namespace of batches in one Redis.
type Queue struct {
	rc     *goredis.Client
	ns     string
	client *asynq.Client
	insp   *asynq.Inspector
}

// New uses rc under the namespace ns (e.g. "flowtrace:"): the asynq queues
// are named ns+"interactive" and ns+"bulk", the books are keys under ns.
// rc stays the caller's to close.
func New(rc *goredis.Client, ns string) *Queue {
	return &Queue{rc: rc, ns: ns, client: asynq.NewClientFromRedisClient(rc), insp: asynq.NewInspectorFromRedisClient(rc)}
}

// Name is the asynq queue of a priority, as asynq's CLI and web UI show it.
func (q *Queue) Name(p Priority) string { return q.ns + string(p) }

func (q *Queue) meta(batch string) string    { return q.ns + "batch:" + batch }
func (q *Queue) cases(batch string) string   { return q.ns + "batch:" + batch + ":cases" }
func (q *Queue) results(batch string) string { return q.ns + "batch:" + batch + ":results" }

// TaskID is the asynq task id of a case.
func TaskID(batch, caseID string) string { return batch + "/" + caseID }

// Batch is what a submitter says about a batch.
type Batch struct {
	ID       string
	Priority Priority
	Store    string        // the output store: where workers write case outputs
	Timeout  time.Duration // per case
	Attempts int           // runs of a failing case before it is archived
}

// Task is a case as a worker receives it.
type Task struct {
	Batch  string          `json:"batch"`
	CaseID string          `json:"case_id"`
	Store  string          `json:"store"`
	Case   json.RawMessage `json:"case"`
}

// Result is the small record kept per case.
type Result struct {
	Status     string `json:"status"`
	Error      string `json:"error,omitempty"`
	Worker     string `json:"worker"`
	Attempt    int    `json:"attempt"` // 1 for the first run
	DurationMS int64  `json:"duration_ms"`
}

// enqueueChunk is how many cases are looked up in one round trip.
const enqueueChunk = 500

// Enqueue submits a batch's cases (id -> JSON payload) in order, once:
// cases submitted by an earlier run are not added again, so re-running the
// submitter resumes. It returns how many were added.
func (q *Queue) Enqueue(ctx context.Context, b Batch, order []string, payloads map[string][]byte) (int, error) {
	if b.Priority == "" {
		b.Priority = Bulk
	}
	if err := q.rc.HSet(ctx, q.meta(b.ID), "queue", q.Name(b.Priority), "store", b.Store).Err(); err != nil {
		return 0, fmt.Errorf("queue: enqueue %s: %w", b.ID, err)
	}
	opts := []asynq.Option{asynq.Queue(q.Name(b.Priority)), asynq.MaxRetry(max(b.Attempts-1, 0))}
	if b.Timeout > 0 {
		opts = append(opts, asynq.Timeout(b.Timeout))
	}
	added := 0
	for start := 0; start < len(order); start += enqueueChunk {
		ids := order[start:min(start+enqueueChunk, len(order))]
		known, err := q.rc.HMGet(ctx, q.cases(b.ID), ids...).Result()
		if err != nil {
			return added, fmt.Errorf("queue: enqueue %s: %w", b.ID, err)
		}
		var fresh []any
		for i, id := range ids {
			if known[i] != nil {
				continue // submitted by an earlier run
			}
			payload, err := json.Marshal(Task{Batch: b.ID, CaseID: id, Store: b.Store, Case: payloads[id]})
			if err != nil {
				return added, fmt.Errorf("queue: enqueue %s: %w", id, err)
			}
			t := asynq.NewTask(TaskType, payload, append(opts, asynq.TaskID(TaskID(b.ID, id)))...)
			_, err = q.client.EnqueueContext(ctx, t)
			if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
				return added, fmt.Errorf("queue: enqueue %s: %w", id, err)
			}
			if err == nil {
				added++
			}
			fresh = append(fresh, id, "1")
		}
		if len(fresh) > 0 {
			if err := q.rc.HSet(ctx, q.cases(b.ID), fresh...).Err(); err != nil {
				return added, fmt.Errorf("queue: enqueue %s: %w", b.ID, err)
			}
		}
	}
	return added, nil
}

// Record stores a case's result, once: it reports false when the case
// already had one (a second run of a finished case changes nothing).
func (q *Queue) Record(ctx context.Context, batch, caseID string, r Result) (bool, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	ok, err := q.rc.HSetNX(ctx, q.results(batch), caseID, data).Result()
	if err != nil {
		return false, fmt.Errorf("queue: record %s: %w", caseID, err)
	}
	return ok, nil
}

// Recorded reports whether a case has its result.
func (q *Queue) Recorded(ctx context.Context, batch, caseID string) (bool, error) {
	ok, err := q.rc.HExists(ctx, q.results(batch), caseID).Result()
	if err != nil {
		return false, fmt.Errorf("queue: result of %s: %w", caseID, err)
	}
	return ok, nil
}

// Results reads every result of a batch.
func (q *Queue) Results(ctx context.Context, batch string) (map[string]Result, error) {
	raw, err := q.rc.HGetAll(ctx, q.results(batch)).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: results of %s: %w", batch, err)
	}
	out := make(map[string]Result, len(raw))
	for id, v := range raw {
		var r Result
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("queue: result of %s: %w", id, err)
		}
		out[id] = r
	}
	return out, nil
}

// Progress counts a batch's cases: submitted and finished.
func (q *Queue) Progress(ctx context.Context, batch string) (total, finished int64, err error) {
	if total, err = q.rc.HLen(ctx, q.cases(batch)).Result(); err != nil {
		return 0, 0, fmt.Errorf("queue: progress of %s: %w", batch, err)
	}
	if finished, err = q.rc.HLen(ctx, q.results(batch)).Result(); err != nil {
		return 0, 0, fmt.Errorf("queue: progress of %s: %w", batch, err)
	}
	return total, finished, nil
}

// Final reads a batch's results, with the cases asynq archived itself (their
// workers kept dying: no result was recorded) as failed with asynq's error.
func (q *Queue) Final(ctx context.Context, batch string) (map[string]Result, error) {
	results, err := q.Results(ctx, batch)
	if err != nil {
		return nil, err
	}
	dead, err := q.Archived(ctx, batch)
	if err != nil {
		return nil, err
	}
	for id, why := range dead {
		if _, ok := results[id]; !ok {
			results[id] = Result{Status: "failed", Error: "archived by the queue: " + why}
		}
	}
	return results, nil
}

// Settled counts a batch's cases that will not run again: those with a
// result, and those asynq archived without one.
func (q *Queue) Settled(ctx context.Context, batch string) (int64, error) {
	total, finished, err := q.Progress(ctx, batch)
	if err != nil || finished >= total {
		return finished, err
	}
	name, err := q.rc.HGet(ctx, q.meta(batch), "queue").Result()
	if err != nil {
		return 0, fmt.Errorf("queue: progress of %s: %w", batch, err)
	}
	info, err := q.queueInfo(name)
	if err != nil || info == nil || info.Archived == 0 {
		return finished, err
	}
	final, err := q.Final(ctx, batch)
	return int64(len(final)), err
}

// Status is a batch's progress with what asynq's Inspector says of its queue.
type Status struct {
	Queue           string
	Total, Finished int64
	Failed          int64
	// The batch's queue as a whole (every batch in it): asynq's counts.
	Pending, Active, Retry, Archived int
	// Holding lists the workers running a case of this batch, as
	// "host:pid case".
	Holding []string
}

// Status reports a batch's progress: its books, its queue's counts and the
// workers that hold its cases (asynq.Inspector).
func (q *Queue) Status(ctx context.Context, batch string) (Status, error) {
	var s Status
	var err error
	if s.Total, s.Finished, err = q.Progress(ctx, batch); err != nil {
		return s, err
	}
	if s.Total == 0 {
		return s, fmt.Errorf("queue: no batch %q here: check --batch-id and --queue", batch)
	}
	s.Queue, err = q.rc.HGet(ctx, q.meta(batch), "queue").Result()
	if err != nil {
		return s, fmt.Errorf("queue: status of %s: %w", batch, err)
	}
	results, err := q.Results(ctx, batch)
	if err != nil {
		return s, err
	}
	for _, r := range results {
		if r.Status == "failed" {
			s.Failed++
		}
	}
	info, err := q.queueInfo(s.Queue)
	if err != nil {
		return s, err
	}
	if info != nil {
		s.Pending, s.Active, s.Retry, s.Archived = info.Pending, info.Active, info.Retry, info.Archived
	}
	servers, err := q.insp.Servers()
	if err != nil {
		return s, fmt.Errorf("queue: inspect servers: %w", err)
	}
	for _, srv := range servers {
		for _, w := range srv.ActiveWorkers {
			if c, ok := strings.CutPrefix(w.TaskID, batch+"/"); ok && w.Queue == s.Queue {
				s.Holding = append(s.Holding, fmt.Sprintf("%s:%d %s", srv.Host, srv.PID, c))
			}
		}
	}
	return s, nil
}

// Active lists the cases of a batch that a worker holds now (asynq's active
// list, which a case enters the moment a worker takes it).
func (q *Queue) Active(ctx context.Context, batch string) ([]string, error) {
	name, err := q.rc.HGet(ctx, q.meta(batch), "queue").Result()
	if err != nil {
		return nil, fmt.Errorf("queue: active cases of %s: %w", batch, err)
	}
	tasks, err := q.insp.ListActiveTasks(name, asynq.PageSize(1000))
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		return nil, fmt.Errorf("queue: active cases of %s: %w", batch, err)
	}
	var ids []string
	for _, t := range tasks {
		if c, ok := strings.CutPrefix(t.ID, batch+"/"); ok {
			ids = append(ids, c)
		}
	}
	return ids, nil
}

// Idle reports whether no queue of the namespace has a case waiting, held
// or due for a retry.
func (q *Queue) Idle(ctx context.Context) (bool, error) {
	for _, p := range Priorities {
		info, err := q.queueInfo(q.Name(p))
		if err != nil {
			return false, err
		}
		if info != nil && info.Pending+info.Active+info.Scheduled+info.Retry+info.Aggregating > 0 {
			return false, nil
		}
	}
	return true, nil
}

// queueInfo is asynq's view of a queue, nil when it has never had a task.
func (q *Queue) queueInfo(name string) (*asynq.QueueInfo, error) {
	names, err := q.insp.Queues()
	if err != nil {
		return nil, fmt.Errorf("queue: inspect: %w", err)
	}
	if !slices.Contains(names, name) {
		return nil, nil
	}
	info, err := q.insp.GetQueueInfo(name)
	if err != nil {
		return nil, fmt.Errorf("queue: inspect %s: %w", name, err)
	}
	return info, nil
}

// Archived lists the batch's archived cases with the error of their last run.
func (q *Queue) Archived(ctx context.Context, batch string) (map[string]string, error) {
	name, err := q.rc.HGet(ctx, q.meta(batch), "queue").Result()
	if err != nil {
		return nil, fmt.Errorf("queue: archived cases of %s: %w", batch, err)
	}
	out := map[string]string{}
	for page := 1; ; page++ {
		tasks, err := q.insp.ListArchivedTasks(name, asynq.PageSize(1000), asynq.Page(page))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("queue: archived cases of %s: %w", batch, err)
		}
		for _, t := range tasks {
			if c, ok := strings.CutPrefix(t.ID, batch+"/"); ok {
				out[c] = t.LastErr
			}
		}
		if len(tasks) < 1000 {
			return out, nil
		}
	}
}

// Drop deletes the namespace's queues, every task and counter in them,
// and the books (tests, and starting over).
func (q *Queue) Drop(ctx context.Context) error {
	for _, p := range Priorities {
		if err := q.insp.DeleteQueue(q.Name(p), true); err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			return fmt.Errorf("queue: drop %s: %w", q.Name(p), err)
		}
		// asynq keeps its daily counters after DeleteQueue.
		if err := q.deleteMatching(ctx, "asynq:{"+q.Name(p)+"}:*"); err != nil {
			return err
		}
	}
	return q.deleteMatching(ctx, q.ns+"batch:*")
}

func (q *Queue) deleteMatching(ctx context.Context, pattern string) error {
	iter := q.rc.Scan(ctx, 0, pattern, 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("queue: drop %s: %w", pattern, err)
	}
	if len(keys) > 0 {
		if err := q.rc.Del(ctx, keys...).Err(); err != nil {
			return fmt.Errorf("queue: drop %s: %w", pattern, err)
		}
	}
	return nil
}
