package rpcfault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/evm/providers"
)

// service is a go-ethereum JSON-RPC service the proxy is put in front of.
type service struct{}

func (service) ChainId() string { return "0x539" }

type filter struct {
	FromBlock string `json:"fromBlock"`
	ToBlock   string `json:"toBlock"`
}

// GetLogs answers one log per block of the range.
func (service) GetLogs(f filter) []map[string]any {
	var from, to uint64
	fmt.Sscanf(f.FromBlock, "0x%x", &from)
	fmt.Sscanf(f.ToBlock, "0x%x", &to)
	var out []map[string]any
	for n := from; n <= to; n++ {
		out = append(out, map[string]any{"blockNumber": fmt.Sprintf("0x%x", n)})
	}
	return out
}

func upstream(t *testing.T) string {
	t.Helper()
	srv := rpc.NewServer()
	if err := srv.RegisterName("eth", service{}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs.URL
}

func start(t *testing.T, opts Options) *Proxy {
	t.Helper()
	p, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// post sends a raw body and returns the status, Retry-After and body.
func post(t *testing.T, url, body string) (int, string, string, error) {
	t.Helper()
	return postWithin(t, url, body, time.Minute)
}

// postWithin is post giving up after d.
func postWithin(t *testing.T, url, body string, d time.Duration) (int, string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	var sb strings.Builder
	_, err = fmt.Fprint(&sb, readAll(resp))
	return resp.StatusCode, resp.Header.Get("Retry-After"), sb.String(), err
}

func readAll(resp *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			if err.Error() != "EOF" {
				b.WriteString("<" + err.Error() + ">")
			}
			return b.String()
		}
	}
}

const getLogs = `{"jsonrpc":"2.0","id":7,"method":"eth_getLogs","params":[{"fromBlock":"0x1","toBlock":"0x2"}]}`

