package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

// runChild traces one generated flow (args: seed, from, to, exchanges,
// file of planted addresses), builds and exports its graph, and prints a
// childResult with its own peak memory.
func runChild(ctx context.Context, url string, args []string, stdout io.Writer) error {
	if len(args) != 5 {
		return fmt.Errorf("want seed from to exchanges planted-file, got %q", args)
	}
	from, err1 := strconv.ParseUint(args[1], 10, 64)
	to, err2 := strconv.ParseUint(args[2], 10, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("bad window %s..%s", args[1], args[2])
	}
	reg := labels.New()
	for _, a := range strings.Split(args[3], ",") {
		if a != "" {
			reg.Add("dev", a, tracer.Label{Name: "Exchange deposit", Category: tracer.CategoryExchange, Source: "synthnode"})
		}
	}
	if dir := os.Getenv("FLOWTRACE_BENCH_PROFILE"); dir != "" {
		stop, err := profile(dir, fmt.Sprintf("scale-%s", args[2]))
		if err != nil {
			return err
		}
		defer stop()
	}
	src, err := dial(ctx, url, evm.NativeTraceFilter)
	if err != nil {
		return err
	}
	defer src.Close()
	tr, wall, err := walk(ctx, src, probeOf(src), tracer.Options{Chain: "dev", Seeds: []tracer.Address{tracer.Address(args[0])},
		Window: tracer.BlockRange{From: from, To: to}, Labels: reg})
	if err != nil {
		return err
	}
	r := childResult{WallMS: msf(wall), Nodes: len(tr.Nodes), Transfers: len(tr.Transfers), Hops: hops(tr),
		Requests: tr.Stats.Requests, RoundTrips: tr.Stats.RoundTrips, Complete: tr.Complete(), StopReason: string(tr.Stats.StopReason),
		ExportMS: map[string]float64{}, ExportBytes: map[string]float64{}}
	if r.TracePeakBytes, err = peakRSS(); err != nil {
		return err
	}
	r.CPUMS = msf(cpuTime())
	if r.PlantedExactly, err = plantedExactly(args[4], tr); err != nil {
		return err
	}

	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	began := time.Now()
	f, err := graph.Build(tr, graph.Options{})
	if err != nil {
		return err
	}
	r.BuildMS = msf(time.Since(began))
	runtime.GC()
	runtime.ReadMemStats(&m1)
	r.GraphBytes = float64(m1.HeapAlloc) - float64(m0.HeapAlloc)

	dir, err := os.MkdirTemp("", "flowtrace-bench-export-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for name, write := range map[string]func(io.Writer) error{
		"json": func(w io.Writer) error { return graph.WriteJSON(w, f, graph.Meta{Case: "bench"}) },
		"dot":  func(w io.Writer) error { return graph.WriteDOT(w, f, graph.DOTOptions{}) },
		"csv":  func(w io.Writer) error { return graph.WriteCSV(w, f) },
	} {
		began := time.Now()
		n, err := writeFile(filepath.Join(dir, "graph."+name), write)
		if err != nil {
			return fmt.Errorf("export %s: %w", name, err)
		}
		r.ExportMS[name], r.ExportBytes[name] = msf(time.Since(began)), float64(n)
	}
	runtime.KeepAlive(tr)
	runtime.KeepAlive(f)
	r.PeakBytes, err = peakRSS()
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(r)
}

func writeFile(path string, write func(io.Writer) error) (int64, error) {
	fh, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(fh, 1<<20)
	if err := write(bw); err != nil {
		fh.Close()
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		fh.Close()
		return 0, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return 0, err
	}
	return st.Size(), fh.Close()
}

// plantedExactly reports whether the trace's addresses are the planted ones.
func plantedExactly(path string, tr *tracer.Trace) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	want := map[string]bool{}
	for _, a := range strings.Fields(string(data)) {
		want[a] = true
	}
	if len(want) != len(tr.Nodes) {
		return false, nil
	}
	for _, n := range tr.Nodes {
		if !want[string(n.Address)] {
			return false, nil
		}
	}
	return true, nil
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS() (float64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak memory: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				return 0, fmt.Errorf("peak memory: %q: %w", line, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("peak memory: no VmHWM in /proc/self/status")
}

// profile writes a CPU profile of the child to dir/name.cpu.pprof until
// stop, which also writes the heap profile (dir/name.heap.pprof).
func profile(dir, name string) (stop func(), err error) {
	cpu, err := os.Create(filepath.Join(dir, name+".cpu.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		cpu.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		cpu.Close()
		if heap, err := os.Create(filepath.Join(dir, name+".heap.pprof")); err == nil {
			pprof.WriteHeapProfile(heap) //nolint:errcheck // best effort
			heap.Close()
		}
	}, nil
}
