package rpcfault

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Class is a kind of fault.
type Class string

// Transient classes: the request fails and may be retried as is.
const (
	RateLimited     Class = "429"           // HTTP 429 with Retry-After
	RateLimitedBare Class = "429-bare"      // HTTP 429 without Retry-After
	ServerError     Class = "5xx"           // HTTP 500, 502, 503 or 504 with an HTML body
	Timeout         Class = "timeout"       // no answer until the client gives up
	Reset           Class = "reset"         // the connection is reset
	Malformed       Class = "malformed"     // a body that is not JSON
	Truncated       Class = "truncated"     // the answer cut in half
	WrongID         Class = "wrong-id"      // an answer whose id matches no request
	LogOutOfRange   Class = "log-out-range" // eth_getLogs: a log outside the range asked for
	BadParent       Class = "bad-parent"    // eth_getBlockByNumber: a parentHash that is not the parent's hash
	Indexing        Class = "indexing"      // null or [] where the node is still indexing
)

// Limit classes: the node's configured limits, applied every time.
const (
	BatchTooLarge  Class = "batch-too-large"  // batches over MaxBatch
	RangeTooLarge  Class = "range-too-large"  // eth_getLogs / trace_filter over MaxRange blocks
	TooManyResults Class = "too-many-results" // answers over MaxResults entries
)

// Transient lists the transient and data classes.
func Transient() []Class {
	return []Class{RateLimited, RateLimitedBare, ServerError, Timeout, Reset, Malformed, Truncated, WrongID,
		LogOutOfRange, BadParent, Indexing}
}

// Limits lists the limit classes.
func Limits() []Class { return []Class{BatchTooLarge, RangeTooLarge, TooManyResults} }

// Options configure a Proxy.
type Options struct {
	// Upstream is the URL requests are forwarded to.
	Upstream string
	// Transport reaches Upstream; default http.DefaultTransport. An
	// rpcreplay.Replayer serves a recording.
	Transport http.RoundTripper
	// Seed makes the choice of faults reproducible.
	Seed uint64
	// Rate is the share of requests hit by a transient or data class.
	Rate float64
	// Classes are the classes in force; none means no faults.
	Classes []Class
	// MaxConsecutive caps the faults in a row on the same request; default 3.
	MaxConsecutive int
	// RetryAfter is the Retry-After of RateLimited; default 1s.
	RetryAfter time.Duration
	// Hang is how long Timeout holds a request the client does not give up
	// on; default 30s.
	Hang time.Duration
	// MaxBatch, MaxRange and MaxResults are the limits of the limit
	// classes; defaults 3, 4 and 3.
	MaxBatch   int
	MaxRange   uint64
	MaxResults int
	// MaxRate is the requests per second the rate-limit provider classes
	// state; default 1000.
	MaxRate float64
	// Fail, when set, answers HTTP 503 to every request holding a call it
	// returns true for: a permanent failure.
	Fail func(method string, params json.RawMessage) bool
	// Huge, when set, answers a call it returns true for with a body of
	// HugeBytes bytes (a string result), streamed.
	Huge      func(method string) bool
	HugeBytes int64
}

// Proxy is a running fault-injecting proxy. Its methods are safe for
// concurrent use.
type Proxy struct {
	opts   Options
	srv    *httptest.Server
	client *http.Client
	on     map[Class]bool
	random []Class // enabled transient classes, in Transient() order

	mu       sync.Mutex
	seen     map[string]int // request key -> times seen
	streak   map[string]int // request key -> faults in a row
	counts   map[Class]int
	requests int
}

