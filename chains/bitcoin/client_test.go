package bitcoin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flowtrace/flowtrace/tracer"
)

// fakeNode answers getblockhash h with "hash-h" in JSON-RPC 1.0; refuse
// sets how it treats batch arrays.
type fakeNode struct {
	refuseBatch bool
	reverse     bool         // batch answers in reverse order
	warmups     atomic.Int64 // answers -28 this many times first
	batches     atomic.Int64
	singles     atomic.Int64
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cretPass" {
		http.Error(w, "", http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	answer := func(raw json.RawMessage) map[string]any {
		var q struct {
			ID     json.RawMessage
			Method string
			Params []json.Number
		}
		json.Unmarshal(raw, &q)
		if f.warmups.Add(-1) >= 0 {
			return map[string]any{"id": q.ID, "result": nil, "error": map[string]any{"code": -28, "message": "Loading block index..."}}
		}
		switch q.Method {
		case "getblockhash":
			if q.Params[0] == "999" {
				return map[string]any{"id": q.ID, "result": nil, "error": map[string]any{"code": -8, "message": "Block height out of range"}}
			}
			return map[string]any{"id": q.ID, "result": "hash-" + string(q.Params[0]), "error": nil}
		}
		return map[string]any{"id": q.ID, "result": nil, "error": map[string]any{"code": -32601, "message": "Method not found"}}
	}
	if strings.HasPrefix(strings.TrimSpace(string(body)), "[") {
		f.batches.Add(1)
		if f.refuseBatch {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"result":null,"error":{"code":-32700,"message":"Parse error"},"id":null}`)
			return
		}
		var qs []json.RawMessage
		json.Unmarshal(body, &qs)
		var out []any
		for _, q := range qs {
			out = append(out, answer(q))
		}
		if f.reverse {
			slices.Reverse(out)
		}
		json.NewEncoder(w).Encode(out)
		return
	}
	f.singles.Add(1)
	json.NewEncoder(w).Encode(answer(body))
}

func dialFake(t *testing.T, f *fakeNode, opts Options) *Client {
	t.Helper()
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	c, err := Dial(strings.Replace(ts.URL, "http://", "http://alice:s3cretPass@", 1)+"/", opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBatchesAndFallback(t *testing.T) {
	heights := []int64{1, 2, 3, 4, 5, 6, 7}
	for _, refuse := range []bool{false, true} {
		f := &fakeNode{refuseBatch: refuse}
		c := dialFake(t, f, Options{BatchSize: 3})
		got, err := c.BlockHashes(context.Background(), heights)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range got {
			if want := "hash-" + string(rune('1'+i)); h != want {
				t.Errorf("refuse=%v: hash %d = %q, want %q", refuse, i, h, want)
			}
		}
		if c.Batching() == refuse {
			t.Errorf("refuse=%v: Batching() = %v", refuse, c.Batching())
		}
		if !refuse && (f.batches.Load() != 2 || f.singles.Load() != 1) { // 3 + 3 + 1
			t.Errorf("%d batches and %d single calls for 7 calls in batches of 3", f.batches.Load(), f.singles.Load())
		}
		if refuse && f.singles.Load() != 7 {
			t.Errorf("after a refused batch: %d single calls, want 7", f.singles.Load())
		}
	}
}

// Answers out of the calls' order (JSON-RPC allows it) reach the right calls.
func TestBatchAnswersOutOfOrder(t *testing.T) {
	f := &fakeNode{reverse: true}
	c := dialFake(t, f, Options{BatchSize: 10})
	got, err := c.BlockHashes(context.Background(), []int64{1, 2, 3, 999})
	if err == nil || !errors.Is(err, tracer.ErrNotFound) {
		t.Fatalf("got %v, %v; want the out-of-range call's error", got, err)
	}
	got, err = c.BlockHashes(context.Background(), []int64{1, 2, 3})
	if err != nil || !slices.Equal(got, []string{"hash-1", "hash-2", "hash-3"}) {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestErrorsMappedAndRedacted(t *testing.T) {
	f := &fakeNode{}
	c := dialFake(t, f, Options{Attempts: 2})
	ctx := context.Background()
	_, err := c.BlockHashes(ctx, []int64{999})
	if !errors.Is(err, tracer.ErrNotFound) || !strings.Contains(err.Error(), "getblockhash 999") {
		t.Errorf("out of range: %v, want ErrNotFound naming the method", err)
	}
	if _, err := c.SearchRawTransactions(ctx, "bcrt1qx", 0, 1); !errors.Is(err, tracer.ErrUnsupported) {
		t.Errorf("unknown method: %v, want ErrUnsupported", err)
	}
	bad, err := Dial(strings.Replace(c.endpoint, "http://", "http://alice:wrongPass@", 1), Options{Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.BlockchainInfo(ctx)
	if err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("wrong password: %v", err)
	}
	closed, err := Dial("http://alice:s3cretPass@127.0.0.1:1/path", Options{Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = closed.BlockchainInfo(ctx)
	if err == nil {
		t.Fatal("a closed port answered")
	}
	for _, e := range []error{err} {
		for _, secret := range []string{"alice", "s3cretPass", "wrongPass"} {
			if strings.Contains(e.Error(), secret) {
				t.Errorf("error shows %q: %v", secret, e)
			}
		}
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error does not name the host: %v", err)
	}
	if _, err := Dial("localhost:8332", Options{}); err == nil {
		t.Error("a URL without scheme was accepted")
	}
}

func TestWarmupRetried(t *testing.T) {
	f := &fakeNode{}
	f.warmups.Store(2)
	c := dialFake(t, f, Options{Attempts: 3})
	got, err := c.BlockHashes(context.Background(), []int64{4})
	if err != nil || got[0] != "hash-4" {
		t.Fatalf("after two warm-up answers: %v, %v", got, err)
	}
	f.warmups.Store(5)
	if _, err := c.BlockHashes(context.Background(), []int64{4}); err == nil || !strings.Contains(err.Error(), "Loading block index") {
		t.Errorf("warm-up past the attempts: %v", err)
	}
}
