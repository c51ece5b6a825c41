package main

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/spf13/cobra"

	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/cmd/flowtrace/internal/serve"
	"github.com/flowtrace/flowtrace/fixtures/scenario"
)

// demoCase traces the recorded dev-theft case into a fresh folder named demo.
func demoCase(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "demo")
	args := append([]string{"trace", "-q", "--replay", filepath.Join(devTheft, "rpc.replay"), "--render-timeout", "0", "--out", out}, caseArgs(t, devTheft)...)
	var sink strings.Builder
	if code := run(context.Background(), args, &sink, &sink); code != exitOK {
		t.Fatalf("trace exit %d: %s", code, sink.String())
	}
	return out
}

// graphDoc is what the tests read of graph.json.
type graphDoc struct {
	Case  string `json:"case"`
	Seeds []string
	Nodes []struct {
		Address string `json:"address"`
	} `json:"nodes"`
	Edges []struct {
		From, To, Asset, Symbol string
		Transfers               []struct {
			TxHash string `json:"tx_hash"`
		} `json:"transfers"`
	} `json:"edges"`
}

func readGraph(t *testing.T, dir string) graphDoc {
	t.Helper()
	var g graphDoc
	if err := json.Unmarshal(readOutput(t, dir, "graph.json"), &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// startServer serves dir on a loopback port for the test.
func startServer(t testing.TB, dir string) (*serve.Server, *httptest.Server) {
	t.Helper()
	s, err := serve.New(serve.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

// browser starts headless chromium with a fresh profile and returns a tab
// context and the page errors seen so far (exceptions, CSP violations).
// Without chromium the test is skipped, or fails in CI.
func browser(t testing.TB) (context.Context, func() []string) {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (apt-get install -y chromium); CI needs it for the browser tests")
		}
		t.Skip("chromium is not installed (apt-get install -y chromium): browser tests skipped")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	var mu sync.Mutex
	var errs []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				mu.Lock()
				errs = append(errs, m.String())
				mu.Unlock()
			}
		}
	}()
	return ctx, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(errs) }
}

// screenshot saves the page under out/serve-NAME.png.
func screenshot(t testing.TB, ctx context.Context) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := filepath.Join("..", "..", "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := strings.ReplaceAll(t.Name(), "/", "-")
	if err := os.WriteFile(filepath.Join(dir, "serve-"+name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// openPage loads the page and waits until the graph is drawn.
func openPage(t testing.TB, ctx context.Context, url string, pageErrs func() []string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`body[data-ready], body[data-error]`))); err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}
	if failed := eval[string](t, ctx, `document.body.dataset.error || ""`); failed != "" {
		t.Fatalf("the page failed: %s (%v)", failed, pageErrs())
	}
}

// noPageErrors fails on exceptions and console errors (CSP violations among
// them) other than those containing one of the expected strings.
func noPageErrors(t testing.TB, pageErrs func() []string, expected ...string) {
	t.Helper()
	errs := slices.DeleteFunc(pageErrs(), func(e string) bool {
		return slices.ContainsFunc(expected, func(x string) bool { return strings.Contains(e, x) })
	})
	if len(errs) > 0 {
		t.Errorf("page errors (exceptions, CSP violations):\n%s", strings.Join(errs, "\n"))
	}
}

func text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t testing.TB, ctx context.Context, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// do runs the steps in the page.
func do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// position is where the page draws a node.
type position struct {
	X, Y    float64
	Visible bool
}

func nodeAt(t testing.TB, ctx context.Context, id string) position {
	t.Helper()
	return eval[position](t, ctx, fmt.Sprintf(`flowtraceView.position(%q)`, id))
}

// clickNode clicks where the page draws the node id.
func clickNode(t testing.TB, ctx context.Context, id string) {
	t.Helper()
	p := nodeAt(t, ctx, id)
	if !p.Visible {
		t.Fatalf("node %s is not shown", id)
	}
	do(t, ctx, chromedp.MouseClickXY(p.X, p.Y))
}

