package bitcoin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/flowtrace/flowtrace/tracer"
)

// Options tune the client.
type Options struct {
	// RequestsPerSecond limits the HTTP round trips per second (0: no limit).
	RequestsPerSecond float64
	// MaxConcurrent caps the round trips in flight (default 4).
	MaxConcurrent int
	// BatchSize is the calls per batch round trip (default 100).
	BatchSize int
	// Attempts is the tries of a transient failure, the first included
	// (default 5).
	Attempts int
	// Transport carries the HTTP requests (a recorder or replayer in tests);
	// default http.DefaultTransport.
	Transport http.RoundTripper
	// Timeout bounds one round trip (default 60 s).
	Timeout time.Duration
}

// Client speaks Bitcoin Core-style JSON-RPC (as served by Bitcoin Core,
// btcd and most providers) over HTTP, with basic auth taken from the URL's
// userinfo. It batches calls, falls back to concurrent single calls where a
// node refuses batches, limits the request rate and retries transient
// failures with backoff. Errors name the host only, never the credentials.
type Client struct {
	endpoint   string // the URL without userinfo
	host       string // the only part of the URL errors may name
	user, pass string
	hasAuth    bool
	http       *http.Client
	limiter    *rate.Limiter
	sem        chan struct{}
	batchSize  int
	attempts   int
	backoff    time.Duration
	// noBatch is set once the node has refused a batch: calls then go one
	// per round trip, concurrently.
	noBatch atomic.Bool

	requests   atomic.Int64
	roundTrips atomic.Int64
	mu         sync.Mutex
	methods    map[string]bool
}

// Dial makes a client for a node URL (http or https). It sends nothing.
func Dial(rawURL string, opts Options) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("bitcoin: the node URL must look like http://user:pass@host:port/ (basic auth in the userinfo)")
	}
	c := &Client{
		host:      u.Scheme + "://" + u.Host,
		batchSize: cmpOr(opts.BatchSize, 100),
		attempts:  cmpOr(opts.Attempts, 5),
		backoff:   200 * time.Millisecond,
		sem:       make(chan struct{}, cmpOr(opts.MaxConcurrent, 4)),
		methods:   map[string]bool{},
	}
	if u.User != nil {
		c.user = u.User.Username()
		c.pass, _ = u.User.Password()
		c.hasAuth = true
	}
	u.User = nil
	c.endpoint = u.String()
	tr := opts.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	c.http = &http.Client{Transport: tr, Timeout: cmpOr(opts.Timeout, 60*time.Second)}
	if opts.RequestsPerSecond > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(opts.RequestsPerSecond), 1)
	}
	return c, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Host is the node's scheme and host, safe to show.
func (c *Client) Host() string { return c.host }

// Batching reports whether calls go in batch round trips (false once the
// node refused a batch).
func (c *Client) Batching() bool { return !c.noBatch.Load() }

// Usage counts the JSON-RPC calls and the HTTP round trips sent.
func (c *Client) Usage() (requests, roundTrips int64) {
	return c.requests.Load(), c.roundTrips.Load()
}

// call is one JSON-RPC call of a batch: Result receives the decoded result,
// Err the call's own error.
type call struct {
	Method string
	Params []any
	Result any
	Err    error
}

// RPCError is a JSON-RPC error answered by the node.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// Bitcoin Core's and btcd's error codes that say what the answer means.
const (
	codeMethodNotFound  = -32601
	codeInvalidAddrKey  = -5  // RPC_INVALID_ADDRESS_OR_KEY: no such tx, block or address
	codeOutOfRange      = -8  // RPC_INVALID_PARAMETER: block height out of range (Core)
	codeWarmup          = -28 // RPC_IN_WARMUP: the node is still loading
	codeMisc            = -1
	codeBtcdNoAddrIndex = -1 // btcd: "Address index must be enabled (--addrindex)"
)

// one sends a single call and decodes its result into out.
func (c *Client) one(ctx context.Context, out any, method string, params ...any) error {
	cl := &call{Method: method, Params: params, Result: out}
	if err := c.batch(ctx, []*call{cl}); err != nil {
		return err
	}
	return cl.Err
}

