package queue

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/flowtrace/flowtrace/cache/redistest"
)

// newQueue gives a test its own namespace (asynq queues and books) in a
// real Redis, dropped when the test ends.
func newQueue(t *testing.T) *Queue {
	t.Helper()
	u, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	ns := u.Query().Get("prefix")
	u.RawQuery = ""
	opts, err := goredis.ParseURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	q := New(c, ns)
	t.Cleanup(func() {
		if err := q.Drop(context.Background()); err != nil {
			t.Error(err)
		}
		c.Close()
	})
	return q
}

func enqueue(t *testing.T, q *Queue, b Batch, n int) []string {
	t.Helper()
	payloads := map[string][]byte{}
	var order []string
	for i := range n {
		id := fmt.Sprintf("c%03d", i)
		payloads[id] = []byte(`{"id":"` + id + `"}`)
		order = append(order, id)
	}
	added, err := q.Enqueue(context.Background(), b, order, payloads)
	if err != nil || added != n {
		t.Fatalf("enqueue: %d added, %v", added, err)
	}
	return order
}

// serve runs a worker until the queues are empty.
func serve(t *testing.T, q *Queue, name string, concurrency int, work Work) {
	t.Helper()
	cfg := WorkerConfig{Name: name, Concurrency: concurrency, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond,
		ExitWhenIdle: true, IdleCheck: 20 * time.Millisecond, ShutdownTimeout: time.Minute}
	if err := q.Serve(context.Background(), cfg, work); err != nil {
		t.Error(err)
	}
}

func TestWorkersShareABatchExactlyOnce(t *testing.T) {
	q := newQueue(t)
	ctx := context.Background()
	b := Batch{ID: "b1", Store: "/shared/out", Attempts: 3}
	order := enqueue(t, q, b, 30)
	// A resubmit adds nothing: neither the waiting cases nor, later, the finished ones.
	if again, err := q.Enqueue(ctx, b, order, map[string][]byte{}); err != nil || again != 0 {
		t.Fatalf("re-enqueue added %d (%v), want 0", again, err)
	}
	var mu sync.Mutex
	runs := map[string]int{}
	work := func(_ context.Context, task Task, attempt int) (Result, bool) {
		mu.Lock()
		defer mu.Unlock()
		runs[task.CaseID]++
		if string(task.Case) != `{"id":"`+task.CaseID+`"}` || task.Store != "/shared/out" || attempt != 1 {
			t.Errorf("task = %+v, attempt %d", task, attempt)
		}
		return Result{Status: "done"}, false
	}
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() { serve(t, q, fmt.Sprintf("w%d", w), 2, work) })
	}
	wg.Wait()
	for _, id := range order {
		if runs[id] != 1 {
			t.Errorf("case %s ran %d times", id, runs[id])
		}
	}
	res, err := q.Results(ctx, "b1")
	if err != nil || len(res) != 30 || res["c007"].Status != "done" || !strings.HasPrefix(res["c007"].Worker, "w") {
		t.Fatalf("%d results (%v), c007 = %+v", len(res), err, res["c007"])
	}
	if again, err := q.Enqueue(ctx, b, order, map[string][]byte{}); err != nil || again != 0 {
		t.Fatalf("re-enqueue of a finished batch added %d (%v), want 0", again, err)
	}
	st, err := q.Status(ctx, "b1")
	if err != nil || st.Total != 30 || st.Finished != 30 || st.Pending != 0 || st.Active != 0 || st.Queue != q.Name(Bulk) {
		t.Errorf("status = %+v (%v)", st, err)
	}
	// A case whose result is recorded is not run again (its worker died after recording it).
	if ok, err := q.Record(ctx, "b1", "c007", Result{Status: "failed"}); ok || err != nil {
		t.Errorf("a second record of c007 was taken (%v, %v)", ok, err)
	}
}

