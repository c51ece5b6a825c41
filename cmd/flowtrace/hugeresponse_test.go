// The race detector multiplies memory use (shadow memory), so this peak-RSS
// bound holds only in normal builds: make test runs it, make race does not.

//go:build !race

package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flowtrace/flowtrace/chains/rpcfault"
)

// TestHugeResponseCapped feeds the trace a 1 GiB answer to its first
// eth_getLogs: the transport stops reading at --max-response-mb, the query
// is split, the trace equals the fault-free one, and the process's peak
// resident memory grows by a bounded amount (logged: the figure in README).
func TestHugeResponseCapped(t *testing.T) {
	fc := startFaultCase(t)
	for _, capMB := range []int{16, 64} {
		var served atomic.Int32
		p, err := rpcfault.Start(rpcfault.Options{Upstream: fc.node.URL(), HugeBytes: 1 << 30,
			Huge: func(method string) bool { return method == "eth_getLogs" && served.Add(1) == 1 }})
		if err != nil {
			t.Fatal(err)
		}
		before := peakRSS(t)
		out := t.TempDir()
		code, _, stderr := fc.trace(t, p.URL(), out, "--max-response-mb", strconv.Itoa(capMB))
		p.Close()
		if code != exitOK {
			t.Fatalf("--max-response-mb %d: exit %d:\n%s", capMB, code, stderr)
		}
		after := peakRSS(t)
		grew := max(after-before, 0)
		t.Logf("1 GiB answer, --max-response-mb %d: peak RSS %d MiB -> %d MiB (+%d MiB)", capMB, before>>20, after>>20, grew>>20)
		if limit := int64(3*capMB+200) << 20; grew > limit {
			t.Errorf("peak RSS grew %d MiB, over %d MiB", grew>>20, limit>>20)
		}
		sameOutputs(t, fc.want, out)
	}
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatalf("peak memory needs /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}
