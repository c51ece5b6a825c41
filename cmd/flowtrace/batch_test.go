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
	"github.com/flowtrace/flowtrace/cmd/flowtrace/internal/batch"
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
	checkClusters(t, out, truth, n-1)
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

// checkClusters reads batch.json: the scenario's cases are one theft, so
// every case seeded at an address that is no endpoint shares the
// exploiter's cluster; the exchange endpoint is reached by several cases
// with value; the failed case is listed with its reason.
func checkClusters(t *testing.T, out string, truth *scenario.Truth, traced int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, "batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep batch.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Clusters) == 0 || !slices.Contains(rep.Clusters[0].Cases, "case-00") {
		t.Fatalf("the first cluster does not hold the exploiter's case: %+v", rep.Clusters)
	}
	terminal := map[string]bool{}
	for _, term := range truth.Terminals {
		terminal[strings.ToLower(term.Address)] = true
	}
	for i, s := range truth.Stolen {
		if id := fmt.Sprintf("case-%02d", i+1); !terminal[strings.ToLower(s)] && !slices.Contains(rep.Clusters[0].Cases, id) {
			t.Errorf("case %s (seed %s, an intermediary of the theft) is not in the exploiter's cluster %v", id, s, rep.Clusters[0].Cases)
		}
	}
	hot := truth.Terminals[0].Address
	var found bool
	for _, e := range rep.Endpoints {
		if strings.EqualFold(e.Address, hot) {
			found = true
			if len(e.Cases) < 2 || len(e.Received) == 0 || e.Received[0].Amount == "0" {
				t.Errorf("endpoint %s: %+v", hot, e)
			}
		}
	}
	if !found {
		t.Errorf("batch.json lists no value at the exchange %s", hot)
	}
	if len(rep.Failed) != rep.Cases-traced || (len(rep.Failed) > 0 && !strings.Contains(rep.Failed[0].Error, "received no value")) {
		t.Errorf("failed = %+v, want %d", rep.Failed, rep.Cases-traced)
	}
	md, err := os.ReadFile(filepath.Join(out, "batch-report.md"))
	if err != nil || !strings.Contains(string(md), "### 1. ") {
		t.Errorf("batch-report.md (%v):\n%s", err, md)
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

// queuedBatch is a batch of the scenario's cases submitted to a queue, and
// the workers that trace it.
type queuedBatch struct {
	t        *testing.T
	bin      string
	queueURL string
	id       string
	path     string
	n        int
	out      string
	labels   []string
	q        *queue.Queue
	workers  []*exec.Cmd
	logs     []*syncBuffer
}

func newQueuedBatch(t *testing.T, queueURL, id string, truth *scenario.Truth) *queuedBatch {
	t.Helper()
	path, n := scenarioCases(t, truth)
	c, prefix, err := redis.Connect(context.Background(), queueURL)
	if err != nil {
		t.Fatal(err)
	}
	q := queue.New(c, prefix)
	t.Cleanup(func() {
		if err := q.Drop(context.Background()); err != nil {
			t.Log(err) // a private server may be gone already
		}
		c.Close()
	})
	return &queuedBatch{t: t, bin: buildFlowtrace(t), queueURL: queueURL, id: id, path: path, n: n, out: t.TempDir(), q: q,
		labels: []string{"--labels", filepath.Join(devTheft, "labels.csv"), "--labels", filepath.Join(devTheft, "tokens.csv")}}
}

// submit runs `flowtrace batch --queue` (waiting for the results unless
// --no-wait is given) and returns its stderr.
func (b *queuedBatch) submit(extra ...string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"batch", b.path, "--out", b.out, "--queue", b.queueURL, "--batch-id", b.id}, b.labels...)
	cmd := exec.CommandContext(ctx, b.bin, append(args, extra...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		b.t.Fatalf("batch %v: %v\n%s", extra, err, stderr.String())
	}
	return stderr.String()
}

func (b *queuedBatch) startWorker(name, rpcURL string, extra ...string) *exec.Cmd {
	b.t.Helper()
	log := &syncBuffer{}
	w := exec.Command(b.bin, slices.Concat([]string{"worker", "--queue", b.queueURL, "--rpc", rpcURL, "--name", name,
		"--exit-when-idle", "--retry-delay", "10ms"}, b.labels, extra)...)
	w.Stderr = log
	if err := w.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() {
		if w.ProcessState == nil {
			_ = w.Process.Kill()
			_ = w.Wait()
		}
	})
	b.workers = append(b.workers, w)
	b.logs = append(b.logs, log)
	return w
}

