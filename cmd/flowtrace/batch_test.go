package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/cache/redis"
	"github.com/flowtrace/flowtrace/cache/redistest"
	"github.com/flowtrace/flowtrace/cmd/flowtrace/internal/queue"
	"github.com/flowtrace/flowtrace/fixtures/scenario"
)

// scenarioCases writes a case file with one case per address that received
// stolen value in the scenario (plus the exploiter), and returns its path
// and the number of cases. They share the scenario's later hops, so links
// between cases exist.
func scenarioCases(t *testing.T, truth *scenario.Truth, extra ...string) (string, int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("case_id,chain,seeds,from_block,to_block,min_value\n")
	seeds := append([]string{truth.Seeds[0]}, truth.Stolen...)
	for i, s := range seeds {
		fmt.Fprintf(&b, "case-%02d,dev,%s,%d,%d,0\n", i, s, truth.FromBlock, truth.ToBlock)
	}
	for _, line := range extra {
		b.WriteString(line + "\n")
	}
	path := filepath.Join(t.TempDir(), "cases.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, len(seeds) + len(extra)
}

func readSummary(t *testing.T, dir string) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, r := range recs[1:] {
		if _, dup := rows[r[0]]; dup {
			t.Errorf("case %s appears twice in summary.csv", r[0])
		}
		rows[r[0]] = r
	}
	return rows
}

func TestBatchLocalIsResumable(t *testing.T) {
	node, truth := playScenario(t)
	// A case whose seed received nothing fails; the batch goes on.
	path, n := scenarioCases(t, truth, fmt.Sprintf("empty,dev,%s,%d,%d,0", goodSeed, truth.FromBlock, truth.ToBlock))
	out := t.TempDir()
	args := []string{"batch", path, "--out", out, "--workers", "2", "--rpc", node.URL(), "--labels", filepath.Join(devTheft, "labels.csv"), "--labels", filepath.Join(devTheft, "tokens.csv")}
	code, stdout, stderr := runCLI(t, args...)
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d (one case fails); stderr:\n%s", code, exitIncomplete, stderr)
	}
	if !strings.Contains(stdout, "summary.csv") {
		t.Errorf("stdout = %q", stdout)
	}
	rows := readSummary(t, out)
	if len(rows) != n {
		t.Fatalf("summary has %d cases, want %d", len(rows), n)
	}
	if r := rows["empty"]; r[1] != "failed" || !strings.Contains(r[14], "received no value") {
		t.Errorf("empty case row = %q", r)
	}
	if r := rows["case-00"]; r[1] != "done" || r[4] != "38" || !strings.Contains(r[6], "exchange:1") {
		t.Errorf("exploiter case row = %q, want done with 38 addresses and the exchange endpoint", r)
	}
	links, err := os.ReadFile(filepath.Join(out, "links.csv"))
	if err != nil {
		t.Fatal(err)
	}
	hot := truth.Terminals[0].Address
	if !strings.Contains(string(links), hot+",endpoint,exchange") {
		t.Errorf("links.csv does not list the shared exchange %s:\n%s", hot, links)
	}
	if _, err := os.Stat(filepath.Join(out, "cases", "case-03", "graph.json")); err != nil {
		t.Errorf("case outputs: %v", err)
	}
	first, _ := os.ReadFile(filepath.Join(out, "summary.json"))

	// The same command again: every finished case is skipped, the failed one retried.
	code, _, stderr = runCLI(t, args...)
	if code != exitIncomplete {
		t.Fatalf("re-run exit %d; stderr:\n%s", code, stderr)
	}
	if want := fmt.Sprintf("%d skipped as done", n-1); !strings.Contains(stderr, want) {
		t.Errorf("re-run did not skip the done cases (want %q):\n%s", want, stderr)
	}
	second, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if stripDurations(t, first) != stripDurations(t, second) {
		t.Errorf("summary.json changed on a resumed run")
	}
}

// stripDurations renders summary.json without the failed cases' durations.
func stripDurations(t *testing.T, data []byte) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc["rows"].([]any) {
		if row := r.(map[string]any); row["status"] == "failed" {
			row["duration_ms"] = 0
		}
	}
	out, _ := json.Marshal(doc)
	return string(out)
}

func TestBatchBadCases(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cases.csv")
	os.WriteFile(path, []byte("case_id,seeds,from_block\n"+
		"ok,"+goodSeed+",1\n"+
		"../../etc,"+goodSeed+",1\n"+
		"ok,"+goodSeed+",2\n"+
		"bad-seed,0x1234,1\n"), 0o644)
	out := filepath.Join(dir, "out")
	code, _, stderr := runCLI(t, "batch", path, "--out", out, "--rpc", "http://127.0.0.1:1")
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
	}
	for _, want := range []string{"line 3: case_id:", "line 4: case_id: \"ok\" repeats the case of line 2", "line 5: --seed:", "--skip-invalid"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the batch started despite bad cases")
	}
}