// Start starts a proxy on a loopback port.
func Start(opts Options) (*Proxy, error) {
	if opts.Upstream == "" {
		return nil, errors.New("rpcfault: no upstream URL")
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.MaxConsecutive, 3)
	def(&opts.MaxBatch, 3)
	def(&opts.MaxResults, 3)
	if opts.MaxRange == 0 {
		opts.MaxRange = 4
	}
	if opts.MaxRate <= 0 {
		opts.MaxRate = 1000
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	if opts.Hang <= 0 {
		opts.Hang = 30 * time.Second
	}
	p := &Proxy{
		opts:   opts,
		client: &http.Client{Transport: opts.Transport},
		on:     map[Class]bool{},
		seen:   map[string]int{},
		streak: map[string]int{},
		counts: map[Class]int{},
	}
	for _, c := range opts.Classes {
		if !knownClass(c) {
			return nil, fmt.Errorf("rpcfault: unknown class %q", c)
		}
		p.on[c] = true
	}
	for _, c := range Transient() {
		if p.on[c] {
			p.random = append(p.random, c)
		}
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	return p, nil
}

// URL is the proxy's address; any path is accepted (and ignored).
func (p *Proxy) URL() string { return p.srv.URL }

// Close stops the proxy.
func (p *Proxy) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// Counts tells how many faults of each class were injected.
func (p *Proxy) Counts() map[Class]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Class]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Requests is the number of HTTP requests received.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// call is one JSON-RPC request or answer.
type call struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		http.Error(w, "rpcfault: reading the request", http.StatusBadRequest)
		return
	}
	calls, batch, err := parseCalls(body)
	if err != nil {
		http.Error(w, "rpcfault: "+err.Error(), http.StatusBadRequest)
		return
	}
	key := requestKey(calls)
	p.mu.Lock()
	p.requests++
	n := p.seen[key]
	p.seen[key]++
	p.mu.Unlock()

	if p.opts.Fail != nil {
		for _, c := range calls {
			if p.opts.Fail(c.Method, c.Params) {
				http.Error(w, "rpcfault: permanent failure", http.StatusServiceUnavailable)
				return
			}
		}
	}
	if p.opts.Huge != nil && len(calls) == 1 && p.opts.Huge(calls[0].Method) {
		p.writeHuge(w, calls[0].ID)
		return
	}
	if batch && p.on[BatchTooLarge] && len(calls) > p.opts.MaxBatch {
		p.count(BatchTooLarge)
		writeJSON(w, []call{{JSONRPC: "2.0", ID: calls[0].ID, Error: rpcError(-32600, "batch too large")}})
		return
	}

	if batch {
		var answered bool
		if calls, answered = p.refuseBatch(w, calls); answered {
			return
		}
	}
	if p.rateLimited(w, calls, batch, n) {
		return
	}

	class := p.pick(key, n, calls)
	switch class {
	case RateLimited:
		w.Header().Set("Retry-After", strconv.Itoa(int(p.opts.RetryAfter.Round(time.Second)/time.Second)))
		http.Error(w, "Too Many Requests", http.StatusTooManyRequests)
		return
	case RateLimitedBare:
		http.Error(w, `{"error":"rate limit exceeded"}`, http.StatusTooManyRequests)
		return
	case ServerError:
		codes := []int{500, 502, 503, 504}
		code := codes[p.roll(key, n, "5xx")%uint64(len(codes))]
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>", code, http.StatusText(code))
		return
	case Timeout:
		t := time.NewTimer(p.opts.Hang)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
			http.Error(w, "rpcfault: gave up waiting", http.StatusGatewayTimeout)
		}
		return
	case Reset:
		reset(w)
		return
	case Malformed:
		w.Header().Set("Content-Type", "application/json")
		if p.roll(key, n, "malformed")%2 == 0 {
			io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"oops"`+"\x00}]")
		} else {
			io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
		}
		return
	}

	answers, status, err := p.forward(r, calls, batch)
	if err != nil {
		http.Error(w, "rpcfault: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	switch class {
	case WrongID:
		answers[0].ID = json.RawMessage(`987654321`)
	case LogOutOfRange, BadParent, Indexing:
		for i := range answers {
			if corrupt(class, calls[i], &answers[i]) {
				break
			}
		}
	}
	out, err := encode(answers, batch)
	if err != nil {
		http.Error(w, "rpcfault: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if class == Truncated {
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.Write(out[:len(out)/2])
		return // the server closes the connection short of Content-Length
	}
	if batch {
		status = 0 // a provider form's HTTP status goes with a single call's answer
	}
	writeStatus(w, status, out)
}

// pick decides which transient class, if any, hits the n-th sight of the
// request with this key.
func (p *Proxy) pick(key string, n int, calls []call) Class {
	if len(p.random) == 0 || p.opts.Rate <= 0 {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	hit := float64(p.roll(key, n, "hit")>>11)/(1<<53) < p.opts.Rate && p.streak[key] < p.opts.MaxConsecutive
	var class Class
	if hit {
		// Prefer a class that applies to these calls.
		start := p.roll(key, n, "class")
		for i := range p.random {
			c := p.random[(start+uint64(i))%uint64(len(p.random))]
			if applies(c, calls) {
				class = c
				break
			}
		}
	}
	if class == "" {
		p.streak[key] = 0
		return ""
	}
	p.streak[key]++
	p.counts[class]++
	return class
}

func (p *Proxy) count(c Class) {
	p.mu.Lock()
	p.counts[c]++
	p.mu.Unlock()
}

// roll is a pseudo-random number from the seed, the request and a salt.
func (p *Proxy) roll(key string, n int, salt string) uint64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], p.opts.Seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(n))
	h.Write(b[:])
	io.WriteString(h, salt)
	io.WriteString(h, key)
	x := h.Sum64()
	// splitmix64 finaliser: FNV's low bits are poorly mixed.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// applies reports whether class c can hit a request made of calls.
func applies(c Class, calls []call) bool {
	has := func(methods ...string) bool {
		return slices.ContainsFunc(calls, func(c call) bool { return slices.Contains(methods, c.Method) })
	}
	switch c {
	case LogOutOfRange:
		return has("eth_getLogs")
	case BadParent:
		return has("eth_getBlockByNumber")
	case Indexing:
		return has("eth_getTransactionByHash", "eth_getBlockByNumber", "debug_traceBlockByNumber")
	}
	return true
}

// forward sends the calls upstream, applies the limit and provider
// classes, and returns one answer per call, in the calls' order, and the
// HTTP status a provider form answers with (0: none).
func (p *Proxy) forward(r *http.Request, calls []call, batch bool) ([]call, int, error) {
	answers := make([]call, len(calls))
	status := 0
	var ask []call
	var askIdx []int
	pages := map[int]page{}
	for i, c := range calls {
		if pg, ok := p.takePage(&c); ok {
			pages[i] = pg
		}
		if a, st, ok := p.providerRange(c); ok {
			answers[i], status = a, max(status, st)
			continue
		}
		if p.on[RangeTooLarge] && (c.Method == "eth_getLogs" || c.Method == "trace_filter") && rangeLen(c.Params) > p.opts.MaxRange {
			p.count(RangeTooLarge)
			answers[i] = call{JSONRPC: "2.0", ID: c.ID, Error: rpcError(-32000, "block range too large")}
			continue
		}
		ask = append(ask, c)
		askIdx = append(askIdx, i)
	}
	if len(ask) > 0 {
		var body []byte
		var err error
		if batch {
			body, err = json.Marshal(ask)
		} else {
			body, err = json.Marshal(ask[0])
		}
		if err != nil {
			return nil, 0, err
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, p.opts.Upstream, bytes.NewReader(body))
		if err != nil {
			return nil, 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := p.client.Do(req)
		if err != nil {
			return nil, 0, err
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, 0, fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		got, _, err := parseCalls(data)
		if err != nil {
			return nil, 0, err
		}
		byID := map[string]call{}
		for _, a := range got {
			byID[string(a.ID)] = a
		}
		for j, c := range ask {
			a, ok := byID[string(c.ID)]
			if !ok {
				return nil, 0, fmt.Errorf("upstream did not answer %s", c.Method)
			}
			answers[askIdx[j]] = a
		}
	}
	for i, c := range calls {
		if a, st, ok := p.providerResults(c, answers[i]); ok {
			answers[i], status = a, max(status, st)
		}
		if pg, ok := pages[i]; ok {
			answers[i] = p.capTraces(c, answers[i], pg)
		}
	}
	if p.on[TooManyResults] {
		for i, c := range calls {
			if (c.Method == "eth_getLogs" || c.Method == "trace_filter") && answers[i].Error == nil {
				var items []json.RawMessage
				if json.Unmarshal(answers[i].Result, &items) == nil && len(items) > p.opts.MaxResults {
					p.count(TooManyResults)
					answers[i] = call{JSONRPC: "2.0", ID: c.ID, Error: rpcError(-32005, "query returned more than 10000 results")}
				}
			}
		}
	}
	return answers, status, nil
}

// corrupt applies a data class to one answer; it reports whether it did.
func corrupt(class Class, c call, a *call) bool {
	if a.Error != nil || len(a.Result) == 0 {
		return false
	}
	switch {
	case class == LogOutOfRange && c.Method == "eth_getLogs":
		to, ok := paramBlock(c.Params, "toBlock")
		if !ok {
			return false
		}
		var logs []map[string]any
		if json.Unmarshal(a.Result, &logs) != nil {
			return false
		}
		stray := map[string]any{
			"address": "0x00000000000000000000000000000000000bad00",
			"topics": []string{
				"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
				"0x000000000000000000000000000000000000000000000000000000000000dead",
				"0x000000000000000000000000000000000000000000000000000000000000beef",
			},
			"data":             "0x00000000000000000000000000000000000000000000003635c9adc5dea00000",
			"transactionHash":  "0xbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbad0",
			"transactionIndex": "0x0", "logIndex": "0x0", "removed": false,
			"blockHash": "0xbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbad1",
		}
		if len(logs) > 0 {
			stray = logs[0]
		}
		stray["blockNumber"] = "0x" + strconv.FormatUint(to+1, 16)
		res, _ := json.Marshal(append(logs, stray))
		a.Result = res
		return true
	case class == BadParent && c.Method == "eth_getBlockByNumber":
		var b map[string]any
		if json.Unmarshal(a.Result, &b) != nil || b == nil {
			return false
		}
		b["parentHash"] = "0xbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbad2"
		a.Result, _ = json.Marshal(b)
		return true
	case class == Indexing && (c.Method == "eth_getTransactionByHash" || c.Method == "eth_getBlockByNumber"):
		if string(a.Result) == "null" {
			return false
		}
		a.Result = json.RawMessage("null")
		return true
	case class == Indexing && c.Method == "debug_traceBlockByNumber":
		if string(a.Result) == "[]" {
			return false
		}
		a.Result = json.RawMessage("[]")
		return true
	}
	return false
}

// writeHuge streams a HugeBytes answer to the call with id.
func (p *Proxy) writeHuge(w http.ResponseWriter, id json.RawMessage) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":"`, id)
	chunk := bytes.Repeat([]byte("a"), 64<<10)
	for left := p.opts.HugeBytes; left > 0; left -= int64(len(chunk)) {
		if _, err := w.Write(chunk[:min(int64(len(chunk)), left)]); err != nil {
			return // the client hung up
		}
	}
	io.WriteString(w, `"}`)
}

