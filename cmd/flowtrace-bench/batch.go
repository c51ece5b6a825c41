package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowtrace/flowtrace/cache/redis"
	"github.com/flowtrace/flowtrace/fixtures/synthnode"
)

// batchBench measures `flowtrace batch --queue` with 1, 2 and 4 worker
// processes against a synthetic node with added latency: cases per second,
// the workers' peak memory and the hop-cache hit rate (every run starts
// with an empty Redis namespace), and from them the time of 158,000 cases.
type batchBench struct {
	cases       int
	large       int // also this many cases with the most workers
	concurrency int // cases at once per worker process
	workers     []int
	latency     time.Duration
	redis       string // redis://host:port/db of a running Redis
	bin         string // the flowtrace binary
}

func (b batchBench) run(ctx context.Context, t *Table, log io.Writer) error {
	most := max(b.cases, b.large)
	g := synthnode.Generate(synthnode.Config{Seed: 7, Addresses: max(3*most, 300), Hops: 6})
	if len(g.Stolen) < most {
		return fmt.Errorf("batch bench: the flow reaches %d addresses, fewer than %d cases", len(g.Stolen), most)
	}
	node, err := synthnode.Start(g, synthnode.Options{Latency: b.latency, BatchLimit: 1000})
	if err != nil {
		return err
	}
	defer node.Close()
	dir, err := os.MkdirTemp("", "flowtrace-batch-bench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	type runSpec struct {
		cases, workers int
		warm           bool // the same cases again, on the cache the run before filled
	}
	var specs []runSpec
	for _, n := range b.workers {
		specs = append(specs, runSpec{cases: b.cases, workers: n})
	}
	top := slices.Max(b.workers)
	specs = append(specs, runSpec{cases: b.cases, workers: top, warm: true})
	if b.large > 0 {
		specs = append(specs, runSpec{cases: b.large, workers: top})
	}
	labelsPath := filepath.Join(dir, "labels.csv")
	var cachePrefix string
	for i, s := range specs {
		casesPath := filepath.Join(dir, fmt.Sprintf("cases-%d.csv", s.cases))
		if err := writeBatchInputs(g, s.cases, casesPath, labelsPath); err != nil {
			return err
		}
		prefix := fmt.Sprintf("flowtrace-batchbench-%d-%d:", os.Getpid(), i)
		if !s.warm {
			cachePrefix = prefix + "c:"
		}
		res, err := b.once(ctx, s.cases, s.workers, node.URL(), casesPath, labelsPath, filepath.Join(dir, "out-"+strconv.Itoa(i)), prefix+"q:", cachePrefix, log)
		b.clean(ctx, prefix+"q:")
		if s.warm || i+1 == len(specs) || !specs[i+1].warm {
			b.clean(ctx, cachePrefix) // unless the next run re-uses it warm
		}
		if err != nil {
			return err
		}
		name := fmt.Sprintf("%d cases, %d worker process(es) x %d, %s per round trip", s.cases, s.workers, max(b.concurrency, 1), b.latency)
		if s.warm {
			name += ", warm re-run (cache filled by the run above)"
		}
		t.add(Row{
			Section: "batch", Name: name,
			Measured: fmt.Sprintf("%.1f s, %.2f cases/s; worker peak %d MiB; cache hit rate %.1f%% (%d hits, %d misses); %d failed",
				res.wall.Seconds(), res.rate, res.peakKiB/1024, 100*res.hitRate(), res.hits, res.misses, res.failed),
			Bound:   fmt.Sprintf("158,000 cases: %s (target < 1h with 4 workers)", estimate(158_000, res.rate)),
			Verdict: "info",
			Figures: map[string]float64{"cases": float64(s.cases), "workers": float64(s.workers), "cases_per_s": res.rate,
				"peak_mib": float64(res.peakKiB) / 1024, "hit_rate": res.hitRate(), "wall_s": res.wall.Seconds(), "failed": float64(res.failed)},
		})
	}
	return nil
}

