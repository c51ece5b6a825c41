package rpcreplay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/rpc"
	"github.com/google/go-cmp/cmp"
)

// calcService is served by a real go-ethereum rpc.Server as "calc_*".
type calcService struct{ ticks atomic.Int64 }

func (*calcService) Echo(s string) string { return s }
func (*calcService) Add(a, b int) int     { return a + b }

// Keys echoes an object, so that the order of its keys can be varied.
func (*calcService) Keys(m map[string]any) map[string]any { return m }

// Nothing returns a null result.
func (*calcService) Nothing() *int { return nil }

// Tick answers differently on every call.
func (s *calcService) Tick() int64 { return s.ticks.Add(1) }

// Fail returns a JSON-RPC error with a code and data.
func (*calcService) Fail(code int) error { return &codedError{code: code} }

type codedError struct{ code int }

func (e *codedError) Error() string          { return fmt.Sprintf("failed with %d", e.code) }
func (e *codedError) ErrorCode() int         { return e.code }
func (e *codedError) ErrorData() interface{} { return map[string]int{"code": e.code} }

func startServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := rpc.NewServer()
	if err := srv.RegisterName("calc", new(calcService)); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Stop() })
	return ts
}

func dial(t *testing.T, url string, rt http.RoundTripper, opts ...rpc.ClientOption) *rpc.Client {
	t.Helper()
	opts = append(opts, rpc.WithHTTPClient(&http.Client{Transport: rt}))
	c, err := rpc.DialOptions(context.Background(), url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// outcome is what a caller sees of one call: the result or the error.
type outcome struct {
	Result string
	Err    string
	Code   int
	Data   string
}

func outcomeOf(result any, err error) outcome {
	var o outcome
	if err != nil {
		o.Err = err.Error()
		var re rpc.Error
		if errors.As(err, &re) {
			o.Code = re.ErrorCode()
		}
		var de rpc.DataError
		if errors.As(err, &de) {
			o.Data = fmt.Sprint(de.ErrorData())
		}
		return o
	}
	o.Result = fmt.Sprintf("%v", result)
	return o
}

func call(t *testing.T, c *rpc.Client, method string, args ...any) outcome {
	t.Helper()
	var res any
	err := c.CallContext(context.Background(), &res, method, args...)
	if err != nil && !isRPCError(err) {
		t.Fatalf("%s: %v", method, err)
	}
	return outcomeOf(res, err)
}

func isRPCError(err error) bool {
	var re rpc.Error
	return errors.As(err, &re)
}

// batch makes one batch call and returns each element's outcome.
func batch(t *testing.T, c *rpc.Client, calls [][]any) []outcome {
	t.Helper()
	elems := make([]rpc.BatchElem, len(calls))
	results := make([]any, len(calls))
	for i, cl := range calls {
		elems[i] = rpc.BatchElem{Method: cl[0].(string), Args: cl[1:], Result: &results[i]}
	}
	if err := c.BatchCallContext(context.Background(), elems); err != nil {
		t.Fatal(err)
	}
	out := make([]outcome, len(calls))
	for i, e := range elems {
		out[i] = outcomeOf(results[i], e.Error)
	}
	return out
}

// script is the traffic recorded and replayed by the tests.
var script = [][]any{
	{"calc_echo", "hello"},
	{"calc_add", 2, 3},
	{"calc_keys", map[string]any{"b": 1, "a": "0xABCdef", "c": []int{1, 2}}},
	{"calc_fail", 3},
	{"calc_missing", 1}, // -32601 method not found
	{"calc_nothing"},    // null result
	{"calc_tick"},
	{"calc_tick"},
	{"calc_tick"},
}

// record runs the script against a live server: the first half one call at
// a time, the rest as one batch. It returns the outcomes and the file.
func record(t *testing.T, url string) ([]outcome, []byte) {
	t.Helper()
	rec := NewRecorder(nil)
	c := dial(t, url, rec, rpc.WithHeader("X-Api-Key", "h3aderKey"))
	var got []outcome
	for _, cl := range script[:4] {
		got = append(got, call(t, c, cl[0].(string), cl[1:]...))
	}
	got = append(got, batch(t, c, script[4:])...)
	var buf bytes.Buffer
	if _, err := rec.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return got, buf.Bytes()
}

func TestRecordReplay(t *testing.T) {
	ts := startServer(t)
	live, file := record(t, ts.URL)
	t.Logf("recorded:\n%s", file)
	if live[4].Code != -32601 || live[3].Code != 3 || live[5].Result != "<nil>" || live[6] == live[7] {
		t.Fatalf("live outcomes are not what the test needs: %+v", live)
	}
	if n := strings.Count(string(file), "\n--> "); n != len(script) {
		t.Errorf("file has %d entries, want %d", n, len(script))
	}

	rp, err := NewReplayer(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, "http://replay.invalid", rp)
	// Different split and order (so different ids): part of the recorded
	// batch one call at a time, the single calls in one batch.
	var got [9]outcome
	got[1] = call(t, c, "calc_add", 2, 3)
	got[4] = call(t, c, "calc_missing", 1)
	got[6] = call(t, c, "calc_tick")
	b := batch(t, c, [][]any{script[3], script[2], script[0], script[7], script[5], script[8]})
	got[3], got[2], got[0], got[7], got[5], got[8] = b[0], b[1], b[2], b[3], b[4], b[5]
	if diff := cmp.Diff(live, got[:]); diff != "" {
		t.Errorf("replayed outcomes differ (-live +replay):\n%s", diff)
	}
	// Exhausted: the last entry of a key repeats.
	if again := call(t, c, "calc_tick"); again != live[8] {
		t.Errorf("after the recorded ticks: got %+v, want the last one %+v", again, live[8])
	}
	if u := rp.Unused(); len(u) != 0 {
		t.Errorf("unused after a full replay: %q", u)
	}
}

func TestReplayUnknownAndUnused(t *testing.T) {
	ts := startServer(t)
	_, file := record(t, ts.URL)
	rp, err := NewReplayer(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, "http://replay.invalid", rp)
	var res string
	err = c.CallContext(context.Background(), &res, "calc_echo", "not recorded")
	if !errors.Is(err, ErrNotRecorded) {
		t.Fatalf("unknown call: got %v, want ErrNotRecorded", err)
	}
	for _, want := range []string{"calc_echo", `["not recorded"]`, "make fixtures"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	// A batch holding one unknown call fails and consumes nothing.
	err = c.BatchCallContext(context.Background(), []rpc.BatchElem{
		{Method: "calc_add", Args: []any{2, 3}, Result: new(int)},
		{Method: "calc_add", Args: []any{3, 2}, Result: new(int)},
	})
	if !errors.Is(err, ErrNotRecorded) || !strings.Contains(err.Error(), "calc_add [3,2]") {
		t.Fatalf("batch with an unknown call: got %v", err)
	}
	if got := call(t, c, "calc_echo", "hello"); got.Result != "hello" {
		t.Fatalf("echo: %+v", got)
	}
	unused := rp.Unused()
	if len(unused) != len(script)-1 {
		t.Fatalf("unused: got %d entries, want %d: %q", len(unused), len(script)-1, unused)
	}
	joined := strings.Join(unused, "\n")
	if strings.Contains(joined, "calc_echo") || !strings.Contains(joined, `calc_add [2,3]`) || !strings.HasPrefix(unused[0], "line ") {
		t.Errorf("unused list is wrong:\n%s", joined)
	}
}

func TestParamKeyOrderAndHexCase(t *testing.T) {
	ts := startServer(t)
	_, file := record(t, ts.URL)
	rp, err := NewReplayer(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, "http://replay.invalid", rp)
	// Same object as recorded, keys in another order and hex in another case,
	// sent as raw JSON so that the client cannot sort it.
	var res map[string]any
	raw := []byte(`{"c":[1,2],"a":"0xabcDEF","b":1}`)
	if err := c.CallContext(context.Background(), &res, "calc_keys", rawJSON(raw)); err != nil {
		t.Fatal(err)
	}
	if res["a"] != "0xABCdef" || res["b"] != float64(1) {
		t.Errorf("got %v, want the recorded result", res)
	}
	// Numbers are kept exact: 1.0 is not 1.
	err = c.CallContext(context.Background(), &res, "calc_keys", rawJSON(`{"a":"0xabcdef","b":1.0,"c":[1,2]}`))
	if !errors.Is(err, ErrNotRecorded) {
		t.Errorf("b=1.0: got %v, want ErrNotRecorded", err)
	}
}

type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

func TestSecretsNotRecorded(t *testing.T) {
	ts := startServer(t)
	url := strings.Replace(ts.URL, "http://", "http://us3rInfo:pa55word@", 1) + "/s3cr3tPath?apikey=k3yQuery"
	_, file := record(t, url)
	for _, secret := range []string{"us3rInfo", "pa55word", "s3cr3tPath", "k3yQuery", "h3aderKey", "127.0.0.1", "jsonrpc", `"id"`} {
		if bytes.Contains(file, []byte(secret)) {
			t.Errorf("file contains %q:\n%s", secret, file)
		}
	}
	if !bytes.Contains(file, []byte(`"calc_echo"`)) {
		t.Errorf("file has no calls:\n%s", file)
	}
}

func TestHTTPFailuresNotRecorded(t *testing.T) {
	ts := startServer(t)
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"slow down"}`, http.StatusTooManyRequests)
	}))
	defer fail.Close()
	rec := NewRecorder(nil)
	var res string
	err := dial(t, fail.URL, rec).CallContext(context.Background(), &res, "calc_echo", "x")
	var he rpc.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 429 {
		t.Fatalf("got %v, want HTTP 429", err)
	}
	err = dial(t, "http://127.0.0.1:1", rec).CallContext(context.Background(), &res, "calc_echo", "x")
	if err == nil {
		t.Fatal("call to a closed port succeeded")
	}
	if rec.Len() != 0 {
		t.Fatalf("failures were recorded: %d entries", rec.Len())
	}
	// A batch too large for the server is answered with -32600 per element:
	// an exchange failure, not recorded.
	srv := rpc.NewServer()
	srv.SetBatchLimits(1, 1<<20)
	srv.RegisterName("calc", new(calcService))
	small := httptest.NewServer(srv)
	defer small.Close()
	batch := []rpc.BatchElem{{Method: "calc_add", Args: []any{1, 1}, Result: new(int)}, {Method: "calc_add", Args: []any{1, 2}, Result: new(int)}}
	if err := dial(t, small.URL, rec).BatchCallContext(context.Background(), batch); err != nil {
		t.Logf("batch too large: %v", err)
	}
	if rec.Len() != 0 {
		var b bytes.Buffer
		rec.WriteTo(&b)
		t.Fatalf("batch-too-large answers were recorded:\n%s", b.String())
	}
	_ = ts
}

// TestDeterministic records the same calls twice, in another order and
// concurrently, and compares the saved bytes.
func TestDeterministic(t *testing.T) {
	ts := startServer(t)
	calls := [][]any{{"calc_echo", "a"}, {"calc_add", 1, 2}, {"calc_fail", 7}, {"calc_missing"}, {"calc_echo", "b"}}
	save := func(reverse bool, concurrent bool) []byte {
		rec := NewRecorder(nil)
		c := dial(t, ts.URL, rec)
		var wg sync.WaitGroup
		for i := range calls {
			cl := calls[i]
			if reverse {
				cl = calls[len(calls)-1-i]
			}
			for range 3 { // repeats are stored once
				wg.Go(func() { call(t, c, cl[0].(string), cl[1:]...) })
				if !concurrent {
					wg.Wait()
				}
			}
		}
		wg.Wait()
		path := filepath.Join(t.TempDir(), "rpc.replay")
		if err := rec.Save(path); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := save(false, false), save(true, true)
	if diff := cmp.Diff(string(a), string(b)); diff != "" {
		t.Errorf("recordings differ:\n%s", diff)
	}
	if n := strings.Count(string(a), "\n--> "); n != len(calls) {
		t.Errorf("file has %d entries, want %d:\n%s", n, len(calls), a)
	}
	rp, err := LoadReplayer(filepath.Join(t.TempDir(), "missing.replay"))
	if err == nil || rp != nil {
		t.Error("LoadReplayer of a missing file succeeded")
	}
}

// TestConcurrentReplay replays from many goroutines, batched and not.
func TestConcurrentReplay(t *testing.T) {
	ts := startServer(t)
	rec := NewRecorder(nil)
	live := dial(t, ts.URL, rec)
	want := make(map[int]outcome)
	for i := range 50 {
		want[i] = call(t, live, "calc_add", i, i)
	}
	var buf bytes.Buffer
	rec.WriteTo(&buf)
	rp, err := NewReplayer(&buf)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, "http://replay.invalid", rp)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if (i+g)%2 == 0 {
					if got := call(t, c, "calc_add", i, i); got != want[i] {
						t.Errorf("call %d: got %+v, want %+v", i, got, want[i])
					}
					continue
				}
				if got := batch(t, c, [][]any{{"calc_add", i, i}, {"calc_add", 0, 0}}); got[0] != want[i] || got[1] != want[0] {
					t.Errorf("batch %d: got %+v", i, got)
				}
			}
		})
	}
	wg.Wait()
	if u := rp.Unused(); len(u) != 0 {
		t.Errorf("unused: %q", u)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "line 1: empty file"},
		{"--> {}\n", "line 1: not a replay file"},
		{Header + "\n--> {\"method\":\"a\"}\n", "line 2: request has no response"},
		{Header + "\n\n<-- {\"result\":1}\n", "line 3: response without a request"},
		{Header + "\n--> {\"method\":\"a\"}\n--> {\"method\":\"b\"}\n", "line 3: request on line 2 has no response"},
		{Header + "\n--> {\"method\":\"a\",\"params\":[1}\n<-- {\"result\":1}\n", "line 2: request"},
		{Header + "\n--> {\"params\":[]}\n<-- {\"result\":1}\n", "line 2: request: no method"},
		{Header + "\n--> {\"method\":\"a\"}\n<-- {\"result\":1,\"error\":{\"code\":1,\"message\":\"x\"}}\n", "line 3: response: want exactly one"},
		{Header + "\n--> {\"method\":\"a\"}\n<-- {\"error\":{\"message\":\"x\"}}\n", "line 3: response: error without a code"},
		{Header + "\n--> {\"method\":\"a\"}\n<-- {\"result\":1} x\n", "line 3: response: trailing data"},
		{Header + "\nhello\n", "line 2: want"},
	} {
		_, err := NewReplayer(strings.NewReader(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("parse %q: got error %v, want prefix %q", tc.in, err, tc.want)
		}
	}
	// Comments, blank lines, CRLF and absent params are accepted.
	in := Header + "\r\n// note\r\n\r\n--> {\"method\":\"a\"}\r\n<-- {\"result\":null}\r\n"
	rp, err := NewReplayer(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if u := rp.Unused(); len(u) != 1 || u[0] != "line 4: a []" {
		t.Errorf("unused: %q", u)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(Header + "\n--> {\"method\":\"m\",\"params\":[{\"b\":\"0xAB\",\"a\":1.50}]}\n<-- {\"error\":{\"code\":-32601,\"message\":\"x\",\"data\":{ }}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		first, err := parse(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error does not name the line: %v", err)
			}
			return
		}
		// What parses renders and parses back to the same entries.
		render := func(fe []*fileEntry) []byte {
			entries := make([]entry, len(fe))
			for i, e := range fe {
				entries[i] = e.entry
			}
			var b bytes.Buffer
			writeEntries(&b, entries)
			return b.Bytes()
		}
		out := render(first)
		second, err := parse(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("rendered file does not parse: %v\n%s", err, out)
		}
		if again := render(second); !bytes.Equal(out, again) {
			t.Fatalf("render is not stable:\n%s\n%s", out, again)
		}
	})
}