// batch sends calls in round trips of BatchSize (or one by one where the
// node refuses batches), MaxConcurrent at a time. Each call's own error
// goes to its Err (mapped to the tracer's sentinels); the returned error is
// a failure of the exchange after the retries.
func (c *Client) batch(ctx context.Context, calls []*call) error {
	c.mu.Lock()
	for _, cl := range calls {
		c.methods[cl.Method] = true
	}
	c.mu.Unlock()
	c.requests.Add(int64(len(calls)))
	g, ctx := errgroup.WithContext(ctx)
	size := c.batchSize
	if c.noBatch.Load() {
		size = 1
	}
	for start := 0; start < len(calls); start += size {
		chunk := calls[start:min(start+size, len(calls))]
		g.Go(func() error { return c.sendRetry(ctx, chunk) })
	}
	return g.Wait()
}

// sendRetry sends one round trip, retrying transient failures, and splits
// it into single calls when the node refuses a batch.
func (c *Client) sendRetry(ctx context.Context, calls []*call) error {
	var err error
	for attempt := range c.attempts {
		if attempt > 0 {
			if werr := c.sleep(ctx, attempt); werr != nil {
				return werr
			}
		}
		err = c.send(ctx, calls)
		var refused *batchRefusedError
		if errors.As(err, &refused) && len(calls) > 1 {
			c.noBatch.Store(true)
			g, ctx := errgroup.WithContext(ctx)
			for _, cl := range calls {
				g.Go(func() error { return c.sendRetry(ctx, []*call{cl}) })
			}
			return g.Wait()
		}
		if err == nil {
			// A call answered with a transient error (warm-up, rate limit)
			// is asked again with the others that failed so.
			var again []*call
			for _, cl := range calls {
				if transient(cl.Err) {
					again = append(again, cl)
				}
			}
			if len(again) == 0 || attempt == c.attempts-1 {
				return nil
			}
			calls = again
			continue
		}
		if !transient(err) {
			return err
		}
	}
	return err
}