func TestServeDemoLoads(t *testing.T) {
	dir := demoCase(t)
	g := readGraph(t, dir)
	_, hs := startServer(t, dir)
	ctx, pageErrs := browser(t)
	openPage(t, ctx, hs.URL, pageErrs)
	if got, want := text(t, ctx, "#count-nodes"), fmt.Sprint(len(g.Nodes)); got != want {
		t.Errorf("page shows %s nodes, graph.json has %s", got, want)
	}
	if got, want := text(t, ctx, "#count-edges"), fmt.Sprint(len(g.Edges)); got != want {
		t.Errorf("page shows %s edges, graph.json has %s", got, want)
	}
	if acc := text(t, ctx, "#accounting"); !strings.Contains(acc, "ETH") || !strings.Contains(acc, "exchange") {
		t.Errorf("value accounting shows %q, want the ETH buckets", acc)
	}
	screenshot(t, ctx)
	noPageErrors(t, pageErrs)
}

func TestServeSeedTransfers(t *testing.T) {
	dir := demoCase(t)
	g := readGraph(t, dir)
	seed := g.Seeds[0]
	var want []string
	for _, e := range g.Edges {
		if e.From == seed || e.To == seed {
			for _, x := range e.Transfers {
				want = append(want, x.TxHash)
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("the demo seed has no transfers")
	}
	_, hs := startServer(t, dir)
	ctx, pageErrs := browser(t)
	openPage(t, ctx, hs.URL, pageErrs)
	clickNode(t, ctx, seed)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#panel[data-address=%q] table.transfers tr`, seed))))
	got := eval[[]string](t, ctx, `[...document.querySelectorAll('#panel table.transfers tr')].map(r => r.dataset.tx)`)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the seed's panel lists transfers %v, graph.json has %v", got, want)
	}
	screenshot(t, ctx)
	noPageErrors(t, pageErrs)
}

func TestServeAssetFilter(t *testing.T) {
	dir := demoCase(t)
	_, hs := startServer(t, dir)
	ctx, pageErrs := browser(t)
	openPage(t, ctx, hs.URL, pageErrs)
	before := eval[[]string](t, ctx, `flowtraceView.shownEdgeAssets()`)
	if !slices.ContainsFunc(before, func(a string) bool { return a != "native" }) {
		t.Fatalf("the demo shows no token edge before filtering: %v", before)
	}
	shown := text(t, ctx, "#shown-edges")
	do(t, ctx,
		chromedp.SetValue(chromedp.CSS("#f-asset"), "native"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-asset').dispatchEvent(new Event('change'))`),
		chromedp.WaitNotPresent(chromedp.CSS(fmt.Sprintf(`body[data-shown-edges=%q]`, shown))),
	)
	after := eval[[]string](t, ctx, `flowtraceView.shownEdgeAssets()`)
	if len(after) == 0 || slices.ContainsFunc(after, func(a string) bool { return a != "native" }) {
		t.Errorf("with asset native the page shows edges of %v, want native ones only", after)
	}
	screenshot(t, ctx)
	noPageErrors(t, pageErrs)
}

func TestServeExpandFanOut(t *testing.T) {
	dir := demoCase(t)
	_, hs := startServer(t, dir)
	ctx, pageErrs := browser(t)
	openPage(t, ctx, hs.URL, pageErrs)
	groups := eval[[]struct {
		ID      string
		Members []string
		Visible bool
	}](t, ctx, `flowtraceView.groups()`)
	if len(groups) == 0 || !groups[0].Visible {
		t.Fatalf("the demo shows no collapsed fan-out: %+v", groups)
	}
	grp := groups[0]
	for _, m := range grp.Members {
		if nodeAt(t, ctx, m).Visible {
			t.Fatalf("member %s of the collapsed %s is drawn", m, grp.ID)
		}
	}
	clickNode(t, ctx, grp.ID)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`body[data-expanded=%q]`, grp.ID))))
	listed := eval[[]string](t, ctx, `[...document.querySelectorAll('#panel ul.members li')].map(li => li.textContent)`)
	if !slices.Equal(listed, grp.Members) {
		t.Errorf("panel lists %v, want the members %v", listed, grp.Members)
	}
	for _, m := range grp.Members {
		if !nodeAt(t, ctx, m).Visible {
			t.Errorf("member %s is not drawn after expanding", m)
		}
	}
	screenshot(t, ctx)
	noPageErrors(t, pageErrs)
}