// reset closes the connection with a TCP RST.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

func parseCalls(body []byte) ([]call, bool, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var calls []call
		if err := json.Unmarshal(body, &calls); err != nil {
			return nil, true, fmt.Errorf("not a JSON-RPC batch: %w", err)
		}
		if len(calls) == 0 {
			return nil, true, errors.New("empty batch")
		}
		return calls, true, nil
	}
	var c call
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, false, fmt.Errorf("not a JSON-RPC request: %w", err)
	}
	return []call{c}, false, nil
}

func encode(answers []call, batch bool) ([]byte, error) {
	if batch {
		return json.Marshal(answers)
	}
	return json.Marshal(answers[0])
}

func writeJSON(w http.ResponseWriter, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Write(data)
}

// requestKey identifies a request by its calls' methods and params.
func requestKey(calls []call) string {
	var sb strings.Builder
	for _, c := range calls {
		sb.WriteString(c.Method)
		sb.Write(c.Params)
		sb.WriteByte('\n')
	}
	return sb.String()
}

func rpcError(code int, msg string) json.RawMessage {
	return rpcErrorData(code, msg, nil)
}

// rpcErrorData is an error object with data (none when data is nil).
func rpcErrorData(code int, msg string, data json.RawMessage) json.RawMessage {
	e := map[string]any{"code": code, "message": msg}
	if data != nil {
		e["data"] = data
	}
	out, _ := json.Marshal(e)
	return out
}

// rangeLen is the number of blocks of a filter's [fromBlock, toBlock], 0 when
// either is not a number.
func rangeLen(params json.RawMessage) uint64 {
	from, ok1 := paramBlock(params, "fromBlock")
	to, ok2 := paramBlock(params, "toBlock")
	if !ok1 || !ok2 || to < from {
		return 0
	}
	return to - from + 1
}

// paramBlock reads a hex block number field of a method's first param.
func paramBlock(params json.RawMessage, field string) (uint64, bool) {
	var ps []map[string]json.RawMessage
	if json.Unmarshal(params, &ps) != nil || len(ps) == 0 {
		return 0, false
	}
	var s string
	if json.Unmarshal(ps[0][field], &s) != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	return n, err == nil
}