// clean deletes a run's keys under prefix, and asynq's keys of the queues
// named with it.
func (b batchBench) clean(ctx context.Context, prefix string) {
	if s, err := redis.Open(ctx, b.redis+"?prefix="+prefix); err == nil {
		_, _ = s.DeletePrefix(ctx, "")
		s.Close()
	}
	c, _, err := redis.Connect(ctx, b.redis)
	if err != nil {
		return
	}
	defer c.Close()
	for _, q := range []string{"interactive", "bulk"} {
		iter := c.Scan(ctx, 0, "asynq:{"+prefix+q+"}:*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.SRem(ctx, "asynq:queues", prefix+q)
	}
}

// estimate is the time of n cases at rate cases per second.
func estimate(n int, rate float64) string {
	if rate <= 0 {
		return "?"
	}
	return (time.Duration(float64(n) / rate * float64(time.Second))).Round(time.Minute).String()
}

type batchResult struct {
	wall                 time.Duration
	rate                 float64
	peakKiB              int64
	hits, misses, failed int64
}

func (r batchResult) hitRate() float64 {
	if r.hits+r.misses == 0 {
		return 0
	}
	return float64(r.hits) / float64(r.hits+r.misses)
}

// once enqueues the batch of cases, runs n worker processes until the queue is empty
// and collects the results.
func (b batchBench) once(ctx context.Context, cases, n int, nodeURL, casesPath, labelsPath, out, queuePrefix, cachePrefix string, log io.Writer) (batchResult, error) {
	queue := b.redis + "?prefix=" + queuePrefix
	cacheURL := b.redis + "?prefix=" + cachePrefix
	start := time.Now()
	submit := exec.CommandContext(ctx, b.bin, "batch", casesPath, "--out", out, "--queue", queue, "--batch-id", "bench", "--chain", "dev", "--no-wait")
	if msg, err := submit.CombinedOutput(); err != nil {
		return batchResult{}, fmt.Errorf("batch bench: enqueue: %v\n%s", err, msg)
	}
	var workers []*exec.Cmd
	for i := range n {
		w := exec.CommandContext(ctx, b.bin, "worker", "--queue", queue, "--rpc", nodeURL, "--chain", "dev", "--cache", cacheURL,
			"--labels", labelsPath, "--no-bundled-labels", "--name", fmt.Sprintf("bench-%d", i), "--exit-when-idle",
			"--concurrency", strconv.Itoa(max(b.concurrency, 1)))
		w.Stderr = io.Discard
		if err := w.Start(); err != nil {
			return batchResult{}, err
		}
		workers = append(workers, w)
	}
	stopWatch := watchPeak(workers)
	var werr error
	for i, w := range workers {
		if err := w.Wait(); err != nil && werr == nil {
			werr = fmt.Errorf("batch bench: worker %d: %v", i, err)
		}
	}
	peak := stopWatch()
	if werr != nil {
		return batchResult{}, werr
	}
	collect := exec.CommandContext(ctx, b.bin, "batch", casesPath, "--out", out, "--queue", queue, "--batch-id", "bench", "--chain", "dev")
	var stderr bytes.Buffer
	collect.Stderr = &stderr
	if err := collect.Run(); err != nil && collect.ProcessState.ExitCode() != 3 {
		return batchResult{}, fmt.Errorf("batch bench: collect: %v\n%s", err, stderr.String())
	}
	wall := time.Since(start)
	res := batchResult{wall: wall, rate: float64(cases) / wall.Seconds(), peakKiB: peak}
	if err := res.readSummary(filepath.Join(out, "summary.json")); err != nil {
		return res, err
	}
	fmt.Fprintf(log, "batch bench: %d workers: %s\n", n, strings.TrimSpace(stderr.String()))
	return res, nil
}

func (r *batchResult) readSummary(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc struct {
		Rows []struct {
			Status    string `json:"status"`
			CacheHits int64  `json:"cache_hits"`
			CacheMiss int64  `json:"cache_misses"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	for _, row := range doc.Rows {
		r.hits += row.CacheHits
		r.misses += row.CacheMiss
		if row.Status == "failed" {
			r.failed++
		}
	}
	return nil
}

// watchPeak samples the processes' peak resident memory (VmHWM) until
// stop is called; stop returns the largest seen, in KiB.
func watchPeak(procs []*exec.Cmd) (stop func() int64) {
	var mu sync.Mutex
	var peak int64
	done := make(chan struct{})
	go func() {
		for {
			for _, p := range procs {
				kib := vmHWM(p.Process.Pid)
				mu.Lock()
				peak = max(peak, kib)
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(done)
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// vmHWM reads a process's peak resident set in KiB (0 when gone).
func vmHWM(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// writeBatchInputs writes one case per stolen address (a trace from there
// on) and the exchanges' labels.
func writeBatchInputs(g *synthnode.Graph, n int, casesPath, labelsPath string) error {
	var c strings.Builder
	c.WriteString("case_id,chain,seeds,from_block,to_block,min_value\n")
	step := len(g.Stolen) / n
	for i := range n {
		fmt.Fprintf(&c, "c%05d,dev,%s,%d,%d,0\n", i, g.Stolen[i*step].Hex(), g.From, g.To)
	}
	var l strings.Builder
	l.WriteString("chain,address,label,category,source\n")
	for _, a := range g.Exchanges {
		fmt.Fprintf(&l, "dev,%s,Exchange deposit,exchange,synthnode\n", a.Hex())
	}
	if err := os.WriteFile(casesPath, []byte(c.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(labelsPath, []byte(l.String()), 0o644)
}