func TestServeHostileSymbol(t *testing.T) {
	dir := demoCase(t)
	const hostile = `<img src=x onerror="document.title='pwned';window.pwned=1">`
	data := readOutput(t, dir, "graph.json")
	esc, _ := json.Marshal(hostile)
	if !strings.Contains(string(data), `"symbol": "FUSD"`) {
		t.Fatal("the demo has no FUSD token to rename")
	}
	data = []byte(strings.ReplaceAll(string(data), `"symbol": "FUSD"`, `"symbol": `+string(esc)))
	if err := os.WriteFile(filepath.Join(dir, "graph.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, hs := startServer(t, dir)
	ctx, pageErrs := browser(t)
	openPage(t, ctx, hs.URL, pageErrs)
	imgs := eval[int](t, ctx, `document.querySelectorAll('img').length`)
	pwned := eval[bool](t, ctx, `window.pwned === 1`)
	title := eval[string](t, ctx, `document.title`)
	if acc := text(t, ctx, "#accounting"); !strings.Contains(acc, hostile) {
		t.Errorf("the accounting does not show the symbol as text: %q", acc)
	}
	options := eval[string](t, ctx, `[...document.querySelectorAll('#f-asset option')].map(o => o.textContent).join('|')`)
	if !strings.Contains(options, hostile) {
		t.Errorf("the asset filter does not list the symbol as text: %q", options)
	}
	if imgs != 0 || pwned || title == "pwned" {
		t.Errorf("the hostile symbol ran: %d img elements, pwned=%v, title %q", imgs, pwned, title)
	}
	screenshot(t, ctx)
	noPageErrors(t, pageErrs)
}

func TestServeTokenRequired(t *testing.T) {
	dir := demoCase(t)
	g := readGraph(t, dir)
	s, hs := startServer(t, dir)
	label := fmt.Sprintf(`{"chain":"dev","address":%q,"label":"suspect","category":"other","source":"case note"}`, g.Seeds[0])
	post := func(hdr map[string]string, cookie bool) int {
		req, _ := http.NewRequest("POST", hs.URL+"/api/cases/demo/labels", strings.NewReader(label))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if cookie {
			req.AddCookie(&http.Cookie{Name: "flowtrace_session", Value: s.Token()})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name   string
		hdr    map[string]string
		cookie bool
	}{
		{"no token", nil, true},
		{"wrong token", map[string]string{serve.TokenHeader: strings.Repeat("0", 64)}, true},
		{"no cookie", map[string]string{serve.TokenHeader: s.Token()}, false},
		{"other origin", map[string]string{serve.TokenHeader: s.Token(), "Origin": "https://evil.example"}, true},
		{"cross site", map[string]string{serve.TokenHeader: s.Token(), "Sec-Fetch-Site": "cross-site"}, true},
	} {
		if code := post(tc.hdr, tc.cookie); code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, code)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, serve.LabelFile)); err == nil {
		t.Fatal("a refused request wrote labels.csv")
	}
	req, _ := http.NewRequest("GET", hs.URL+"/api/cases", nil)
	req.Host = "rebind.example:80"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("a request for another Host got %v %v, want 421", resp.StatusCode, err)
	}

	// The page itself: a fetch without the token is refused, the form with it saves.
	ctx, pageErrs := browser(t)
	openPage(t, ctx, hs.URL, pageErrs)
	status := eval[int](t, ctx, fmt.Sprintf(`fetch('/api/cases/demo/labels', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: %q}).then(r => r.status)`, label), chromedp.EvalAwaitPromise)
	if status != http.StatusForbidden {
		t.Errorf("a fetch from the page without the token got %d, want 403", status)
	}
	clickNode(t, ctx, g.Seeds[0])
	do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`#label-form`)),
		chromedp.SendKeys(chromedp.CSS(`#label-form input[name=label]`), "suspect <b>x</b>"),
		chromedp.SendKeys(chromedp.CSS(`#label-form input[name=note]`), "case note"),
		chromedp.Click(chromedp.CSS(`#label-form button`)),
		chromedp.WaitVisible(chromedp.Search(`//ul[contains(@class,"labels")]/li[contains(., "labels.csv")]`)),
	)
	reg := labels.New()
	if err := reg.LoadFile(filepath.Join(dir, serve.LabelFile)); err != nil {
		t.Fatalf("the saved label file does not load as --labels: %v", err)
	}
	saved := string(readOutput(t, dir, serve.LabelFile))
	if !strings.Contains(saved, "suspect <b>x</b>") || !strings.Contains(saved, g.Seeds[0]) {
		t.Errorf("labels.csv is %q, want the seed's new label", saved)
	}
	if eval[int](t, ctx, `document.querySelectorAll('#panel b').length`) != 0 {
		t.Error("the label was rendered as HTML")
	}
	screenshot(t, ctx)
	noPageErrors(t, pageErrs, "status of 403")
}

