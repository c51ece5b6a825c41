package queue

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/flowtrace/flowtrace/cache/redistest"
)

// newQueue gives a test its own namespace in a real Redis.
func newQueue(t *testing.T) *Queue {
	t.Helper()
	raw := redistest.URL(t)
	u, err := url.Parse(raw)
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
	t.Cleanup(func() { c.Close() })
	return New(c, ns)
}

func enqueue(t *testing.T, q *Queue, batch string, n int) []string {
	t.Helper()
	cases := map[string][]byte{}
	var order []string
	for i := range n {
		id := fmt.Sprintf("c%03d", i)
		cases[id] = []byte(`{"id":"` + id + `"}`)
		order = append(order, id)
	}
	added, err := q.Enqueue(context.Background(), batch, cases, order)
	if err != nil || added != n {
		t.Fatalf("enqueue: %d added, %v", added, err)
	}
	return order
}

func TestWorkersShareABatchExactlyOnce(t *testing.T) {
	q := newQueue(t)
	ctx := context.Background()
	order := enqueue(t, q, "b1", 30)
	if again, err := q.Enqueue(ctx, "b1", map[string][]byte{"c000": nil}, order[:1]); err != nil || again != 0 {
		t.Fatalf("re-enqueue added %d (%v), want 0", again, err)
	}
	var wg sync.WaitGroup
	seen := sync.Map{}
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("w%d", w)
			for {
				task, err := q.Next(ctx, name, time.Minute, 50*time.Millisecond)
				if err != nil {
					t.Error(err)
					return
				}
				if task == nil {
					return
				}
				if _, dup := seen.LoadOrStore(task.CaseID, name); dup {
					t.Errorf("%s handed out twice", task.CaseID)
				}
				if string(task.Payload) != `{"id":"`+task.CaseID+`"}` || task.Deliveries != 1 {
					t.Errorf("task = %+v", task)
				}
				if err := q.Complete(ctx, task, Result{CaseID: task.CaseID, Status: "done", Worker: name}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	res, err := q.Results(ctx, "b1")
	if err != nil || len(res) != 30 {
		t.Fatalf("%d results (%v), want 30", len(res), err)
	}
	st, err := q.Status(ctx, "b1")
	if err != nil || st.Total != 30 || st.Finished != 30 || st.Pending != 0 {
		t.Errorf("status = %+v (%v)", st, err)
	}
}

func TestDeadWorkersCasesAreReclaimedThenDeadLettered(t *testing.T) {
	q := newQueue(t)
	ctx := context.Background()
	enqueue(t, q, "b2", 1)
	// Redis measures how long a case has been pending. No sleep stands in for
	// the wait: a case pending for less than an hour is not reclaimed by a
	// worker that waits an hour, and is by one that waits zero.
	const hour, zero = time.Hour, time.Duration(0)
	first, err := q.Next(ctx, "doomed", hour, 10*time.Millisecond)
	if err != nil || first == nil {
		t.Fatalf("first delivery: %v %v", first, err)
	}
	// "doomed" dies without completing. Before the timeout nobody else gets it.
	if again, err := q.Next(ctx, "rescuer", hour, 10*time.Millisecond); err != nil || again != nil {
		t.Fatalf("the case was handed out again before the timeout: %+v %v", again, err)
	}
	second, err := q.Next(ctx, "rescuer", zero, 10*time.Millisecond)
	if err != nil || second == nil || second.CaseID != first.CaseID || second.Deliveries != 2 {
		t.Fatalf("reclaim: %+v %v; want the same case, delivery 2", second, err)
	}
	if err := q.DeadLetter(ctx, second, "failed twice"); err != nil {
		t.Fatal(err)
	}
	st, _ := q.Status(ctx, "b2")
	res, _ := q.Results(ctx, "b2")
	if st.Dead != 1 || st.Pending != 0 || res[first.CaseID].Status != "failed" {
		t.Errorf("status %+v, result %+v", st, res[first.CaseID])
	}
}
