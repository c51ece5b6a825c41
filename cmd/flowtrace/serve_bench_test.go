package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/flowtrace/flowtrace/fixtures/synthnode"
)

// synthCase traces a generated flow of about n addresses from
// fixtures/synthnode into a folder and returns it.
func synthCase(b *testing.B, n int) string {
	b.Helper()
	g := synthnode.Generate(synthnode.Config{Seed: 5, Addresses: n, Hops: 6})
	srv, err := synthnode.Start(g, synthnode.Options{BatchLimit: 1000, MaxAddresses: 1000})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	out := filepath.Join(b.TempDir(), fmt.Sprintf("synth-%d", n))
	args := []string{"trace", "-q", "--rpc", srv.URL(), "--chain", "dev", "--seed", g.Seeds[0].Hex(),
		"--from-block", strconv.FormatUint(g.From, 10), "--to-block", strconv.FormatUint(g.To, 10),
		"--min-value", "0", "--max-addresses", "0", "--render-timeout", "0", "--out", out}
	var sink strings.Builder
	if code := run(context.Background(), args, &sink, &sink); code != exitOK {
		b.Fatalf("trace exit %d: %s", code, sink.String())
	}
	return out
}

// BenchmarkServeRender loads the page of flowtrace serve in headless
// chromium and reports the time from navigation start to the first complete
// render of the graph (ms/render, read from the page's performance clock),
// the mean time between frames while the view is dragged with the mouse
// (ms/frame), and while the camera moves without a drag, which redraws
// everything each frame, edges and labels too (ms/redraw, as after a zoom
// or a search moves the view).
//
//	go test ./cmd/flowtrace -run '^$' -bench ServeRender -benchtime 3x
func BenchmarkServeRender(b *testing.B) {
	for _, size := range []int{0, 1_000, 10_000} {
		name := "demo"
		if size > 0 {
			name = fmt.Sprintf("synth-%d", size)
		}
		b.Run(name, func(b *testing.B) {
			dir := demoCase(b)
			if size > 0 {
				dir = synthCase(b, size)
			}
			_, hs := startServer(b, dir)
			ctx, pageErrs := browser(b)
			var total, nodes, frames, redraws float64
			b.ResetTimer()
			for b.Loop() {
				if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL), chromedp.WaitVisible(chromedp.CSS(`body[data-ready], body[data-error]`))); err != nil {
					b.Fatal(err)
				}
				ms := eval[float64](b, ctx, `Number(document.body.dataset.renderMs || -1)`)
				if ms < 0 {
					b.Fatalf("the page did not render: %v", pageErrs())
				}
				total += ms
				nodes = eval[float64](b, ctx, `Number(document.getElementById('count-nodes').textContent)`)
				redraws += eval[float64](b, ctx, `flowtraceView.pan(10)`, chromedp.EvalAwaitPromise)
				frames += eval[float64](b, ctx, `flowtraceView.drag(10)`, chromedp.EvalAwaitPromise)
			}
			b.Logf("phases (ms since navigation start): %s", eval[string](b, ctx, `document.body.dataset.phases`))
			b.ReportMetric(total/float64(b.N), "ms/render")
			b.ReportMetric(frames/float64(b.N), "ms/frame")
			b.ReportMetric(redraws/float64(b.N), "ms/redraw")
			b.ReportMetric(nodes, "nodes")
			screenshot(b, ctx)
			noPageErrors(b, pageErrs)
		})
	}
}