// TestServeExpandOneHop traces the scenario on the in-process dev node one
// hop deep, then expands a node at the depth limit from the page: the
// case folder's outputs are rewritten with its outflows and the page shows them.
func TestServeExpandOneHop(t *testing.T) {
	node, truth := playScenario(t)
	caseDir := t.TempDir()
	if err := scenario.WriteCase(caseDir, truth); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "live")
	args := caseArgs(t, caseDir)
	code, _, stderr := runCLI(t, append([]string{"trace", "-q", "--rpc", node.URL(), "--depth", "1", "--render-timeout", "0", "--out", out}, args...)...)
	if code != exitOK && code != exitIncomplete {
		t.Fatalf("trace exit %d:\n%s", code, stderr)
	}
	// The node to expand: the first at the depth limit that pays someone in the full trace (want.json).
	var full struct {
		Edges []struct{ From, To string }
	}
	if err := json.Unmarshal(readOutput(t, devTheft, "want.json"), &full); err != nil {
		t.Fatal(err)
	}
	var before struct {
		Nodes []struct{ Address, Stop string }
	}
	json.Unmarshal(readOutput(t, out, "graph.json"), &before)
	known := map[string]bool{}
	for _, n := range before.Nodes {
		known[n.Address] = true
	}
	target, want := "", map[string]bool{}
	for _, n := range before.Nodes {
		for _, e := range full.Edges {
			if n.Stop == "depth" && e.From == n.Address && !known[e.To] && (target == "" || target == n.Address) {
				target, want[e.To] = n.Address, true
			}
		}
	}
	if target == "" {
		t.Fatalf("no node of the one-hop trace is at the depth limit and pays a new address: %+v", before.Nodes)
	}

	o := &serveOptions{}
	cmd := &cobra.Command{}
	o.register(cmd)
	var labelArgs []string
	for i := 1; i < len(args); i++ {
		if args[i-1] == "--labels" {
			labelArgs = append(labelArgs, "--labels", args[i])
		}
	}
	if err := cmd.ParseFlags(append([]string{"--rpc", node.URL(), "--render-timeout", "0"}, labelArgs...)); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	s, err := o.newServer(out, &log)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)

	ctx, pageErrs := browser(t)
	openPage(t, ctx, hs.URL, pageErrs)
	clickNode(t, ctx, target)
	do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`#expand-hop`)),
		chromedp.Click(chromedp.CSS(`#expand-hop`)),
	)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`body[data-expanded-hop=%q]`, target)))); err != nil {
		t.Fatalf("the page did not expand %s: %v; status %q; serve log:\n%s", target, err, text(t, ctx, "#status"), log.String())
	}

	var after struct {
		Params map[string]string
		Nodes  []struct{ Address, Stop string }
		Edges  []struct {
			From, To  string
			Transfers []struct {
				TxHash string `json:"tx_hash"`
			}
		}
	}
	if err := json.Unmarshal(readOutput(t, out, "graph.json"), &after); err != nil {
		t.Fatal(err)
	}
	if after.Params["expand"] != target {
		t.Errorf("params.expand = %q, want %s", after.Params["expand"], target)
	}
	got := map[string]bool{}
	csv := string(readOutput(t, out, "transfers.csv"))
	for _, e := range after.Edges {
		if e.From == target {
			got[e.To] = true
			for _, x := range e.Transfers {
				if !strings.Contains(csv, x.TxHash) {
					t.Errorf("transfers.csv lacks %s of the expansion: the outputs disagree", x.TxHash)
				}
			}
		}
	}
	for to := range want {
		if !got[to] {
			t.Errorf("after expanding, graph.json has no edge %s -> %s (the full trace has it)", target, to)
		}
	}
	if len(after.Nodes) < len(before.Nodes)+len(want) {
		t.Errorf("graph.json has %d nodes after expanding, %d before; want %d more", len(after.Nodes), len(before.Nodes), len(want))
	}
	if shown := text(t, ctx, "#count-nodes"); shown != fmt.Sprint(len(after.Nodes)) {
		t.Errorf("the page shows %s nodes, graph.json now has %d", shown, len(after.Nodes))
	}
	screenshot(t, ctx)
	noPageErrors(t, pageErrs)
}