func (c *Client) sleep(ctx context.Context, attempt int) error {
	d := min(c.backoff<<(attempt-1), 10*time.Second)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// batchRefusedError is a batch the node would not take as a batch.
type batchRefusedError struct{ msg string }

func (e *batchRefusedError) Error() string { return "the node refused a batch: " + e.msg }

// httpError is an HTTP failure status.
type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string {
	if e.body == "" {
		return fmt.Sprintf("HTTP %d", e.status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.status, e.body)
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      int    `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

type response struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *RPCError       `json:"error"`
}

// send makes one round trip and fills each call's Result or Err.
func (c *Client) send(ctx context.Context, calls []*call) error {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return err
		}
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.sem }()
	reqs := make([]request, len(calls))
	for i, cl := range calls {
		p := cl.Params
		if p == nil {
			p = []any{}
		}
		reqs[i] = request{JSONRPC: "1.0", ID: i, Method: cl.Method, Params: p}
	}
	var body []byte
	var err error
	batch := len(calls) > 1
	if batch {
		body, err = json.Marshal(reqs)
	} else {
		body, err = json.Marshal(reqs[0])
	}
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return c.redact(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.hasAuth {
		req.SetBasicAuth(c.user, c.pass)
	}
	c.roundTrips.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return c.redact(err)
	}
	defer resp.Body.Close()
	data, err := readBody(resp)
	if err != nil {
		return c.redact(err)
	}
	trimmed := bytes.TrimSpace(data)
	isArray := len(trimmed) > 0 && trimmed[0] == '['
	if resp.StatusCode < 300 && decodeInOrder(trimmed, batch, calls) {
		return nil
	}
	var msgs []response
	if isArray {
		err = json.Unmarshal(trimmed, &msgs)
	} else {
		var m response
		if err = json.Unmarshal(trimmed, &m); err == nil {
			msgs = []response{m}
		}
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return &httpError{status: resp.StatusCode, body: "the node refused the credentials in the URL's userinfo"}
	}
	// Bitcoin Core answers a single call's error with HTTP 404 or 500 and
	// the JSON-RPC error in the body; anything else non-2xx is the node's
	// or a proxy's failure.
	if err != nil || (resp.StatusCode >= 300 && (len(msgs) == 0 || msgs[0].Error == nil)) {
		if batch && !isArray && (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge || (err == nil && msgs[0].Error != nil)) {
			return &batchRefusedError{msg: truncate(string(trimmed), 200)}
		}
		if resp.StatusCode >= 300 {
			return &httpError{status: resp.StatusCode, body: truncate(strings.TrimSpace(string(data)), 200)}
		}
		return fmt.Errorf("%w: %v (the answer starts %q)", errBadResponse, err, truncate(string(trimmed), 64))
	}
	if batch && !isArray {
		if msgs[0].Error != nil {
			return &batchRefusedError{msg: msgs[0].Error.Message}
		}
		return fmt.Errorf("%w: one answer to a batch of %d", errBadResponse, len(calls))
	}
	got := make([]bool, len(calls))
	for _, m := range msgs {
		i, err := strconv.Atoi(string(m.ID))
		if err != nil || i < 0 || i >= len(calls) || got[i] {
			return fmt.Errorf("%w: answer id %s does not match the request", errBadResponse, truncate(string(m.ID), 20))
		}
		got[i] = true
		cl := calls[i]
		cl.Err = nil
		if m.Error != nil {
			cl.Err = mapErr(m.Error)
			continue
		}
		if cl.Result != nil {
			if err := json.Unmarshal(m.Result, cl.Result); err != nil {
				cl.Err = fmt.Errorf("%w: %v", errBadResponse, err)
			}
		}
	}
	for i, ok := range got {
		if !ok {
			return fmt.Errorf("%w: no answer to call %d (%s)", errBadResponse, i, calls[i].Method)
		}
	}
	return nil
}

// readBody reads an answer in one allocation when its length is known.
func readBody(resp *http.Response) ([]byte, error) {
	if resp.ContentLength > 0 && resp.ContentLength < 1<<31 {
		data := make([]byte, resp.ContentLength)
		_, err := io.ReadFull(resp.Body, data)
		return data, err
	}
	return io.ReadAll(resp.Body)
}

// wireResponse decodes a result straight into its call's Result.
type wireResponse struct {
	Result any             `json:"result"`
	Error  *RPCError       `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// decodeInOrder is the fast path of an answer: one pass of the decoder,
// each result straight into its call's Result, for answers in the order of
// the calls (as nodes send them). It reports false, having set nothing
// that the slow path does not set again, when the answer is not that.
func decodeInOrder(data []byte, batch bool, calls []*call) bool {
	resps := make([]wireResponse, len(calls))
	for i, cl := range calls {
		if cl.Result != nil {
			resps[i].Result = cl.Result
		} else {
			resps[i].Result = new(json.RawMessage)
		}
	}
	var err error
	if batch {
		if len(data) == 0 || data[0] != '[' {
			return false
		}
		got := resps
		err = json.Unmarshal(data, &got)
		if err == nil && len(got) != len(calls) {
			return false
		}
	} else {
		err = json.Unmarshal(data, &resps[0])
	}
	if err != nil {
		return false
	}
	for i := range resps {
		if string(resps[i].ID) != strconv.Itoa(i) {
			return false
		}
	}
	for i, cl := range calls {
		cl.Err = nil
		if resps[i].Error != nil {
			cl.Err = mapErr(resps[i].Error)
		}
	}
	return true
}

// errBadResponse is an answer that is not JSON-RPC for the request sent.
var errBadResponse = errors.New("malformed answer from the node")

// redact rewrites an HTTP client error to name the host only.
func (c *Client) redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: c.host, Err: ue.Err}
	}
	return err
}

// transient reports whether err is worth asking again.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var he *httpError
	if errors.As(err, &he) {
		return he.status == http.StatusTooManyRequests || he.status >= 500
	}
	var re *RPCError
	if errors.As(err, &re) {
		return re.Code == codeWarmup || re.Code == 429 || strings.Contains(strings.ToLower(re.Message), "rate limit")
	}
	if errors.Is(err, errBadResponse) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// mapErr adds the tracer sentinel that matches a node's error.
func mapErr(e *RPCError) error {
	msg := strings.ToLower(e.Message)
	switch {
	case e.Code == codeMethodNotFound || strings.Contains(msg, "method not found"):
		return fmt.Errorf("%w: %w", tracer.ErrUnsupported, e)
	case e.Code == 429 || strings.Contains(msg, "rate limit"):
		return fmt.Errorf("%w: %w", tracer.ErrRateLimited, e)
	case e.Code == codeInvalidAddrKey && !strings.Contains(msg, "invalid address"),
		e.Code == codeOutOfRange && strings.Contains(msg, "out of range"),
		e.Code == codeMisc && strings.Contains(msg, "out of range"):
		return fmt.Errorf("%w: %w", tracer.ErrNotFound, e)
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
