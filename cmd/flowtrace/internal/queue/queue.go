// Package queue distributes batch cases over Redis: a submitter enqueues
// cases on a Redis Stream, workers on any number of machines consume them
// through one consumer group, store each result in a hash the submitter
// reads back, and acknowledge the case. A case left pending by a worker that
// died is reclaimed by another after a timeout; a case delivered too many
// times goes to a dead-letter list with a failed result.
//
// Results are keyed by case id, so a case run twice (a worker died between
// storing its result and acknowledging it) still appears once.
// The package knows nothing about tracing: a case is an opaque payload.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Queue is a namespace of batches in one Redis.
type Queue struct {
	c  *goredis.Client
	ns string
}

const group = "workers"

// New uses c under the key namespace ns (e.g. "flowtrace:").
func New(c *goredis.Client, ns string) *Queue { return &Queue{c: c, ns: ns} }

func (q *Queue) stream() string              { return q.ns + "queue:cases" }
func (q *Queue) results(batch string) string { return q.ns + "queue:results:" + batch }
func (q *Queue) meta(batch string) string    { return q.ns + "queue:batch:" + batch }
func (q *Queue) dead(batch string) string    { return q.ns + "queue:dead:" + batch }

// Task is one case as a worker receives it.
type Task struct {
	MessageID  string
	Batch      string
	CaseID     string
	Payload    []byte
	Deliveries int64 // how many times it was handed out, this time included
}

// Result is what a worker stores for a case.
type Result struct {
	CaseID string            `json:"case_id"`
	Status string            `json:"status"`
	Error  string            `json:"error,omitempty"`
	Worker string            `json:"worker"`
	Files  map[string][]byte `json:"files,omitempty"` // output file name -> content
}

// Enqueue adds a batch's cases (case id -> payload), once: cases already
// enqueued for this batch are not added again, so re-running the submitter
// resumes instead of duplicating. It returns how many were added.
func (q *Queue) Enqueue(ctx context.Context, batch string, cases map[string][]byte, order []string) (int, error) {
	if err := q.ensureGroup(ctx); err != nil {
		return 0, err
	}
	added := 0
	for _, id := range order {
		ok, err := q.c.HSetNX(ctx, q.meta(batch), "case:"+id, "queued").Result()
		if err != nil {
			return added, fmt.Errorf("queue: enqueue %s: %w", id, err)
		}
		if !ok {
			continue // enqueued by an earlier run
		}
		err = q.c.XAdd(ctx, &goredis.XAddArgs{Stream: q.stream(), Values: map[string]any{
			"batch": batch, "case": id, "payload": cases[id],
		}}).Err()
		if err != nil {
			q.c.HDel(ctx, q.meta(batch), "case:"+id)
			return added, fmt.Errorf("queue: enqueue %s: %w", id, err)
		}
		if err := q.c.HIncrBy(ctx, q.meta(batch), "total", 1).Err(); err != nil {
			return added, fmt.Errorf("queue: enqueue %s: %w", id, err)
		}
		added++
	}
	return added, nil
}

func (q *Queue) ensureGroup(ctx context.Context) error {
	err := q.c.XGroupCreateMkStream(ctx, q.stream(), group, "0").Err()
	if err != nil && !isBusyGroup(err) {
		return fmt.Errorf("queue: create consumer group: %w", err)
	}
	return nil
}

func isBusyGroup(err error) bool {
	var re goredis.Error
	return errors.As(err, &re) && len(re.Error()) >= 9 && re.Error()[:9] == "BUSYGROUP"
}

