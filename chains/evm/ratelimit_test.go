package evm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/rpcfault"
	"github.com/flowtrace/flowtrace/fixtures/synthnode"
	"github.com/flowtrace/flowtrace/tracer"
)

// rateRun records what a Source waited through its hooks, on a frozen
// clock: the learned limiters' waits per method and the retries' backoffs.
type rateRun struct {
	s        *Source
	mu       sync.Mutex
	limited  map[string][]time.Duration
	backoffs []time.Duration
}

func startRateRun(t *testing.T, class rpcfault.Class, rate float64, retryAfter time.Duration) *rateRun {
	t.Helper()
	g := synthnode.Generate(synthnode.Config{Seed: 3, Addresses: 20, Hops: 2})
	node, err := synthnode.Start(g, synthnode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	p, err := rpcfault.Start(rpcfault.Options{Upstream: node.URL(), Classes: []rpcfault.Class{class}, MaxRate: rate, RetryAfter: retryAfter})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	s, err := Dial(context.Background(), p.URL(), Options{Chain: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	r := &rateRun{s: s, limited: map[string][]time.Duration{}}
	frozen := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	s.c.clock = func() time.Time { return frozen }
	s.c.backoffBase, s.c.backoffMax = time.Millisecond, time.Millisecond
	s.c.rateWait = func(_ context.Context, method string, d time.Duration) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.limited[method] = append(r.limited[method], d)
		return nil
	}
	s.c.wait = func(_ context.Context, d time.Duration) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.backoffs = append(r.backoffs, d)
		return nil
	}
	return r
}

// call sends one call of method, n times in a row.
func (r *rateRun) call(t *testing.T, method string, n int) {
	t.Helper()
	for range n {
		var out string
		if err := r.s.c.batch(context.Background(), []rpc.BatchElem{{Method: method, Result: &out}}); err != nil {
			t.Fatal(err)
		}
	}
}

// learned is the rate learned for method, 0 for none.
func (r *rateRun) learned(method string) float64 {
	ep := r.s.c.eps[0]
	ep.learnMu.Lock()
	defer ep.learnMu.Unlock()
	if lim := ep.learned[method]; lim != nil {
		return float64(lim.Limit())
	}
	return 0
}

// A rate stated in a refusal limits the refused method for the rest of the
// trace: its calls wait for their turn at that rate (a second's worth in a
// burst), other methods keep their own; a stated wait is waited before the
// retry; a refusal stating no request rate (or one in credits) is backed
// off only.
func TestLearnedRate(t *testing.T) {
	steps := func(n int, step time.Duration) []time.Duration {
		var out []time.Duration
		for i := 1; i <= n; i++ {
			out = append(out, time.Duration(i)*step)
		}
		return out
	}
	for _, tt := range []struct {
		class rpcfault.Class
		rate  float64       // learned
		wait  time.Duration // the retry's wait
	}{
		{"provider-quicknode-rps", 4, time.Millisecond},
		{"provider-infura-rate", 4, 7 * time.Second},  // in the data of an HTTP 429
		{"provider-infura-daily", 4, 7 * time.Second}, // the same, nested
		{"provider-chainstack-rps", 0, time.Millisecond},
		{"provider-quicknode-credits", 0, time.Millisecond},
		{"provider-alchemy-cups", 0, time.Millisecond},
	} {
		t.Run(string(tt.class), func(t *testing.T) {
			r := startRateRun(t, tt.class, 4, 7*time.Second)
			// The first call is refused once, then ten calls in a row.
			r.call(t, "eth_blockNumber", 10)
			if got := r.learned("eth_blockNumber"); got != tt.rate {
				t.Fatalf("learned %v requests per second for eth_blockNumber, want %v", got, tt.rate)
			}
			if len(r.backoffs) != 1 || r.backoffs[0] > tt.wait || r.backoffs[0] < tt.wait/2 {
				t.Errorf("backoffs %v, want one of (%v/2, %v]", r.backoffs, tt.wait, tt.wait)
			}
			var want []time.Duration
			if tt.rate > 0 {
				// The retry of the first and the next three take the burst
				// of 4; the six after wait 250 ms more each.
				want = steps(6, 250*time.Millisecond)
			}
			if got := r.limited["eth_blockNumber"]; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("eth_blockNumber waited %v, want %v", got, want)
			}
			// Another method learns its own limit from its own refusal.
			r.call(t, "eth_chainId", 2)
			if got := r.learned("eth_chainId"); got != tt.rate {
				t.Errorf("learned %v requests per second for eth_chainId, want %v", got, tt.rate)
			}
			if got := r.limited["eth_chainId"]; len(got) != 0 {
				t.Errorf("eth_chainId waited %v within its burst", got)
			}
		})
	}
}

// A refused batch teaches the rate to each method in it: as an array of
// errors (HTTP 200) or as an HTTP 429 whose body holds them.
func TestLearnedRateBatch(t *testing.T) {
	for _, class := range []rpcfault.Class{"provider-quicknode-rps", "provider-infura-daily"} {
		t.Run(string(class), func(t *testing.T) {
			r := startRateRun(t, class, 2.5, time.Second)
			var a, b string
			elems := []rpc.BatchElem{{Method: "eth_blockNumber", Result: &a}, {Method: "eth_chainId", Result: &b}}
			if err := r.s.c.batch(context.Background(), elems); err != nil || elems[0].Error != nil || elems[1].Error != nil {
				t.Fatalf("batch: %v, %v, %v", err, elems[0].Error, elems[1].Error)
			}
			for _, m := range []string{"eth_blockNumber", "eth_chainId"} {
				if got := r.learned(m); got != 2.5 {
					t.Errorf("learned %v requests per second for %s, want 2.5", got, m)
				}
			}
		})
	}
}

// One rate-limit error for a whole batch is no batch refusal: the batch
// size stays, the batch is retried.
func TestBatchRateLimited(t *testing.T) {
	body := `{"jsonrpc":"2.0","id":null,"error":{"code":-32005,"message":"daily request count exceeded, request rate limited","data":{"rate":{"allowed_rps":10,"backoff_seconds":30,"current_rps":25.3},"see":"https://infura.io/dashboard"}}}`
	err := refusedBatch(200, []byte(body), []string{"1", "2"}, true)
	var br *errBatchRateLimited
	if !errors.As(err, &br) || !transient(err) || !errors.Is(mapErr(err), tracer.ErrRateLimited) {
		t.Fatalf("refusedBatch = %v; want a transient rate limit", err)
	}
	l, ok := statedRate(err)
	if !ok || l.Rate != 10 || l.Wait != 30*time.Second {
		t.Errorf("stated %+v, %v; want 10 per second, wait 30s", l, ok)
	}
	if refused, _ := batchRefused(nil, err); refused {
		t.Error("read as a batch refusal")
	}
}