func TestFailingCaseIsRetriedThenArchivedWithItsError(t *testing.T) {
	q := newQueue(t)
	ctx := context.Background()
	enqueue(t, q, Batch{ID: "b2", Attempts: 3}, 1)
	enqueue(t, q, Batch{ID: "b3", Attempts: 3}, 1)
	// A task no worker can read is archived by asynq with no result record.
	torn := asynq.NewTask(TaskType, []byte("{"), asynq.TaskID(TaskID("b2", "torn")), asynq.Queue(q.Name(Bulk)))
	if _, err := q.client.EnqueueContext(ctx, torn); err != nil {
		t.Fatal(err)
	}
	if err := q.rc.HSet(ctx, q.cases("b2"), "torn", "1").Err(); err != nil {
		t.Fatal(err)
	}
	var attempts []int
	serve(t, q, "w", 1, func(_ context.Context, task Task, attempt int) (Result, bool) {
		if task.Batch == "b3" {
			return Result{Status: "failed", Error: "bad seed"}, true // permanent: not retried
		}
		attempts = append(attempts, attempt)
		return Result{Status: "failed", Error: fmt.Sprintf("node down (attempt %d)", attempt)}, false
	})
	if fmt.Sprint(attempts) != "[1 2 3]" {
		t.Errorf("attempts = %v, want [1 2 3]", attempts)
	}
	for batch, want := range map[string]string{"b2": "node down (attempt 3)", "b3": "bad seed"} {
		res, err := q.Results(ctx, batch)
		if err != nil || res["c000"].Status != "failed" || res["c000"].Error != want {
			t.Errorf("%s: result %+v (%v), want failed with %q", batch, res["c000"], err, want)
		}
		dead, err := q.Archived(ctx, batch)
		if err != nil || !strings.Contains(dead["c000"], want) {
			t.Errorf("%s: archived = %v (%v), want c000 with %q", batch, dead, err, want)
		}
	}
	if n, err := q.Settled(ctx, "b2"); err != nil || n != 2 {
		t.Errorf("settled = %d (%v), want 2: a result and an archived case without one", n, err)
	}
	final, err := q.Final(ctx, "b2")
	if err != nil || final["torn"].Status != "failed" || !strings.Contains(final["torn"].Error, "archived by the queue: unreadable case task") {
		t.Errorf("final = %+v (%v)", final, err)
	}
	if res, _ := q.Results(ctx, "b3"); res["c000"].Attempt != 1 {
		t.Errorf("a permanent failure was retried: %+v", res["c000"])
	}
}

func TestInteractiveCasesGoFirst(t *testing.T) {
	q := newQueue(t)
	enqueue(t, q, Batch{ID: "bulk", Priority: Bulk}, 5)
	enqueue(t, q, Batch{ID: "urgent", Priority: Interactive}, 3)
	var order []string
	serve(t, q, "w", 1, func(_ context.Context, task Task, _ int) (Result, bool) {
		order = append(order, task.Batch)
		return Result{Status: "done"}, false
	})
	if got := strings.Join(order, " "); got != "urgent urgent urgent bulk bulk bulk bulk bulk" {
		t.Errorf("order = %s", got)
	}
}

func TestTimedOutCaseIsRecordedFailed(t *testing.T) {
	q := newQueue(t)
	enqueue(t, q, Batch{ID: "slow", Attempts: 1, Timeout: time.Second}, 1) // asynq counts whole seconds
	serve(t, q, "w", 1, func(ctx context.Context, _ Task, _ int) (Result, bool) {
		<-ctx.Done() // the per-case deadline, not a sleep
		return Result{Status: "failed", Error: ctx.Err().Error()}, false
	})
	res, err := q.Results(context.Background(), "slow")
	if err != nil || res["c000"].Status != "failed" || !strings.Contains(res["c000"].Error, "timed out") {
		t.Errorf("result = %+v (%v)", res["c000"], err)
	}
}
