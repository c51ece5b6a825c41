package evm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
	"golang.org/x/time/rate"

	"github.com/flowtrace/flowtrace/tracer"
)

// caller sends JSON-RPC batches to one endpoint: it splits them to the batch
// size, limits the request rate and the round trips in flight, retries
// transient failures with backoff and counts what it sent.
type caller struct {
	rpc       *rpc.Client
	host      string   // scheme://host of the endpoint, the only part errors may name
	secrets   []string // the URL's other parts, scrubbed from errors
	batchSize int
	limiter   *rate.Limiter // nil: unlimited
	sem       chan struct{}

	attempts    int           // tries per batch, including the first
	backoffBase time.Duration // first retry delay
	backoffMax  time.Duration

	requests   atomic.Int64
	roundTrips atomic.Int64

	mu      sync.Mutex
	methods map[string]bool
}

// batch sends elems in round trips of at most batchSize elements, the round
// trips concurrently up to the concurrency cap. It returns an error only when
// a whole round trip failed; per-element failures are left in elem.Error
// (transient ones retried first).
func (c *caller) batch(ctx context.Context, elems []rpc.BatchElem) error {
	if len(elems) == 0 {
		return nil
	}
	var (
		wg   sync.WaitGroup
		once sync.Once
		err1 error
	)
	for start := 0; start < len(elems); start += c.batchSize {
		chunk := elems[start:min(start+c.batchSize, len(elems))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.send(ctx, chunk); err != nil {
				once.Do(func() { err1 = err })
			}
		}()
	}
	wg.Wait()
	return err1
}

// send delivers one round trip's worth of elements, retrying the round trip
// on transient transport errors and then only the elements that failed
// transiently, up to c.attempts tries in all.
func (c *caller) send(ctx context.Context, elems []rpc.BatchElem) error {
	c.note(elems)
	idx := make([]int, len(elems))
	for i := range idx {
		idx[i] = i
	}
	for attempt := 0; ; attempt++ {
		sub := make([]rpc.BatchElem, len(idx))
		for j, i := range idx {
			sub[j] = rpc.BatchElem{Method: elems[i].Method, Args: elems[i].Args, Result: elems[i].Result}
		}
		retryAfter, err := c.roundTrip(ctx, sub)
		last := attempt+1 >= c.attempts
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !transient(err) || last {
				return mapErr(err)
			}
		} else {
			var again []int
			for j, i := range idx {
				elems[i].Error = sub[j].Error
				if transient(sub[j].Error) {
					again = append(again, i)
				}
			}
			if len(again) == 0 || last {
				return nil
			}
			idx = again
		}
		if err := c.sleep(ctx, attempt, retryAfter); err != nil {
			return err
		}
	}
}

// roundTrip is one HTTP round trip under the rate limit and concurrency cap.
// It returns the Retry-After delay the server asked for, if any.
func (c *caller) roundTrip(ctx context.Context, elems []rpc.BatchElem) (time.Duration, error) {
	if c.limiter != nil {
		burst := c.limiter.Burst()
		for n := len(elems); n > 0; n -= burst {
			if err := c.limiter.WaitN(ctx, min(n, burst)); err != nil {
				return 0, err
			}
		}
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-c.sem }()
	hint := new(retryHint)
	ctx = context.WithValue(ctx, retryHintKey{}, hint)
	c.roundTrips.Add(1)
	c.requests.Add(int64(len(elems)))
	var err error
	if len(elems) == 1 {
		// A single call goes out as a plain request: some providers
		// refuse batches, and it is one HTTP round trip either way.
		err = c.rpc.CallContext(ctx, elems[0].Result, elems[0].Method, elems[0].Args...)
		if err != nil && !isTransportErr(err) {
			elems[0].Error, err = err, nil
		}
	} else {
		err = c.rpc.BatchCallContext(ctx, elems)
	}
	return hint.get(), c.redact(err)
}

// maxRetryAfter caps the wait a server may ask for with Retry-After.
const maxRetryAfter = time.Minute

func (c *caller) sleep(ctx context.Context, attempt int, retryAfter time.Duration) error {
	d := min(c.backoffBase<<attempt, c.backoffMax)
	d = d/2 + rand.N(d/2+1) // jitter
	if retryAfter > d {
		d = min(retryAfter, maxRetryAfter)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *caller) note(elems []rpc.BatchElem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range elems {
		c.methods[e.Method] = true
	}
}

// usedMethods lists the methods sent so far, sorted.
func (c *caller) usedMethods() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var m []string
	for k := range c.methods {
		m = append(m, k)
	}
	slices.Sort(m)
	return m
}

