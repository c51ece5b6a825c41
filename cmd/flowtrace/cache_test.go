package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/flowtrace/flowtrace/cache"
	"github.com/flowtrace/flowtrace/cache/bolt"
	"github.com/flowtrace/flowtrace/cache/redis"
	"github.com/flowtrace/flowtrace/cache/redistest"
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/fixtures/scenario"
)

// TestMain keeps the package's tests off the user's cache: the recorded
// outputs are of uncached runs, and tests that cache say where.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flowtrace-cache-test")
	if err != nil {
		panic(err)
	}
	// go build inside tests (the worker binary) keeps the user's build
	// cache, which Go finds under XDG_CACHE_HOME too: without it every run
	// rebuilt go-ethereum from scratch (minutes).
	if os.Getenv("GOCACHE") == "" {
		if d, err := os.UserCacheDir(); err == nil {
			os.Setenv("GOCACHE", filepath.Join(d, "go-build"))
		}
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	os.Setenv(cacheEnv, "off")
	code := m.Run()
	if played.node != nil {
		played.node.Close()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// devCase is the scenario played on a live dev node: its URL and trace args.
type devCase struct {
	url  string
	args []string
}

func startDevCase(t *testing.T) devCase {
	t.Helper()
	node, truth := playScenario(t)
	dir := t.TempDir()
	if err := scenario.WriteCase(dir, truth); err != nil {
		t.Fatal(err)
	}
	return devCase{url: node.URL(), args: caseArgs(t, dir)}
}

// traceRun is one CLI trace: its outputs and stats.
type traceRun struct {
	stderr string
	json   map[string]any // graph.json without stats and per-level costs
	files  map[string]string
	stats  struct {
		Requests      int64 `json:"rpc_requests"`
		ProbeRequests int64 `json:"probe_requests"`
		Hits          int64 `json:"cache_hits"`
		Misses        int64 `json:"cache_misses"`
		BlocksScanned int64 `json:"blocks_scanned"`
	}
}

func (c devCase) trace(t *testing.T, url string, extra ...string) traceRun {
	t.Helper()
	return c.traceTo(t, &syncBuffer{}, url, extra...)
}

// traceTo is trace with its stderr written to errw as it comes.
func (c devCase) traceTo(t *testing.T, errw *syncBuffer, url string, extra ...string) traceRun {
	t.Helper()
	out := t.TempDir()
	var stdout bytes.Buffer
	code := run(context.Background(), append(append([]string{"trace", "--rpc", url, "--out", out}, c.args...), extra...), &stdout, errw)
	stderr := errw.String()
	if code != exitOK {
		t.Fatalf("trace %q: exit %d:\n%s", extra, code, stderr)
	}
	r := traceRun{stderr: stderr, files: map[string]string{}}
	raw := readOutput(t, out, "graph.json")
	var doc struct {
		Stats json.RawMessage `json:"stats"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc.Stats, &r.stats); err != nil {
		t.Fatal(err)
	}
	r.json = normalizedJSON(t, raw)
	delete(r.json, "stats")
	for _, l := range r.json["levels"].([]any) {
		delete(l.(map[string]any), "usage")
	}
	for _, f := range []string{"graph.dot", "transfers.csv"} {
		r.files[f] = string(readOutput(t, out, f))
	}
	return r
}

// same fails unless two runs wrote the same flow (costs and times aside).
func same(t *testing.T, what string, a, b traceRun) {
	t.Helper()
	if d := cmp.Diff(a.json, b.json); d != "" {
		t.Errorf("%s: graph.json differs (-first +second):\n%s", what, d)
	}
	if d := cmp.Diff(a.files, b.files); d != "" {
		t.Errorf("%s: outputs differ (-first +second):\n%s", what, d)
	}
}

func countWarnings(stderr string) int { return strings.Count(stderr, "warning:") }

// TestCacheWarmRun: a second trace of the scenario against the live dev
// node asks the node nothing but the chain's identity, with either store,
// and writes the same flow as the cold run and as an uncached one.
func TestCacheWarmRun(t *testing.T) {
	dc := startDevCase(t)
	plain := dc.trace(t, dc.url, "--cache", "off")
	if plain.stats.Hits+plain.stats.Misses != 0 || plain.stats.ProbeRequests == 0 {
		t.Fatalf("uncached run: stats %+v", plain.stats)
	}
	for name, spec := range map[string]string{
		"bolt":  "dir:" + t.TempDir(),
		"redis": redistest.URL(t),
	} {
		t.Run(name, func(t *testing.T) {
			cold := dc.trace(t, dc.url, "--cache", spec)
			warm := dc.trace(t, dc.url, "--cache", spec)
			t.Logf("cold %+v\nwarm %+v", cold.stats, warm.stats)
			if cold.stats.Misses == 0 || cold.stats.Requests <= cold.stats.ProbeRequests || cold.stats.BlocksScanned == 0 {
				t.Errorf("cold run: stats %+v, want misses and hop requests", cold.stats)
			}
			if warm.stats.Requests != warm.stats.ProbeRequests || warm.stats.BlocksScanned != 0 {
				t.Errorf("warm run made %d hop requests and scanned %d blocks, want none",
					warm.stats.Requests-warm.stats.ProbeRequests, warm.stats.BlocksScanned)
			}
			if warm.stats.Misses != 0 || warm.stats.Hits == 0 {
				t.Errorf("warm run: %d hits, %d misses; want only hits", warm.stats.Hits, warm.stats.Misses)
			}
			same(t, "uncached vs cold", plain, cold)
			same(t, "cold vs warm", cold, warm)
			if !strings.Contains(warm.stderr, "requests to identify the chain, 0 for hops") {
				t.Errorf("stderr does not report the cache:\n%s", warm.stderr)
			}
			if countWarnings(cold.stderr+warm.stderr) != 0 {
				t.Errorf("warnings:\n%s%s", cold.stderr, warm.stderr)
			}
		})
	}
}

// TestCacheRedisUnreachable: one warning, the trace runs uncached, same flow.
func TestCacheRedisUnreachable(t *testing.T) {
	dc := startDevCase(t)
	plain := dc.trace(t, dc.url, "--cache", "off")
	srv := redistest.Start(t)
	srv.Kill()
	got := dc.trace(t, dc.url, "--cache", "redis://:hunter2-secret@"+srv.Addr+"/0")
	if n := countWarnings(got.stderr); n != 1 || !strings.Contains(got.stderr, "tracing without a cache") {
		t.Errorf("want one warning that says the trace runs uncached, got %d:\n%s", n, got.stderr)
	}
	if strings.Contains(got.stderr, "hunter2") {
		t.Errorf("stderr shows the Redis password:\n%s", got.stderr)
	}
	if got.stats.Hits+got.stats.Misses != 0 {
		t.Errorf("stats %+v: the cache was used", got.stats)
	}
	same(t, "uncached vs Redis down", plain, got)
}

// TestCacheRedisKilledMidTrace: Redis dies after the first entries are
// written; the trace completes from the node with the same flow. A proxy
// before the node kills Redis at the first request that finds entries in
// it, before passing the request on: the kill lands mid-trace whatever the
// machine's speed.
func TestCacheRedisKilledMidTrace(t *testing.T) {
	dc := startDevCase(t)
	plain := dc.trace(t, dc.url, "--cache", "off")
	srv := redistest.Start(t)
	opts, err := goredis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	node, err := url.Parse(dc.url)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(node)
	var mu sync.Mutex
	killed := false
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if !killed {
			if n, err := c.DBSize(r.Context()).Result(); err == nil && n > 0 {
				srv.Kill()
				killed = true
			}
		}
		mu.Unlock()
		forward.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	got := dc.trace(t, proxy.URL, "--cache", srv.URL)
	if !killed {
		t.Fatal("the trace wrote nothing to Redis before its last request to the node")
	}
	if n := countWarnings(got.stderr); n != 1 || !strings.Contains(got.stderr, "going on without the cache") {
		t.Errorf("want one warning that the cache failed mid-trace, got %d:\n%s", n, got.stderr)
	}
	same(t, "uncached vs Redis killed", plain, got)
}

// TestCacheCorruptEntries: garbage, truncated, foreign-version and
// bit-flipped entries are misses and get overwritten; the flow is unchanged.
func TestCacheCorruptEntries(t *testing.T) {
	dc := startDevCase(t)
	cacheURL := redistest.URL(t)
	cold := dc.trace(t, dc.url, "--cache", cacheURL)

	c, prefix, err := redis.Connect(context.Background(), cacheURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	// Only this test's keys: the Redis is shared with other tests.
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no cached keys: %v", err)
	}
	for i, k := range keys {
		v, err := c.Get(ctx, k).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		switch i % 4 {
		case 0:
			v = []byte("not an entry at all")
		case 1:
			v = v[:len(v)/2]
		case 2:
			v[0] = 99 // a format from the future
		case 3:
			v[len(v)/2] ^= 0x40
		}
		if err := c.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	bad := dc.trace(t, dc.url, "--cache", cacheURL)
	if bad.stats.Misses == 0 || bad.stats.Hits != 0 {
		t.Errorf("after corrupting every entry: %d hits, %d misses; want only misses", bad.stats.Hits, bad.stats.Misses)
	}
	same(t, "cold vs corrupted", cold, bad)
	again := dc.trace(t, dc.url, "--cache", cacheURL)
	if again.stats.Misses != 0 || again.stats.Requests != again.stats.ProbeRequests {
		t.Errorf("the corrupt entries were not overwritten: stats %+v", again.stats)
	}
	same(t, "cold vs rewritten", cold, again)
}

// TestCacheSharedRedis: two traces at once on one Redis write the same
// flow, and what they left is whole: a third run is all hits.
func TestCacheSharedRedis(t *testing.T) {
	dc := startDevCase(t)
	url := redistest.URL(t)
	var runs [2]traceRun
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i] = dc.trace(t, dc.url, "--cache", url)
		}()
	}
	wg.Wait()
	same(t, "two concurrent traces", runs[0], runs[1])
	third := dc.trace(t, dc.url, "--cache", url)
	if third.stats.Misses != 0 || third.stats.Requests != third.stats.ProbeRequests {
		t.Errorf("after two concurrent traces: stats %+v, want all hits", third.stats)
	}
	same(t, "concurrent vs warm", runs[0], third)
}

// holdStore opens the embedded store in a fresh directory, as another
// process holding it would, and makes the trace wait up to wait for it.
func holdStore(t *testing.T, wait time.Duration) (string, *bolt.Store) {
	t.Helper()
	dir := t.TempDir()
	held, err := bolt.Open(dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	prev := lockWait
	t.Cleanup(func() { lockWait = prev })
	lockWait = wait
	return dir, held
}

// TestCacheBoltLocked: with the embedded store held by another process,
// the trace says that it waits, gives up after its wait, says so once, and
// runs uncached.
func TestCacheBoltLocked(t *testing.T) {
	dc := startDevCase(t)
	plain := dc.trace(t, dc.url, "--cache", "off")
	dir, held := holdStore(t, 100*time.Millisecond)
	defer held.Close()
	got := dc.trace(t, dc.url, "--cache", "dir:"+dir)
	if !strings.Contains(got.stderr, "is in use by another flowtrace: waiting up to 100ms") {
		t.Errorf("the trace did not say that it waits for the lock:\n%s", got.stderr)
	}
	if n := countWarnings(got.stderr); n != 1 || !strings.Contains(got.stderr, "locked") {
		t.Errorf("want one warning about the lock, got %d:\n%s", n, got.stderr)
	}
	if got.stats.Hits+got.stats.Misses != 0 {
		t.Errorf("stats %+v: the cache was used", got.stats)
	}
	same(t, "uncached vs locked", plain, got)
}

// TestCacheBoltWaitsForRelease: a trace that finds the embedded store held
// waits for it, and uses it once the holder lets go. The holder lets go
// only after the trace said that it waits, so no timing is involved.
func TestCacheBoltWaitsForRelease(t *testing.T) {
	dc := startDevCase(t)
	plain := dc.trace(t, dc.url, "--cache", "off")
	dir, held := holdStore(t, time.Hour)
	stderr := &syncBuffer{}
	released := make(chan error, 1)
	go func() {
		<-stderr.once("is in use by another flowtrace")
		released <- held.Close()
	}()
	got := dc.traceTo(t, stderr, dc.url, "--cache", "dir:"+dir)
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	if n := countWarnings(got.stderr); n != 0 {
		t.Errorf("want no warning, got %d:\n%s", n, got.stderr)
	}
	if got.stats.Misses == 0 {
		t.Errorf("stats %+v: the cache was not used after the release", got.stats)
	}
	same(t, "uncached vs waited for the cache", plain, got)
}

// TestCacheCommand: stats counts the entries of a trace under its chain;
// clear --chain removes them.
func TestCacheCommand(t *testing.T) {
	dc := startDevCase(t)
	spec := "dir:" + t.TempDir()
	dc.trace(t, dc.url, "--cache", spec)
	code, out, stderr := runCLI(t, "cache", "stats", "--cache", spec)
	if code != exitOK || !strings.Contains(out, "dev\t") || strings.Contains(out, "dev\t0 entries") {
		t.Fatalf("cache stats: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = runCLI(t, "cache", "clear", "--chain", "ethereum", "--cache", spec)
	if code != exitOK || !strings.Contains(out, "removed 0 entries") {
		t.Fatalf("cache clear --chain ethereum: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = runCLI(t, "cache", "clear", "--chain", "dev", "--cache", spec)
	if code != exitOK || strings.Contains(out, "removed 0 entries") {
		t.Fatalf("cache clear --chain dev: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCLI(t, "cache", "stats", "--cache", spec)
	if code != exitOK || !strings.Contains(out, "entries\t0\n") {
		t.Fatalf("after clear: %s", out)
	}
	for _, args := range [][]string{
		{"cache", "clear", "--chain", "dogechain", "--cache", spec},
		{"cache", "stats", "--cache", "memcached://x"},
		{"trace", "--seed", goodSeed, "--from-block", "1", "--rpc", "http://127.0.0.1:1", "--record", filepath.Join(t.TempDir(), "r"), "--cache", spec},
	} {
		if code, _, stderr := runCLI(t, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, exitUsage, stderr)
		}
	}
}

// A Source that decodes bridge deposits has its own cache key: a cache
// filled by a single-chain trace (no bridge annotations) is never read as
// if it held them, nor the reverse. A single-chain trace's key is the
// chain's plain key, and `cache clear --chain` removes both.
func TestHopCacheKeyTellsBridgeDecoding(t *testing.T) {
	info := evm.ChainInfo{ChainID: big.NewInt(1), GenesisHash: "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"}
	plain, decoding := &evm.Source{}, &evm.Source{}
	decoding.DecodeBridges()
	p, d := hopCacheKey(plain, info, ""), hopCacheKey(decoding, info, "")
	if want := cache.ChainKey("1", info.GenesisHash, ""); p != want {
		t.Errorf("single-chain key %q, want the chain's key %q", p, want)
	}
	if d == p || !strings.HasPrefix(d, cache.ChainPrefix("1")) || strings.HasPrefix(d, p+"/") {
		t.Errorf("bridge-decoding key %q: want another key than %q under %q, not nested in it", d, p, cache.ChainPrefix("1"))
	}
}