// Each class, forced at rate 1, gives its fault.
func TestClasses(t *testing.T) {
	up := upstream(t)
	for _, tc := range []struct {
		class Class
		check func(code int, retryAfter, body string, err error) bool
	}{
		{RateLimited, func(c int, ra, _ string, _ error) bool { return c == 429 && ra == "1" }},
		{RateLimitedBare, func(c int, ra, _ string, _ error) bool { return c == 429 && ra == "" }},
		{ServerError, func(c int, _, b string, _ error) bool { return c >= 500 && strings.Contains(b, "<html>") }},
		{Timeout, func(_ int, _, _ string, err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
		{Reset, func(_ int, _, _ string, err error) bool {
			return err != nil && !errors.Is(err, context.DeadlineExceeded)
		}},
		{Malformed, func(c int, _, b string, _ error) bool { return c == 200 && !json.Valid([]byte(b)) }},
		{Truncated, func(c int, _, b string, _ error) bool { return c == 200 && strings.Contains(b, "<unexpected EOF>") }},
		{WrongID, func(c int, _, b string, _ error) bool { return c == 200 && strings.Contains(b, `"id":987654321`) }},
		{LogOutOfRange, func(c int, _, b string, _ error) bool { return strings.Contains(b, `"blockNumber":"0x3"`) }},
	} {
		// Only the hung request is given up on: a client that waits a minute
		// gets every other answer however busy the machine is, and one that
		// waits 500 ms never gets the hour-long hang's.
		within := time.Minute
		if tc.class == Timeout {
			within = 500 * time.Millisecond
		}
		p := start(t, Options{Upstream: up, Rate: 1, Classes: []Class{tc.class}, Hang: time.Hour})
		code, ra, body, err := postWithin(t, p.URL()+"/v3/key", getLogs, within)
		if !tc.check(code, ra, body, err) {
			t.Errorf("%s: status %d, Retry-After %q, body %.200q, err %v", tc.class, code, ra, body, err)
		}
		if p.Counts()[tc.class] != 1 {
			t.Errorf("%s: counts %v", tc.class, p.Counts())
		}
	}
}

// The limit classes refuse what is over the limits, every time, and pass the rest.
func TestLimits(t *testing.T) {
	p := start(t, Options{Upstream: upstream(t), Classes: Limits(), MaxBatch: 2, MaxRange: 2, MaxResults: 1})
	batch := "[" + getLogs + "," + getLogs + "," + getLogs + "]"
	for _, tc := range []struct{ body, want string }{
		{batch, `batch too large`},
		{strings.Replace(getLogs, "0x2", "0x9", 1), `block range too large`},
		{getLogs, `query returned more than 10000 results`},
		{strings.Replace(getLogs, "0x2", "0x1", 1), `"result":[{"blockNumber":"0x1"}]`},
	} {
		for range 2 {
			if _, _, body, err := post(t, p.URL(), tc.body); err != nil || !strings.Contains(body, tc.want) {
				t.Errorf("%.60s: %s, %v; want %s", tc.body, body, err, tc.want)
			}
		}
	}
}

// The same seed hits the same requests, whatever the order they come in; no
// request is hit more than MaxConsecutive times in a row.
func TestDeterministic(t *testing.T) {
	up := upstream(t)
	bodies := make([]string, 40)
	for i := range bodies {
		bodies[i] = strings.Replace(getLogs, "0x2", fmt.Sprintf("0x%x", i+1), 1)
	}
	hits := func(seed uint64, reverse bool) string {
		p := start(t, Options{Upstream: up, Seed: seed, Rate: 0.5, Classes: []Class{RateLimitedBare}, MaxConsecutive: 2})
		got := make([]byte, len(bodies))
		for k := range bodies {
			i := k
			if reverse {
				i = len(bodies) - 1 - k
			}
			code, _, _, _ := post(t, p.URL(), bodies[i])
			got[i] = '.'
			if code == 429 {
				got[i] = 'x'
			}
		}
		return string(got)
	}
	a, b, c := hits(1, false), hits(1, true), hits(2, false)
	if a != b || a == c || !strings.Contains(a, "x") || !strings.Contains(a, ".") {
		t.Errorf("seed 1: %s, reversed %s; seed 2: %s", a, b, c)
	}
	p := start(t, Options{Upstream: up, Rate: 1, Classes: []Class{RateLimitedBare}, MaxConsecutive: 2})
	var codes []int
	for range 3 {
		code, _, _, _ := post(t, p.URL(), getLogs)
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[429 429 200]" {
		t.Errorf("rate 1, MaxConsecutive 2: %v", codes)
	}
}

func TestUnknownClass(t *testing.T) {
	if _, err := Start(Options{Upstream: "http://127.0.0.1:1", Classes: []Class{"flaky"}}); err == nil {
		t.Error("Start accepted an unknown class")
	}
}

// Each provider class refuses what is over the limits in its own way and
// passes the rest.
func TestProviders(t *testing.T) {
	up := upstream(t)
	batch := "[" + getLogs + "," + strings.Replace(getLogs, "7", "8", 1) + "," + strings.Replace(getLogs, "7", "9", 1) + "]"
	wide := strings.Replace(getLogs, "0x2", "0x9", 1)
	for _, tc := range []struct {
		class      Class
		body       string
		wantStatus int
		want       string
	}{
		{BatchObject, batch, 200, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch too large"}}`},
		{BatchErigon, batch, 200, `"message":"batch limit 2 exceeded: 3 requests given"`},
		{Batch400Text, batch, 400, "batch limit exceeded\n"},
		{Batch413HTML, batch, 413, "<title>413 Request Entity Too Large</title>"},
		{BatchShort, batch, 200, `[{"jsonrpc":"2.0","id":7,`},
		{"provider-alchemy-range", wide, 400, `"message":"You can make eth_getLogs requests with up to a 2 block range. Based on your parameters, this block range should work: [0x1, 0x2]"`},
		{"provider-quicknode-range", wide, 413, `{"code":-32614,"message":"eth_getLogs is limited to a 2 range"}`},
		{"provider-geth-results", getLogs, 200, `"message":"query returned more than 1 results"`},
		{"provider-infura-daily", getLogs, 429, `{"jsonrpc":"2.0","id":7,"error":{"code":-32005,"data":{"rate":{"allowed_rps":2.5,"backoff_seconds":1,"current_rps":5},"see":"https://infura.io/dashboard"},"message":"daily request count exceeded, request rate limited"}}`},
		{"provider-quicknode-rps", batch, 200, `[{"jsonrpc":"2.0","id":7,"error":{"code":-32007,"message":"2.5/second request limit reached - reduce calls per second or upgrade your account at quicknode.com"}},{"jsonrpc":"2.0","id":8,`},
	} {
		p := start(t, Options{Upstream: up, Classes: []Class{tc.class}, MaxBatch: 2, MaxRange: 2, MaxResults: 1, MaxRate: 2.5})
		code, _, body, err := post(t, p.URL(), tc.body)
		if err != nil || code != tc.wantStatus || !strings.Contains(body, tc.want) || p.Counts()[tc.class] != 1 {
			t.Errorf("%s: status %d, body %.300q, err %v, counts %v; want %d and %s", tc.class, code, body, err, p.Counts(), tc.wantStatus, tc.want)
		}
		if tc.class == BatchShort && strings.Count(body, `"jsonrpc"`) != 2 {
			t.Errorf("%s: %s; want the first 2 answers", tc.class, body)
		}
		if tc.class == "provider-quicknode-rps" && strings.Count(body, "request limit reached") != 3 {
			t.Errorf("%s: %s; want each of the 3 calls refused", tc.class, body)
		}
		small := strings.Replace(getLogs, "0x2", "0x1", 1)
		if strings.HasPrefix(string(tc.class), "provider-") && rangeForm(tc.class).Kind == providers.Rate {
			post(t, p.URL(), small) // a rate class refuses the first sight of every request
		}
		if _, _, body, _ := post(t, p.URL(), small); !strings.Contains(body, `"result":[{"blockNumber":"0x1"}]`) {
			t.Errorf("%s: a query within the limits answered %s", tc.class, body)
		}
	}
	for _, c := range Providers() {
		start(t, Options{Upstream: up, Classes: []Class{c}})
	}
}