// redact rewrites *url.Error values so that they name only the endpoint's
// scheme and host, never its path, query or userinfo (where keys live), and
// scrubs those parts from any other message (a provider may echo its key).
func (c *caller) redact(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = &url.Error{Op: ue.Op, URL: c.host, Err: ue.Err}
	}
	msg := err.Error()
	scrubbed := msg
	for _, s := range c.secrets {
		scrubbed = strings.ReplaceAll(scrubbed, s, "<redacted>")
	}
	if scrubbed == msg {
		return err
	}
	return &redactedError{msg: scrubbed, err: err}
}

// redactedError shows a scrubbed message and keeps the cause for errors.Is.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// urlSecrets lists the parts of an endpoint URL that must not be shown.
func urlSecrets(u *url.URL) []string {
	var out []string
	for _, s := range []string{u.User.String(), u.User.Username(), u.RawQuery, u.EscapedPath(), u.Path, u.Fragment} {
		if len(s) > 1 {
			out = append(out, s)
		}
	}
	if p, ok := u.User.Password(); ok && p != "" {
		out = append(out, p)
	}
	// Keys often sit alone in a path segment or a query value.
	for _, seg := range strings.FieldsFunc(u.Path+"&"+u.RawQuery, func(r rune) bool { return r == '/' || r == '&' || r == '=' }) {
		if len(seg) >= 8 {
			out = append(out, seg)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) }) // longest first
	return out
}

// isTransportErr tells a failure of the HTTP exchange from a JSON-RPC error
// answer to the request.
func isTransportErr(err error) bool {
	var re rpc.Error
	return !errors.As(err, &re)
}

// transient reports whether err is worth retrying as is.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var he rpc.HTTPError
	if errors.As(err, &he) {
		return he.StatusCode == http.StatusTooManyRequests || he.StatusCode >= 500
	}
	var re rpc.Error
	if errors.As(err, &re) {
		if re.ErrorCode() == 429 {
			return true
		}
		return isRateLimitMsg(re.Error()) || strings.Contains(strings.ToLower(re.Error()), "indexing is in progress")
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isRateLimitMsg(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "rate limit") || strings.Contains(m, "too many requests") ||
		strings.Contains(m, "request rate exceeded") || strings.Contains(m, "rate exceeded")
}

// mapErr adds the tracer sentinel that matches err, keeping err itself.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var he rpc.HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusTooManyRequests {
		return fmt.Errorf("%w: %w", tracer.ErrRateLimited, err)
	}
	var re rpc.Error
	if errors.As(err, &re) {
		switch {
		case re.ErrorCode() == -32601 || strings.Contains(strings.ToLower(re.Error()), "method not found") ||
			strings.Contains(strings.ToLower(re.Error()), "does not exist/is not available"):
			return fmt.Errorf("%w: %w", tracer.ErrUnsupported, err)
		case re.ErrorCode() == 429 || isRateLimitMsg(re.Error()):
			return fmt.Errorf("%w: %w", tracer.ErrRateLimited, err)
		case isNotFoundMsg(re.Error()):
			return fmt.Errorf("%w: %w", tracer.ErrNotFound, err)
		}
	}
	return err
}

func isNotFoundMsg(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "not found") || strings.Contains(m, "unknown block") || strings.Contains(m, "beyond current head")
}

// retryHint carries the Retry-After of a 429 or 503 answer from the HTTP
// transport (which sees headers) to the retry loop (which sees rpc.HTTPError,
// which does not carry them).
type retryHint struct {
	mu sync.Mutex
	d  time.Duration
}

type retryHintKey struct{}

func (h *retryHint) get() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.d
}

// hintTransport records Retry-After headers into the request's retryHint.
type hintTransport struct{ base http.RoundTripper }

func (t hintTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	if h, ok := req.Context().Value(retryHintKey{}).(*retryHint); ok {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			h.mu.Lock()
			h.d = d
			h.mu.Unlock()
		}
	}
	return resp, nil
}

// parseRetryAfter reads a Retry-After value: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}