func TestServeBadInput(t *testing.T) {
	demo := demoCase(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "serve takes one folder"},
		{[]string{"serve", filepath.Join(t.TempDir(), "missing")}, "is not a folder"},
		{[]string{"serve", t.TempDir()}, "make demo writes out/demo"},
		{[]string{"serve", demo, "--listen", "7474"}, "is not HOST:PORT"},
		{[]string{"serve", demo, "--explorers", filepath.Join(demo, "graph.dot")}, "--explorers"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestServeWarnsOffLoopback starts the command on all interfaces and waits
// for its "serving" line before stopping it.
func TestServeWarnsOffLoopback(t *testing.T) {
	demo := demoCase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", demo, "--listen", "0.0.0.0:0"}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.Contains(line, "serving") {
		t.Fatalf("first line %q (%v), want the serving line", line, err)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if code := <-done; code != exitOK {
		t.Errorf("exit %d after interrupt, want 0", code)
	}
	if !strings.Contains(stderr.String(), "not a loopback address") {
		t.Errorf("stderr %q, want the warning about a non-loopback --listen", stderr.String())
	}
}

// TestServeSearchAndExport finds a transfer by its tx hash and exports the
// view as SVG: one circle per node shown, one line per edge shown.
func TestServeSearchAndExport(t *testing.T) {
	dir := demoCase(t)
	g := readGraph(t, dir)
	var from, hash string
	for _, e := range g.Edges {
		if e.From != g.Seeds[0] {
			from, hash = e.From, e.Transfers[0].TxHash
			break
		}
	}
	_, hs := startServer(t, dir)
	ctx, pageErrs := browser(t)
	openPage(t, ctx, hs.URL, pageErrs)
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#search"), hash+"\r"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#panel[data-address=%q]`, from))),
	)
	if got := eval[[]string](t, ctx, `[...document.querySelectorAll('#panel table.transfers tr')].map(r => r.dataset.tx)`); !slices.Contains(got, hash) {
		t.Errorf("searching %s shows %s with transfers %v, want the hash among them", hash, from, got)
	}
	svg := eval[string](t, ctx, `flowtraceView.svg()`)
	var doc struct {
		Circles []struct{} `xml:"circle"`
		Lines   []struct{} `xml:"line"`
	}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatalf("the exported SVG does not parse: %v", err)
	}
	if nodes, edges := text(t, ctx, "#shown-nodes"), text(t, ctx, "#shown-edges"); fmt.Sprint(len(doc.Circles)) != nodes || fmt.Sprint(len(doc.Lines)) != edges {
		t.Errorf("the SVG has %d nodes and %d edges, the page shows %s and %s", len(doc.Circles), len(doc.Lines), nodes, edges)
	}
	screenshot(t, ctx)
	noPageErrors(t, pageErrs)
}

