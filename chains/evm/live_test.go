package evm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/fixtures/devnode"
	"github.com/flowtrace/flowtrace/tracer"
)

// counter is an HTTP transport that counts the JSON-RPC methods going out
// (each batch element) and passes everything to the real node.
type counter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	var msgs []struct{ Method string }
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
		err = json.Unmarshal(body, &msgs)
	} else {
		msgs = make([]struct{ Method string }, 1)
		err = json.Unmarshal(body, &msgs[0])
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	for _, m := range msgs {
		c.calls[m.Method]++
	}
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (c *counter) get(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[method]
}

func dialCounted(t testing.TB, rawURL string, opts Options) (*Source, *counter) {
	t.Helper()
	cnt := &counter{calls: map[string]int{}}
	opts.HTTPClient = &http.Client{Transport: cnt}
	s, err := Dial(context.Background(), rawURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, cnt
}

func ta(as ...common.Address) []tracer.Address {
	var out []tracer.Address
	for _, a := range as {
		out = append(out, tracer.Address(strings.ToLower(a.Hex()))) // any case is accepted
	}
	return out
}

func sortTransfers(ts []tracer.Transfer) {
	slices.SortFunc(ts, func(a, b tracer.Transfer) int {
		if a.Before(b) {
			return -1
		}
		if b.Before(a) {
			return 1
		}
		return 0
	})
}

func TestLiveProbe(t *testing.T) {
	sc := startScenario(t)
	s, cnt := dialCounted(t, sc.node.URL(), Options{})
	info, err := s.Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	g, err := ethclient.NewClient(sc.node.Client()).HeaderByNumber(context.Background(), big.NewInt(0))
	if err != nil {
		t.Fatal(err)
	}
	want := ChainInfo{ChainID: devnode.ChainID, GenesisHash: g.Hash().Hex(), Head: 3, NativeMethod: MethodBlockScan}
	if info.ChainID.Cmp(want.ChainID) != 0 || info.GenesisHash != want.GenesisHash || info.Head != 3 || info.NativeMethod != want.NativeMethod {
		t.Errorf("Probe = %+v, want %+v", info, want)
	}
	if u := s.Usage(); u.RoundTrips != 1 || u.Requests != 4 || cnt.get("rpc_modules") != 1 {
		t.Errorf("probe cost %+v, rpc_modules sent %d times", u, cnt.get("rpc_modules"))
	}
}

func TestLiveTransfers(t *testing.T) {
	sc := startScenario(t)
	s, cnt := dialCounted(t, sc.node.URL(), Options{BatchSize: 2})
	ctx := context.Background()
	w := tracer.BlockRange{From: 1, To: sc.head}
	query := func(dir tracer.Direction, as ...common.Address) []string {
		t.Helper()
		ts, err := s.Transfers(ctx, tracer.TransferQuery{Direction: dir, Addresses: ta(as...), Window: w})
		if err != nil {
			t.Fatal(err)
		}
		sortTransfers(ts)
		return rows(sc, ts)
	}

	got := query(tracer.Outgoing, sc.alice)
	want := []string{
		"b2 tx0 seq0 [] native native alice->bob 1000000000000000000 from:alice",
		"b2 tx1 seq0 [] native native alice->disperse 6000000000000000 from:alice",
		"b2 tx2 seq1000000 log0 erc20 token alice->bob 500000000000000000000 from:alice",
		"b2 tx3 seq0 [] native native alice->forwarder 5000 from:alice",
		"b2 tx4 seq0 [] native native alice->destroyer 7000 from:alice",
		"b2 tx6 seq1000001 log1 erc20 token alice->carol 0 from:", // zero-value: TxFrom not looked up
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("alice outgoing (-want +got):\n%s", d)
	}
	if u := s.Usage(); u.BlocksScanned != 3 {
		t.Errorf("BlocksScanned = %d after the first query, want 3", u.BlocksScanned)
	}

	got = query(tracer.Incoming, sc.carol, sc.erin)
	want = []string{
		"b2 tx1 seq1 [0] internal native disperse->carol 1000000000000000 from:alice",
		"b2 tx3 seq3 [1] internal native forwarder->carol 2000 from:alice",
		"b2 tx4 seq1 [0] internal native destroyer->erin 7000 from:alice",
		"b2 tx6 seq1000001 log1 erc20 token alice->carol 0 from:",
		"b3 tx0 seq1000000 log0 erc20 token bob->carol 100000000000000000000 from:bob",
		"b3 tx1 seq0 [] native native bob->carol 100000000000000000 from:bob",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("carol, erin incoming (-want +got):\n%s", d)
	}

	got = query(tracer.Outgoing, sc.disperse, sc.forwarder, sc.reverter)
	want = []string{
		"b2 tx1 seq1 [0] internal native disperse->carol 1000000000000000 from:alice",
		"b2 tx1 seq2 [1] internal native disperse->dave 2000000000000000 from:alice",
		"b2 tx1 seq3 [2] internal native disperse->bob 3000000000000000 from:alice",
		"b2 tx3 seq3 [1] internal native forwarder->carol 2000 from:alice",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("contracts outgoing (-want +got):\n%s", d)
	}

	// Each block was traced once over the three queries, and TxFrom of
	// token transfers came from the scanned blocks.
	u := s.Usage()
	if u.BlocksScanned != 3 || cnt.get("debug_traceBlockByNumber") != 3 {
		t.Errorf("BlocksScanned = %d, debug_traceBlockByNumber sent %d times; want 3 and 3", u.BlocksScanned, cnt.get("debug_traceBlockByNumber"))
	}
	if n := cnt.get("eth_getTransactionByHash"); n != 0 {
		t.Errorf("eth_getTransactionByHash sent %d times, want 0 (known from the scan)", n)
	}
	if n := s.ScanBlocks(tracer.BlockRange{From: 1, To: 10}); n != 7 {
		t.Errorf("ScanBlocks([1,10]) = %d, want 7", n)
	}
	wantMethods := []string{"debug_traceBlockByNumber", "eth_blockNumber", "eth_chainId", "eth_getBlockByNumber", "eth_getLogs", "rpc_modules"}
	if d := cmp.Diff(wantMethods, s.Methods()); d != "" {
		t.Errorf("Methods (-want +got):\n%s", d)
	}
	// 3 probe calls besides the genesis block; one header per traced block.
	if cnt.get("eth_getBlockByNumber") != 1+3 {
		t.Errorf("eth_getBlockByNumber sent %d times, want 1 (genesis) + 3 (headers of the traced blocks)", cnt.get("eth_getBlockByNumber"))
	}
	if int64(cnt.get("eth_getLogs")+cnt.get("debug_traceBlockByNumber")+cnt.get("eth_getBlockByNumber")+3) != u.Requests {
		t.Errorf("Usage.Requests = %d, the node saw %v", u.Requests, cnt.calls)
	}
}

func TestLiveTokensOnlyAndTxFrom(t *testing.T) {
	sc := startScenario(t)
	s, cnt := dialCounted(t, sc.node.URL(), Options{Native: NativeOff})
	ts, err := s.Transfers(context.Background(), tracer.TransferQuery{
		Direction: tracer.Incoming, Addresses: ta(sc.bob, sc.carol), Window: tracer.BlockRange{From: 0, To: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	sortTransfers(ts)
	want := []string{
		"b2 tx2 seq1000000 log0 erc20 token alice->bob 500000000000000000000 from:alice",
		"b2 tx6 seq1000001 log1 erc20 token alice->carol 0 from:",
		"b3 tx0 seq1000000 log0 erc20 token bob->carol 100000000000000000000 from:bob",
	}
	if d := cmp.Diff(want, rows(sc, ts)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Two distinct transactions, one batch; asked again, from memory.
	if _, err := s.Transfers(context.Background(), tracer.TransferQuery{
		Direction: tracer.Incoming, Addresses: ta(sc.bob), Window: tracer.BlockRange{From: 0, To: 3},
	}); err != nil {
		t.Fatal(err)
	}
	if n := cnt.get("eth_getTransactionByHash"); n != 2 {
		t.Errorf("eth_getTransactionByHash sent %d times, want 2", n)
	}
	if cnt.get("debug_traceBlockByNumber")+cnt.get("rpc_modules") != 0 {
		t.Errorf("native off still asked %v", cnt.calls)
	}
}

// The eth_getLogs requests of a query do not grow with the frontier, up to
// AddressesPerQuery addresses per request.
func TestLiveLogsPerFrontier(t *testing.T) {
	sc := startScenario(t)
	for _, tt := range []struct {
		frontier, perQuery, want int
	}{
		{1, 1000, 1}, {10, 1000, 1}, {1000, 1000, 1}, {1000, 300, 4},
	} {
		s, cnt := dialCounted(t, sc.node.URL(), Options{Native: NativeOff, AddressesPerQuery: tt.perQuery})
		addrs := frontier(sc.alice, tt.frontier)
		ts, err := s.Transfers(context.Background(), tracer.TransferQuery{
			Direction: tracer.Outgoing, Addresses: addrs, Window: tracer.BlockRange{From: 0, To: 3},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := cnt.get("eth_getLogs"); got != tt.want || len(ts) != 2 {
			t.Errorf("frontier %d by %d: %d eth_getLogs, %d transfers; want %d and 2", tt.frontier, tt.perQuery, got, len(ts), tt.want)
		}
	}
}

// frontier is first plus n-1 fresh addresses.
func frontier(first common.Address, n int) []tracer.Address {
	out := []tracer.Address{addr(first)}
	for i := 1; i < n; i++ {
		out = append(out, addr(common.BigToAddress(big.NewInt(int64(0x10000+i)))))
	}
	return out
}

func BenchmarkLogsPerFrontier(b *testing.B) {
	sc := startScenario(b)
	for _, n := range []int{10, 100, 1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			s, cnt := dialCounted(b, sc.node.URL(), Options{Native: NativeOff})
			q := tracer.TransferQuery{Direction: tracer.Outgoing, Addresses: frontier(sc.alice, n), Window: tracer.BlockRange{From: 0, To: 3}}
			for b.Loop() {
				if _, err := s.Transfers(context.Background(), q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cnt.get("eth_getLogs"))/float64(b.N), "eth_getLogs/query")
		})
	}
}

// proxy serves the dev node through a test server whose answer hook may
// replace the node's answer to a request (body already read).
func proxy(t *testing.T, node string, hook func(w http.ResponseWriter, body []byte) bool) *httptest.Server {
	t.Helper()
	u, _ := url.Parse(node)
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.Host = u.Host
		if hook != nil && hook(w, body) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A node that refuses long ranges gets the range split until it answers.
func TestLiveRangeSplit(t *testing.T) {
	sc := startScenario(t)
	var refused int
	srv := proxy(t, sc.node.URL(), func(w http.ResponseWriter, body []byte) bool {
		var m struct {
			ID     json.RawMessage
			Method string
			Params []struct{ FromBlock, ToBlock string }
		}
		if json.Unmarshal(body, &m) != nil || m.Method != "eth_getLogs" || m.Params[0].FromBlock == m.Params[0].ToBlock {
			return false
		}
		refused++
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(m.ID)+`,"error":{"code":-32005,"message":"query returned more than 10000 results"}}`)
		return true
	})
	// BatchSize 1: every request is a plain one the hook can read.
	s, cnt := dialCounted(t, srv.URL, Options{Native: NativeOff, BatchSize: 1})
	ts, err := s.Transfers(context.Background(), tracer.TransferQuery{
		Direction: tracer.Outgoing, Addresses: ta(sc.alice, sc.bob), Window: tracer.BlockRange{From: 0, To: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	// [0,3] -> [0,1] [2,3] -> [0] [1] [2] [3]: 3 refused, 4 answered.
	if len(ts) != 3 || refused != 3 || cnt.get("eth_getLogs") != 7 {
		t.Errorf("%d transfers, %d refused, %d eth_getLogs; want 3, 3, 7", len(ts), refused, cnt.get("eth_getLogs"))
	}
}

// Transient failures are retried (honouring Retry-After); permanent ones
// fail at once; errors map to the tracer's sentinels.
func TestLiveRetries(t *testing.T) {
	sc := startScenario(t)
	var mu sync.Mutex
	fail := 0
	status := http.StatusTooManyRequests
	srv := proxy(t, sc.node.URL(), func(w http.ResponseWriter, body []byte) bool {
		mu.Lock()
		defer mu.Unlock()
		if fail == 0 {
			return false
		}
		fail--
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, "slow down", status)
		return true
	})
	set := func(n, code int) { mu.Lock(); fail, status = n, code; mu.Unlock() }
	dial := func() *Source {
		s, _ := dialCounted(t, srv.URL, Options{Native: NativeOff})
		s.c.backoffBase, s.c.backoffMax = time.Millisecond, 10*time.Millisecond
		return s
	}

	s := dial()
	var waits []time.Duration // what the retries would have slept
	var waitsMu sync.Mutex
	s.c.wait = func(_ context.Context, d time.Duration) error {
		waitsMu.Lock()
		defer waitsMu.Unlock()
		waits = append(waits, d)
		return nil
	}
	set(2, http.StatusTooManyRequests)
	info, err := s.Probe(context.Background())
	if err != nil || info.Head != 3 {
		t.Fatalf("Probe after two 429s = %+v, %v", info, err)
	}
	if fmt.Sprint(waits) != "[1s 1s]" {
		t.Errorf("two Retry-After: 1 answers waited %v, want [1s 1s]", waits)
	}
	if u := s.Usage(); u.RoundTrips != 3 {
		t.Errorf("RoundTrips = %d, want 3", u.RoundTrips)
	}

	s = dial()
	set(100, http.StatusBadGateway)
	s.c.attempts = 3
	_, err = s.Probe(context.Background())
	if err == nil || s.Usage().RoundTrips != 3 || !strings.Contains(err.Error(), "502") {
		t.Errorf("persistent 502: err %v after %d round trips, want an error after 3", err, s.Usage().RoundTrips)
	}

	s = dial()
	set(100, http.StatusTooManyRequests)
	s.c.attempts, s.c.backoffMax = 2, time.Millisecond
	_, err = s.Transfers(context.Background(), tracer.TransferQuery{Addresses: ta(sc.alice), Window: tracer.BlockRange{From: 0, To: 3}})
	if !errors.Is(err, tracer.ErrRateLimited) || !strings.Contains(err.Error(), "eth_getLogs [0,3]") {
		t.Errorf("persistent 429: err = %v, want ErrRateLimited naming eth_getLogs [0,3]", err)
	}

	s = dial()
	set(100, http.StatusUnauthorized)
	_, err = s.Probe(context.Background())
	if err == nil || s.Usage().RoundTrips != 1 {
		t.Errorf("401: err %v after %d round trips, want a failure after 1", err, s.Usage().RoundTrips)
	}
}

// A node without debug_* and trace_* (nor rpc_modules) is refused with advice.
func TestLiveUnsupported(t *testing.T) {
	sc := startScenario(t)
	srv := proxy(t, sc.node.URL(), func(w http.ResponseWriter, body []byte) bool {
		var out []map[string]any
		var msgs []struct {
			ID     json.RawMessage
			Method string
		}
		if json.Unmarshal(body, &msgs) != nil {
			return false
		}
		hidden := false
		for _, m := range msgs {
			if m.Method == "rpc_modules" || strings.HasPrefix(m.Method, "debug_") || strings.HasPrefix(m.Method, "trace_") {
				hidden = true
			}
		}
		if !hidden {
			return false
		}
		// Answer the batch by hand: method not found for the hidden ones,
		// the real node's answer for the others.
		for _, m := range msgs {
			if m.Method == "rpc_modules" || strings.HasPrefix(m.Method, "debug_") || strings.HasPrefix(m.Method, "trace_") {
				out = append(out, map[string]any{"jsonrpc": "2.0", "id": m.ID, "error": map[string]any{
					"code": -32601, "message": "the method " + m.Method + " does not exist/is not available"}})
				continue
			}
			one, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": m.ID, "method": m.Method, "params": paramsOf(body, m.ID)})
			resp, err := http.Post(sc.node.URL(), "application/json", bytes.NewReader(one))
			if err != nil {
				t.Error(err)
				return false
			}
			var r map[string]any
			json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			out = append(out, r)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
		return true
	})
	s, _ := dialCounted(t, srv.URL, Options{})
	_, err := s.Probe(context.Background())
	if !errors.Is(err, tracer.ErrUnsupported) {
		t.Fatalf("Probe err = %v, want ErrUnsupported", err)
	}
	for _, hint := range []string{"trace_filter", "debug_traceBlockByNumber", "--http.api eth,debug", "--native off"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("error %q does not mention %q", err, hint)
		}
	}
	_, err = s.Transfers(context.Background(), tracer.TransferQuery{Addresses: ta(sc.alice), Window: tracer.BlockRange{From: 0, To: 3}})
	if !errors.Is(err, tracer.ErrUnsupported) {
		t.Errorf("Transfers err = %v, want ErrUnsupported", err)
	}
}

func paramsOf(batch []byte, id json.RawMessage) any {
	var msgs []struct {
		ID     json.RawMessage
		Params any
	}
	json.Unmarshal(batch, &msgs)
	for _, m := range msgs {
		if bytes.Equal(m.ID, id) {
			return m.Params
		}
	}
	return nil
}

func TestLiveDescribe(t *testing.T) {
	sc := startScenario(t)
	s, cnt := dialCounted(t, sc.node.URL(), Options{})
	ctx := context.Background()
	d, err := s.Describe(ctx, ta(sc.alice, sc.token, sc.disperse), ta(sc.token, sc.disperse, sc.alice))
	if err != nil {
		t.Fatal(err)
	}
	want := tracer.Descriptions{
		Accounts: map[tracer.Address]tracer.Account{
			addr(sc.alice): {IsContract: false}, addr(sc.token): {IsContract: true}, addr(sc.disperse): {IsContract: true},
		},
		Tokens: map[tracer.Address]tracer.Token{addr(sc.token): {Symbol: "TT", Name: "Test Token", Decimals: 18}},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("Describe (-want +got):\n%s", diff)
	}
	before := s.Usage()
	d2, err := s.Describe(ctx, ta(sc.token), ta(sc.token, sc.disperse))
	if err != nil || len(d2.Tokens) != 1 || !d2.Accounts[addr(sc.token)].IsContract {
		t.Errorf("second Describe = %+v, %v", d2, err)
	}
	if s.Usage() != before {
		t.Errorf("memoised Describe still asked the node: %+v -> %+v", before, s.Usage())
	}
	if cnt.get("eth_getCode") != 3 || cnt.get("eth_call") != 9 {
		t.Errorf("sent %v", cnt.calls)
	}
}

// An unreachable endpoint's errors name its host, never its path, query or
// credentials.
func TestDialRedactsURL(t *testing.T) {
	const secret = "http://user:hunter2@127.0.0.1:1/v3/SECRETKEY?apikey=SECRETQUERY"
	s, err := Dial(context.Background(), secret, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.c.attempts = 1
	_, err = s.Probe(context.Background())
	if err == nil {
		t.Fatal("Probe of a closed port succeeded")
	}
	msg := err.Error()
	for _, leak := range []string{"hunter2", "SECRETKEY", "SECRETQUERY", "user"} {
		if strings.Contains(msg, leak) {
			t.Errorf("error %q leaks %q", msg, leak)
		}
	}
	if !strings.Contains(msg, "127.0.0.1:1") {
		t.Errorf("error %q does not name the host", msg)
	}
	for _, bad := range []string{"http://[::1:SECRET/x", "ftp://host/SECRET"} {
		if _, err := Dial(context.Background(), bad, Options{}); err == nil || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("Dial(%q) err = %v", bad, err)
		}
	}
}

func TestLiveLimits(t *testing.T) {
	sc := startScenario(t)
	ctx := context.Background()
	q := func(s *Source, to uint64, n int) error {
		_, err := s.Transfers(ctx, tracer.TransferQuery{Addresses: frontier(sc.alice, n), Window: tracer.BlockRange{From: 1, To: to}})
		return err
	}

	// The block scan refuses windows larger than MaxBlocks, counting only
	// blocks not scanned yet.
	s, cnt := dialCounted(t, sc.node.URL(), Options{MaxBlocks: 2})
	if err := q(s, 3, 1); !errors.Is(err, ErrTooManyBlocks) || cnt.get("debug_traceBlockByNumber") != 0 {
		t.Errorf("3 blocks with MaxBlocks 2: err %v, %d traced", err, cnt.get("debug_traceBlockByNumber"))
	}
	if err := q(s, 2, 1); err != nil {
		t.Fatal(err)
	}
	if err := q(s, 3, 1); err != nil || cnt.get("debug_traceBlockByNumber") != 3 {
		t.Errorf("[1,3] after [1,2]: err %v, %d traced", err, cnt.get("debug_traceBlockByNumber"))
	}

	// A window past the head is not found, without splitting.
	s, cnt = dialCounted(t, sc.node.URL(), Options{Native: NativeOff})
	if err := q(s, 10, 1); !errors.Is(err, tracer.ErrNotFound) || cnt.get("eth_getLogs") != 1 {
		t.Errorf("window past the head: err %v after %d eth_getLogs", err, cnt.get("eth_getLogs"))
	}

	// geth refuses OR-lists over --rpc.logquerylimit (1000): the list is halved.
	s, cnt = dialCounted(t, sc.node.URL(), Options{Native: NativeOff, AddressesPerQuery: 5000})
	if err := q(s, 3, 1500); err != nil || cnt.get("eth_getLogs") != 3 {
		t.Errorf("1500 addresses in one list: err %v after %d eth_getLogs, want 3", err, cnt.get("eth_getLogs"))
	}

	// Concurrent queries over the same blocks trace each block once.
	s, cnt = dialCounted(t, sc.node.URL(), Options{BatchSize: 1})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := q(s, 3, 1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := cnt.get("debug_traceBlockByNumber"); n != 3 || s.Usage().BlocksScanned != 3 {
		t.Errorf("8 concurrent queries traced %d blocks (BlocksScanned %d), want 3", n, s.Usage().BlocksScanned)
	}
}

// A provider that echoes its key in an error body does not leak it.
func TestLiveRedactsEchoedKey(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "invalid project id "+strings.TrimPrefix(r.URL.Path, "/v3/"), http.StatusUnauthorized)
	}))
	defer srv.Close()
	s, err := Dial(context.Background(), srv.URL+"/v3/0123456789abcdef", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Probe(context.Background())
	if err == nil || strings.Contains(err.Error(), "0123456789abcdef") || !strings.Contains(err.Error(), "401") {
		t.Errorf("err = %v", err)
	}
	if !errors.As(err, new(rpc.HTTPError)) {
		t.Errorf("the cause is lost: %v", err)
	}
}

// DescribeAhead describes the recipients of outgoing non-zero transfers
// within Transfers: the Describe that follows asks the node nothing and
// answers as a Source without it does.
func TestLiveDescribeAhead(t *testing.T) {
	sc := startScenario(t)
	ctx := context.Background()
	q := tracer.TransferQuery{Direction: tracer.Outgoing, Addresses: ta(sc.alice), Window: tracer.BlockRange{From: 1, To: sc.head}}
	s, cnt := dialCounted(t, sc.node.URL(), Options{})
	s.DescribeAhead()
	ts, err := s.Transfers(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var recips []tracer.Address
	for _, x := range ts {
		if x.Amount.Sign() != 0 {
			recips = append(recips, x.To)
		}
	}
	if len(recips) < 2 || cnt.get("eth_getCode") == 0 {
		t.Fatalf("%d recipients, %d eth_getCode sent with the transfers", len(recips), cnt.get("eth_getCode"))
	}
	var sent []tracer.Address // tokens first met in the outgoing transfers
	for _, x := range ts {
		if x.Asset != tracer.NativeAsset && !slices.Contains(sent, tracer.Address(x.Asset)) {
			sent = append(sent, tracer.Address(x.Asset))
		}
	}
	if len(sent) == 0 {
		t.Fatal("the scenario's sender moves no token")
	}
	before := s.Usage()
	got, err := s.Describe(ctx, recips, sent)
	if err != nil {
		t.Fatal(err)
	}
	if s.Usage() != before || len(got.Tokens) != len(sent) {
		t.Errorf("Describe after DescribeAhead asked the node: %+v -> %+v (tokens %v)", before, s.Usage(), got.Tokens)
	}
	got.Tokens = map[tracer.Address]tracer.Token{}
	plain, _ := dialCounted(t, sc.node.URL(), Options{})
	want, err := plain.Describe(ctx, recips, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Describe (-plain +ahead):\n%s", d)
	}

	// Incoming transfers describe the tokens they move.
	q.Direction, q.Addresses = tracer.Incoming, ta(sc.carol)
	if _, err := s.Transfers(ctx, q); err != nil {
		t.Fatal(err)
	}
	before = s.Usage()
	toks, err := s.Describe(ctx, nil, ta(sc.token))
	if err != nil || toks.Tokens[addr(sc.token)] != (tracer.Token{Symbol: "TT", Name: "Test Token", Decimals: 18}) || s.Usage() != before {
		t.Errorf("token Describe after incoming Transfers = %+v, %v; usage %+v -> %+v", toks, err, before, s.Usage())
	}
}

// Lookups go in batches of LookupBatchSize (10 x BatchSize by default); a
// batch geth refuses (over its limit of 1000) halves it for the Source's life.
func TestLiveLookupBatches(t *testing.T) {
	sc := startScenario(t)
	ctx := context.Background()
	s, _ := dialCounted(t, sc.node.URL(), Options{BatchSize: 10})
	if s.c.lookupSize.Load() != 100 {
		t.Errorf("lookup batch size %d with BatchSize 10, want 100", s.c.lookupSize.Load())
	}
	s, cnt := dialCounted(t, sc.node.URL(), Options{LookupBatchSize: 1500})
	if _, err := s.Describe(ctx, frontier(sc.alice, 1500), nil); err != nil {
		t.Fatal(err)
	}
	// One refused round trip of 1500, then 750 + 750.
	if u := s.Usage(); u.RoundTrips != 3 || cnt.get("eth_getCode") != 3000 || s.c.lookupSize.Load() != 750 || s.c.batchSize.Load() != 100 {
		t.Errorf("%d round trips, %d eth_getCode, lookup size %d, batch size %d; want 3, 3000, 750, 100",
			u.RoundTrips, cnt.get("eth_getCode"), s.c.lookupSize.Load(), s.c.batchSize.Load())
	}
}

// A batch whose answer is over the size cap is sent again in halves; the
// batch sizes, which the node did not refuse, stay.
func TestLiveBatchAnswerTooLarge(t *testing.T) {
	sc := startScenario(t)
	s, cnt := dialCounted(t, sc.node.URL(), Options{MaxResponseBytes: 4 << 10})
	d, err := s.Describe(context.Background(), frontier(sc.alice, 200), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Accounts) != 200 || cnt.get("eth_getCode") <= 200 {
		t.Errorf("%d described after %d eth_getCode, want 200 after more than 200", len(d.Accounts), cnt.get("eth_getCode"))
	}
	if s.c.lookupSize.Load() != 1000 || s.c.batchSize.Load() != 100 {
		t.Errorf("batch sizes %d, %d after a too-large answer; want 1000, 100 kept", s.c.lookupSize.Load(), s.c.batchSize.Load())
	}
}
