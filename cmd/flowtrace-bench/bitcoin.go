package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/flowtrace/flowtrace/chains/bitcoin"
	"github.com/flowtrace/flowtrace/fixtures/btcsynth"
	"github.com/flowtrace/flowtrace/fixtures/latency"
)

// The Bitcoin block scan: a window of mainnet-sized synthetic blocks (3,000
// transactions each, Bitcoin Core's getblock verbosity 3 shape) read through
// the latency proxy, each block once, against the bound
// ceil(blocks / (blocks per batch x concurrency)) x RTT + decode time, where
// decode time is one block's measured decoding times the blocks.

const (
	btcBlocksPerBatch = 4
	btcConcurrency    = 4
)

func runBTCScanBench(ctx context.Context, o options, stdout, stderr io.Writer) int {
	return runRows(o, stdout, stderr, func(t *Table) error {
		return btcScanRow(ctx, t, o.btcScan, time.Duration(o.latencyMS)*time.Millisecond, stderr)
	})
}

func btcScanRow(ctx context.Context, t *Table, blocks int, lat time.Duration, log io.Writer) error {
	srv, err := btcsynth.Start(btcsynth.Config{Blocks: blocks, Seed: 7})
	if err != nil {
		return err
	}
	defer srv.Close()

	// Decode time of one block, on a quiet process (best of 3).
	sample := srv.Block(1)
	var decode time.Duration
	txsPerBlock := 0
	for i := range 3 {
		began := time.Now()
		b, missing, err := bitcoin.DecodeBlock(sample)
		d := time.Since(began)
		if err != nil || missing != 0 {
			return fmt.Errorf("decode a synthetic block: %v (%d inputs without prevout)", err, missing)
		}
		txsPerBlock = len(b.Txs)
		if i == 0 || d < decode {
			decode = d
		}
	}
	sample = nil
	runtime.GC()
	// Reset the peak RSS so that it measures the scan (Linux: clear_refs 5).
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)

	proxy, err := latency.Start(srv.URL(), lat)
	if err != nil {
		return err
	}
	defer proxy.Close()
	c, err := bitcoin.Dial(proxy.URL, bitcoin.Options{MaxConcurrent: btcConcurrency})
	if err != nil {
		return err
	}
	s := bitcoin.NewScanner(c, bitcoin.ScanOptions{BlocksPerBatch: btcBlocksPerBatch, MaxDuration: 24 * time.Hour})
	fmt.Fprintf(log, "flowtrace-bench: bitcoin scan of %d blocks x %d txs at %s per round trip\n", blocks, txsPerBlock, lat)
	txs, next := 0, uint64(1)
	var inOrder = true
	cpu0 := cpuTime()
	began := time.Now()
	err = s.Scan(ctx, 1, uint64(blocks), func(b *bitcoin.Block) error {
		inOrder = inOrder && b.Height == next
		next++
		txs += len(b.Txs)
		return nil
	})
	wall := time.Since(began)
	cpu := cpuTime() - cpu0
	if err != nil {
		return err
	}
	peak, err := peakRSS()
	if err != nil {
		return err
	}
	_, roundTrips := c.Usage()
	steps := (blocks + btcBlocksPerBatch*btcConcurrency - 1) / (btcBlocksPerBatch * btcConcurrency)
	bound := time.Duration(steps)*lat + time.Duration(blocks)*decode
	onePerBlock := srv.GetBlocks() == int64(blocks) && s.Reads() == blocks && inOrder && txs == blocks*txsPerBlock
	if !onePerBlock {
		return fmt.Errorf("the scan read %d blocks (%d getblock answers) for %d, %d txs for %d, in order %v", s.Reads(), srv.GetBlocks(), blocks, txs, blocks*txsPerBlock, inOrder)
	}
	ok := peak < 500<<20 && float64(wall) <= 1.5*float64(bound)
	t.add(Row{Section: "bitcoin", Name: fmt.Sprintf("block scan: %d blocks x %d txs at %s RTT", blocks, txsPerBlock, lat),
		Measured: fmt.Sprintf("%s (CPU %s, node and proxy included), peak %s; %d getblock answers (one per block), %d HTTP round trips", ms(wall), ms(cpu), mib(peak), srv.GetBlocks(), roundTrips),
		Bound:    fmt.Sprintf("<= 1.5 x (%d steps x %s + %d x %s decode = %s), < 500 MiB", steps, lat, blocks, ms(decode), ms(bound)),
		Verdict:  verdict(ok),
		Figures: map[string]float64{"wall_ms": msf(wall), "cpu_ms": msf(cpu), "bound_ms": msf(bound), "decode_ms_per_block": msf(decode), "peak_bytes": peak,
			"blocks": float64(blocks), "txs": float64(txs), "round_trips": float64(roundTrips)}})
	return nil
}