// Next hands the worker a case: first one left pending longer than
// reclaimAfter by another worker, else a new one, waiting up to block.
// It returns nil when there is none.
func (q *Queue) Next(ctx context.Context, worker string, reclaimAfter, block time.Duration) (*Task, error) {
	if err := q.ensureGroup(ctx); err != nil {
		return nil, err
	}
	msgs, _, err := q.c.XAutoClaim(ctx, &goredis.XAutoClaimArgs{
		Stream: q.stream(), Group: group, Consumer: worker, MinIdle: reclaimAfter, Start: "0-0", Count: 1,
	}).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("queue: reclaim: %w", err)
	}
	if len(msgs) == 0 {
		streams, err := q.c.XReadGroup(ctx, &goredis.XReadGroupArgs{
			Group: group, Consumer: worker, Streams: []string{q.stream(), ">"}, Count: 1, Block: block,
		}).Result()
		if errors.Is(err, goredis.Nil) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("queue: read: %w", err)
		}
		for _, s := range streams {
			msgs = append(msgs, s.Messages...)
		}
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	return q.task(ctx, msgs[0])
}

func (q *Queue) task(ctx context.Context, m goredis.XMessage) (*Task, error) {
	t := &Task{MessageID: m.ID}
	t.Batch, _ = m.Values["batch"].(string)
	t.CaseID, _ = m.Values["case"].(string)
	p, _ := m.Values["payload"].(string)
	t.Payload = []byte(p)
	pend, err := q.c.XPendingExt(ctx, &goredis.XPendingExtArgs{Stream: q.stream(), Group: group, Start: m.ID, End: m.ID, Count: 1}).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: pending %s: %w", m.ID, err)
	}
	if len(pend) == 1 {
		t.Deliveries = pend[0].RetryCount
	}
	return t, nil
}

// Complete stores the task's result and acknowledges it.
func (q *Queue) Complete(ctx context.Context, t *Task, r Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := q.c.HSet(ctx, q.results(t.Batch), t.CaseID, b).Err(); err != nil {
		return fmt.Errorf("queue: store result of %s: %w", t.CaseID, err)
	}
	return q.ack(ctx, t)
}

// DeadLetter gives up on a task delivered too many times: it is listed in
// the dead-letter list and its failed result stored.
func (q *Queue) DeadLetter(ctx context.Context, t *Task, why string) error {
	if err := q.c.LPush(ctx, q.dead(t.Batch), t.CaseID).Err(); err != nil {
		return fmt.Errorf("queue: dead-letter %s: %w", t.CaseID, err)
	}
	return q.Complete(ctx, t, Result{CaseID: t.CaseID, Status: "failed", Error: why})
}

func (q *Queue) ack(ctx context.Context, t *Task) error {
	if err := q.c.XAck(ctx, q.stream(), group, t.MessageID).Err(); err != nil {
		return fmt.Errorf("queue: ack %s: %w", t.CaseID, err)
	}
	return q.c.XDel(ctx, q.stream(), t.MessageID).Err()
}

// Empty reports whether no case of any batch is waiting or in progress
// (finished cases are deleted from the stream).
func (q *Queue) Empty(ctx context.Context) (bool, error) {
	n, err := q.c.XLen(ctx, q.stream()).Result()
	if err != nil {
		return false, fmt.Errorf("queue: %w", err)
	}
	return n == 0, nil
}

// Status is a batch's progress.
type Status struct {
	Total, Finished, Pending, Dead int64
	Workers                        []string
}

// Status reports a batch's progress.
func (q *Queue) Status(ctx context.Context, batch string) (Status, error) {
	var s Status
	total, err := q.c.HGet(ctx, q.meta(batch), "total").Int64()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return s, fmt.Errorf("queue: status: %w", err)
	}
	s.Total = total
	if s.Finished, err = q.c.HLen(ctx, q.results(batch)).Result(); err != nil {
		return s, fmt.Errorf("queue: status: %w", err)
	}
	if s.Dead, err = q.c.LLen(ctx, q.dead(batch)).Result(); err != nil {
		return s, fmt.Errorf("queue: status: %w", err)
	}
	if p, err := q.c.XPending(ctx, q.stream(), group).Result(); err == nil {
		s.Pending = p.Count
		for w := range p.Consumers {
			s.Workers = append(s.Workers, w)
		}
	}
	return s, nil
}

// Results reads every stored result of a batch.
func (q *Queue) Results(ctx context.Context, batch string) (map[string]Result, error) {
	raw, err := q.c.HGetAll(ctx, q.results(batch)).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: results: %w", err)
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