// checkSummary collects the batch and checks that every case is in the
// summary once, done; a resubmit adds nothing.
func (b *queuedBatch) checkSummary() {
	b.t.Helper()
	b.submit()
	rows := readSummary(b.t, b.out)
	if len(rows) != b.n {
		b.t.Fatalf("summary has %d cases, want %d", len(rows), b.n)
	}
	for id, r := range rows {
		if r[1] != "done" {
			b.t.Errorf("case %s: %q", id, r)
		}
	}
	if msg := b.submit("--no-wait"); !strings.Contains(msg, fmt.Sprintf("0 cases enqueued on flowtrace:bulk (%d already were)", b.n)) {
		b.t.Errorf("a resubmit of the finished batch enqueued something:\n%s", msg)
	}
	if idle, err := b.q.Idle(context.Background()); err != nil || !idle {
		b.t.Errorf("the queue is not idle after the resubmit (%v)", err)
	}
}

// TestBatchDistributedSurvivesSIGKILL: three worker processes share a queued
// batch; one is killed with SIGKILL while it holds a case. Every case ends in
// the summary exactly once; the killed worker's case is run again by another
// once asynq sees its lease expire (asynq's fixed 30 s lease, checked every
// minute: this test waits about a minute for that).
func TestBatchDistributedSurvivesSIGKILL(t *testing.T) {
	node, truth := playScenario(t)
	b := newQueuedBatch(t, redistest.Start(t).URL, "kill-test", truth)
	b.submit("--no-wait")
	// w0 reaches the node through a gate: once asynq shows a case of the
	// batch active (only w0 runs), its requests are held unanswered, so the
	// SIGKILL lands mid-case whatever the machine's speed. w1 and w2 start
	// only after the kill.
	midCase := make(chan struct{})
	var once sync.Once
	var held []string
	node0 := gate(t, node.URL(), nil, func(r *http.Request) bool {
		active, err := b.q.Active(r.Context(), b.id)
		if err != nil || len(active) == 0 {
			return false
		}
		once.Do(func() { held = active; close(midCase) })
		return true
	})
	w0 := b.startWorker("w0", node0)
	exited := make(chan error, 1)
	go func() { exited <- w0.Wait() }()
	select {
	case <-midCase:
	case err := <-exited:
		t.Fatalf("worker w0 ended (%v) before it asked the node anything for a case:\n%s", err, b.logs[0].String())
	}
	if err := w0.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	for i := 1; i <= 2; i++ {
		b.startWorker(fmt.Sprintf("w%d", i), node.URL())
	}
	for i, w := range b.workers[1:] {
		if err := w.Wait(); err != nil {
			t.Errorf("worker w%d: %v\n%s", i+1, err, b.logs[i+1].String())
		}
	}
	b.checkSummary()
	results, err := b.q.Results(context.Background(), b.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range held {
		if r := results[id]; r.Worker == "w0" || r.Attempt != 2 {
			t.Errorf("case %s, held by the killed w0, has result %+v; want a second attempt by w1 or w2", id, r)
		}
	}
}

// TestBatchSurvivesRedisRestart: Redis (AOF on) is killed and restarted
// while a worker holds a case, after another case was recorded; no case is
// lost, none is recorded twice. The worker identifies the chain once for
// all its cases.
func TestBatchSurvivesRedisRestart(t *testing.T) {
	node, truth := playScenario(t)
	srv := redistest.StartPersistent(t)
	b := newQueuedBatch(t, srv.URL, "restart-test", truth)
	b.submit("--no-wait")
	// Once a case is recorded, the worker's next node requests are held
	// until Redis has been restarted, then answered.
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	node0 := gate(t, node.URL(), release, func(r *http.Request) bool {
		_, finished, err := b.q.Progress(r.Context(), b.id)
		if err != nil || finished == 0 {
			return false
		}
		once.Do(func() { close(held) })
		return true
	})
	w := b.startWorker("w0", node0, "--recheck-node", "1h")
	exited := make(chan error, 1)
	go func() { exited <- w.Wait() }()
	select {
	case <-held:
	case err := <-exited:
		t.Fatalf("worker ended (%v) before a second case:\n%s", err, b.logs[0].String())
	}
	srv.Restart(t)
	total, finished, err := b.q.Progress(context.Background(), b.id)
	if err != nil || total != int64(b.n) || finished == 0 {
		t.Fatalf("after the restart: %d cases, %d finished (%v); want %d and the recorded ones kept", total, finished, err, b.n)
	}
	close(release)
	if err := <-exited; err != nil {
		t.Fatalf("worker: %v\n%s", err, b.logs[0].String())
	}
	b.checkSummary()
	var probed []string
	for i := range b.n {
		data, err := os.ReadFile(filepath.Join(b.out, "cases", fmt.Sprintf("case-%02d", i), "graph.json"))
		if err != nil {
			t.Fatal(err)
		}
		var g struct {
			Stats struct {
				ProbeRequests int `json:"probe_requests"`
			} `json:"stats"`
		}
		if err := json.Unmarshal(data, &g); err != nil {
			t.Fatal(err)
		}
		if g.Stats.ProbeRequests > 0 {
			probed = append(probed, fmt.Sprintf("case-%02d", i))
		}
	}
	if len(probed) != 1 {
		t.Errorf("the worker identified the chain in cases %v; want once, in its first case", probed)
	}
}

// TestWorkerStopsGracefullyOnSIGTERM: a worker told to stop while it holds
// a case takes no new case, finishes the one it holds and exits 130; the
// rest waits in the queue for another worker.
func TestWorkerStopsGracefullyOnSIGTERM(t *testing.T) {
	node, truth := playScenario(t)
	b := newQueuedBatch(t, redistest.Start(t).URL, "sigterm-test", truth)
	b.submit("--no-wait")
	midCase, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var held []string
	node0 := gate(t, node.URL(), release, func(r *http.Request) bool {
		active, err := b.q.Active(r.Context(), b.id)
		if err != nil || len(active) == 0 {
			return false
		}
		once.Do(func() { held = active; close(midCase) })
		return true
	})
	w0 := b.startWorker("w0", node0)
	exited := make(chan error, 1)
	go func() { exited <- w0.Wait() }()
	select {
	case <-midCase:
	case err := <-exited:
		t.Fatalf("worker w0 ended (%v) before it asked the node anything for a case:\n%s", err, b.logs[0].String())
	}
	if err := w0.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.logs[0].once("stopping: no new case"):
	case err := <-exited:
		t.Fatalf("worker w0 ended (%v) without stopping gracefully:\n%s", err, b.logs[0].String())
	}
	close(release)
	err := <-exited
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("worker w0: %v, want exit %d\n%s", err, exitInterrupted, b.logs[0].String())
	}
	results, err := b.q.Results(context.Background(), b.id)
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 1 || len(results) != 1 || results[held[0]].Status != "done" || results[held[0]].Worker != "w0" {
		t.Fatalf("after the stop: held %v, results %+v; want the held case done by w0 and nothing else", held, results)
	}
	if idle, err := b.q.Idle(context.Background()); err != nil || idle {
		t.Fatalf("the other cases left the queue (idle %v, %v)", idle, err)
	}
	status, err := exec.Command(b.bin, "batch", "status", "--queue", b.queueURL, "--batch-id", b.id).Output()
	want := []string{fmt.Sprintf("batch sigterm-test: 1/%d cases finished (0 failed)", b.n), fmt.Sprintf("queue flowtrace:bulk (all its batches): %d pending, 0 active", b.n-1)}
	for _, w := range want {
		if err != nil || !strings.Contains(string(status), w) {
			t.Errorf("batch status (%v) does not say %q:\n%s", err, w, status)
		}
	}
	b.startWorker("w1", node.URL())
	if err := b.workers[1].Wait(); err != nil {
		t.Fatalf("worker w1: %v\n%s", err, b.logs[1].String())
	}
	b.checkSummary()
}

// gate is a proxy to upstream that holds every request that hold reports
// true for: until release is closed, then answers it, or with a nil
// release unanswered until the client gives up.
func gate(t *testing.T, upstream string, release <-chan struct{}, hold func(*http.Request) bool) string {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold(r) {
			if release != nil {
				select {
				case <-release:
					forward.ServeHTTP(w, r)
				case <-done:
				}
				return
			}
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