// btcCase traces the recorded Bitcoin case (fixtures/btc-regtest) into a
// fresh folder, with --min-value 0: the fixture's 0.1% threshold leaves the
// miners' fees as skipped dust, and the page is to show their sink too.
func btcCase(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "btc")
	args := append([]string{"trace", "-q", "--replay", filepath.Join(btcTheft, "rpc.replay"), "--render-timeout", "0", "--out", out}, caseArgs(t, btcTheft)...)
	var sink strings.Builder
	if code := run(context.Background(), append(args, "--min-value", "0"), &sink, &sink); code != exitOK {
		t.Fatalf("trace exit %d: %s", code, sink.String())
	}
	return out
}

// btcDoc is what TestServeBitcoinCase reads of a Bitcoin graph.json.
type btcDoc struct {
	Chain string   `json:"chain"`
	Seeds []string `json:"seeds"`
	Nodes []struct {
		Address  string            `json:"address"`
		Chain    string            `json:"chain"`
		Category string            `json:"category"`
		Received map[string]string `json:"received"`
	} `json:"nodes"`
	Summary struct {
		Assets []struct {
			Asset    string            `json:"asset"`
			Symbol   string            `json:"symbol"`
			Decimals int               `json:"decimals"`
			Stolen   string            `json:"stolen"`
			Buckets  map[string]string `json:"buckets"`
			Shares   map[string]string `json:"shares"`
		} `json:"assets"`
	} `json:"summary"`
}