// TestBatchDistributedSurvivesSIGKILL: three worker processes share a queued
// batch; one is killed with SIGKILL while it holds a case. Every case ends in
// the summary exactly once.
func TestBatchDistributedSurvivesSIGKILL(t *testing.T) {
	bin := buildFlowtrace(t)
	queueURL := redistest.URL(t)
	node, truth := playScenario(t)
	path, n := scenarioCases(t, truth)
	out := t.TempDir()
	labels, tokens := filepath.Join(devTheft, "labels.csv"), filepath.Join(devTheft, "tokens.csv")

	submit := func(extra ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"batch", path, "--out", out, "--queue", queueURL, "--batch-id", "kill-test", "--labels", labels, "--labels", tokens}, extra...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		return stderr.String(), err
	}
	if msg, err := submit("--no-wait"); err != nil {
		t.Fatalf("enqueue: %v\n%s", err, msg)
	}
	c, prefix, err := redis.Connect(context.Background(), queueURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := queue.New(c, prefix)
	// w0 reaches the node through a gate: once the queue shows w0 holding a
	// case, its requests are held unanswered, so the SIGKILL lands mid-case
	// whatever the machine's speed. w1 and w2 start only after the kill.
	midCase := make(chan struct{})
	var once sync.Once
	node0 := gate(t, node.URL(), func(r *http.Request) bool {
		st, err := q.Status(r.Context(), "kill-test")
		if err != nil || !slices.Contains(st.Workers, "w0") {
			return false
		}
		once.Do(func() { close(midCase) })
		return true
	})
	var workers []*exec.Cmd
	var logs []*syncBuffer
	startWorker := func(i int, rpcURL string) {
		log := &syncBuffer{}
		w := exec.Command(bin, "worker", "--queue", queueURL, "--rpc", rpcURL, "--name", fmt.Sprintf("w%d", i),
			"--reclaim-after", "2s", "--exit-when-idle", "--labels", labels, "--labels", tokens)
		w.Stderr = log
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		workers = append(workers, w)
		logs = append(logs, log)
	}
	startWorker(0, node0)
	exited := make(chan error, 1)
	go func() { exited <- workers[0].Wait() }()
	select {
	case <-midCase:
	case err := <-exited:
		t.Fatalf("worker w0 ended (%v) before it asked the node anything for a case:\n%s", err, logs[0].String())
	}
	if err := workers[0].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	for i := 1; i <= 2; i++ {
		startWorker(i, node.URL())
	}
	for i, w := range workers[1:] {
		if err := w.Wait(); err != nil {
			t.Errorf("worker w%d: %v\n%s", i+1, err, logs[i+1].String())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	collect := exec.CommandContext(ctx, bin, "batch", path, "--out", out, "--queue", queueURL, "--batch-id", "kill-test", "--labels", labels, "--labels", tokens)
	var stderr bytes.Buffer
	collect.Stderr = &stderr
	if err := collect.Run(); err != nil {
		t.Fatalf("collect: %v\n%s", err, stderr.String())
	}
	rows := readSummary(t, out)
	if len(rows) != n {
		t.Fatalf("summary has %d cases, want %d", len(rows), n)
	}
	for id, r := range rows {
		if r[1] != "done" {
			t.Errorf("case %s: %q", id, r)
		}
	}
	if !strings.Contains(logs[1].String()+logs[2].String(), "case ") {
		t.Errorf("the surviving workers traced nothing")
	}
}

// gate is a proxy to upstream that holds unanswered, until the client
// gives up, every request that hold reports true for.
func gate(t *testing.T, upstream string, hold func(*http.Request) bool) string {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold(r) {
			// The server notices a client gone only once the body is read.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-done:
			}
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first: Close waits for the handlers
	return srv.URL
}

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu       sync.Mutex
	b        bytes.Buffer
	watchers []watcher
}

// watcher is a text awaited in a syncBuffer and the channel closed when it
// is there.
type watcher struct {
	text string
	seen chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	s.watchers = slices.DeleteFunc(s.watchers, func(w watcher) bool {
		if strings.Contains(s.b.String(), w.text) {
			close(w.seen)
			return true
		}
		return false
	})
	return n, err
}

// once returns a channel closed as soon as s holds text.
func (s *syncBuffer) once(text string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := watcher{text, make(chan struct{})}
	if strings.Contains(s.b.String(), text) {
		close(w.seen)
	} else {
		s.watchers = append(s.watchers, w)
	}
	return w.seen
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// buildFlowtrace builds the binary once per test run.
func buildFlowtrace(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "flowtrace")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