// wholeUnits writes base units in whole units with the fraction's trailing
// zeros dropped, as report.md and the page do (no digit grouping: the
// amounts of the Bitcoin case are below 1,000).
func wholeUnits(t *testing.T, amount string, decimals int) string {
	t.Helper()
	v, ok := new(big.Int).SetString(amount, 10)
	if !ok || v.Sign() < 0 || v.Cmp(big.NewInt(1000).Exp(big.NewInt(10), big.NewInt(int64(decimals+3)), nil)) >= 0 {
		t.Fatalf("amount %q: want a base-unit count below 1,000 whole units", amount)
	}
	s := fmt.Sprintf("%0*s", decimals+1, v.String())
	whole, frac := s[:len(s)-decimals], strings.TrimRight(s[len(s)-decimals:], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// TestServeBitcoinCase: the page of a Bitcoin trace draws its transactions
// as diamonds and the miners' fee sink in a colour of its own, both in the
// legend as drawn; states every amount in BTC with its 8 decimals (the
// accounting's buckets, fees among them, and the seed's panel); shows a
// node's chain; and links nothing, since no explorer is known for regtest.
func TestServeBitcoinCase(t *testing.T) {
	dir := btcCase(t)
	var doc btcDoc
	if err := json.Unmarshal(readOutput(t, dir, "graph.json"), &doc); err != nil {
		t.Fatal(err)
	}
	var txNode, feeNode string
	categories := map[string]bool{}
	for _, n := range doc.Nodes {
		categories[n.Category] = true
		switch {
		case n.Category == "transaction" && txNode == "":
			txNode = n.Address
		case n.Category == "fees":
			feeNode = n.Address
		}
	}
	if txNode == "" || feeNode == "" || len(doc.Summary.Assets) != 1 || doc.Summary.Assets[0].Symbol != "BTC" || doc.Summary.Assets[0].Decimals != 8 {
		t.Fatalf("the Bitcoin case has transaction node %q, fee node %q, assets %+v: want both and BTC with 8 decimals", txNode, feeNode, doc.Summary.Assets)
	}
	_, hs := startServer(t, dir)
	ctx, pageErrs := browser(t)
	openPage(t, ctx, hs.URL, pageErrs)

	// The legend lists the graph's categories, each in the colour its nodes are drawn in.
	legend := eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('#legend .legend-item')].map(i => [i.dataset.category, i.dataset.color]))`)
	for c := range categories {
		if legend[c] == "" {
			t.Errorf("the legend lacks category %s: %v", c, legend)
		}
	}
	colours := map[string]string{}
	for c, colour := range legend {
		if other, dup := colours[colour]; dup {
			t.Errorf("categories %s and %s share the colour %s", c, other, colour)
		}
		colours[colour] = c
	}
	type look struct {
		Color, Type string
		Size        float64
	}
	tx, fee := eval[look](t, ctx, fmt.Sprintf(`flowtraceView.node(%q)`, txNode)), eval[look](t, ctx, fmt.Sprintf(`flowtraceView.node(%q)`, feeNode))
	if tx.Color != legend["transaction"] || tx.Type != "diamond" {
		t.Errorf("transaction %s is drawn as %+v, want a diamond in the legend's %s", txNode, tx, legend["transaction"])
	}
	if fee.Color != legend["fees"] || fee.Type != "circle" {
		t.Errorf("the fee sink %s is drawn as %+v, want a circle in the legend's %s", feeNode, fee, legend["fees"])
	}
	seedLook := eval[look](t, ctx, fmt.Sprintf(`flowtraceView.node(%q)`, doc.Seeds[0]))
	if tx.Size >= seedLook.Size {
		t.Errorf("transaction nodes are drawn %v wide, the seed %v: want them smaller", tx.Size, seedLook.Size)
	}

	// The accounting: every bucket of the summary, fees among them, in BTC.
	a := doc.Summary.Assets[0]
	if a.Buckets["fees"] == "" {
		t.Fatalf("the summary has no fees bucket: %v", a.Buckets)
	}
	buckets := eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('#accounting [data-bucket]')].map(i => [i.dataset.bucket, i.textContent]))`)
	for b, amount := range a.Buckets {
		if want := b + " " + wholeUnits(t, amount, 8) + " BTC (" + a.Shares[b] + ")"; buckets[b] != want {
			t.Errorf("accounting shows bucket %s as %q, want %q", b, buckets[b], want)
		}
	}
	if acc, want := text(t, ctx, "#accounting .asset-name"), "BTC — stolen "+wholeUnits(t, a.Stolen, 8)+" BTC"; acc != want {
		t.Errorf("accounting heads %q, want %q", acc, want)
	}
	if body := text(t, ctx, "body"); strings.Contains(body, "ETH") {
		t.Errorf("the page of a Bitcoin trace mentions ETH: %q", body)
	}

	// The seed's panel: its chain, what it received in BTC, no explorer links.
	seed := doc.Seeds[0]
	var received string
	for _, n := range doc.Nodes {
		if n.Address == seed {
			received = n.Received["native"]
		}
	}
	clickNode(t, ctx, seed)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#panel[data-address=%q] table.transfers tr`, seed))))
	facts := eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('#panel table.facts tr')].map(r => [r.cells[0].textContent, r.cells[1].textContent]))`)
	if facts["chain"] != doc.Chain || doc.Chain != "bitcoin-regtest" {
		t.Errorf("the seed's panel says chain %q, graph.json %q: want bitcoin-regtest", facts["chain"], doc.Chain)
	}
	if panel, want := text(t, ctx, "#panel"), "received "+wholeUnits(t, received, 8)+" BTC"; !strings.Contains(panel, want) {
		t.Errorf("the seed's panel lacks %q: %q", want, panel)
	}
	amounts := eval[[]string](t, ctx, `[...document.querySelectorAll('#panel table.transfers tr')].map(r => r.cells[1].textContent)`)
	for _, s := range amounts {
		if !strings.HasSuffix(s, " BTC") {
			t.Errorf("the seed's transfer of %q is not in BTC", s)
		}
	}
	if links := eval[[]string](t, ctx, `[...document.querySelectorAll('#panel a')].map(a => a.href)`); len(links) > 0 {
		t.Errorf("the panel links %v: no explorer is known for bitcoin-regtest", links)
	}
	screenshot(t, ctx)
	noPageErrors(t, pageErrs)
}
