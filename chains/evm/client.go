package evm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
	"golang.org/x/time/rate"

	"github.com/flowtrace/flowtrace/chains/evm/providers"
	"github.com/flowtrace/flowtrace/tracer"
)

// caller sends JSON-RPC batches to one or more endpoints of the same chain:
// it splits them to the batch size, limits the request rate and the round
// trips in flight per endpoint, spreads round trips over the endpoints, fails
// over and retries transient failures with backoff, and counts what it sent.
type caller struct {
	eps     []*endpoint
	next    atomic.Uint64 // round-robin cursor over eps
	secrets []string      // every endpoint URL's hidden parts, scrubbed from errors

	batchSize atomic.Int64 // elements per round trip; lowered when a node refuses a batch
	// lookupSize is batchSize for batches of lookups only (lookupMethods):
	// cheap indexed reads that go in bigger round trips; lowered likewise.
	lookupSize atomic.Int64
	timeout    time.Duration

	attempts    int           // tries per batch, including the first
	backoffBase time.Duration // first retry delay
	backoffMax  time.Duration
	// wait, when set, stands in for the timer between attempts (tests
	// record the waits instead of spending them).
	wait func(ctx context.Context, d time.Duration) error
	// clock and rateWait, when set, stand in for the time and the timer of
	// the learned rate limits (tests fix the one and record the other).
	clock    func() time.Time
	rateWait func(ctx context.Context, method string, d time.Duration) error

	requests   atomic.Int64
	roundTrips atomic.Int64

	mu      sync.Mutex
	methods map[string]bool
}

// endpoint is one node URL with its own rate limit and concurrency cap.
type endpoint struct {
	rpc     *rpc.Client
	host    string        // scheme://host, the only part errors may name
	limiter *rate.Limiter // nil: unlimited
	sem     chan struct{}
	// coolUntil is when the endpoint may be picked again after a failure
	// (unix nanoseconds); round trips go to others meanwhile.
	coolUntil atomic.Int64

	// learned are the request rates the node stated in its refusals, per
	// method (see learnRate).
	learnMu sync.Mutex
	learned map[string]*rate.Limiter
}

// host names the endpoints for messages.
func (c *caller) host() string {
	hosts := make([]string, len(c.eps))
	for i, ep := range c.eps {
		hosts[i] = ep.host
	}
	return strings.Join(hosts, ", ")
}

// pick chooses the endpoint of the next round trip: round robin over those
// not cooling down after a failure (all of them when every one is).
func (c *caller) pick() *endpoint {
	n := uint64(len(c.eps))
	start := c.next.Add(1)
	now := time.Now().UnixNano()
	for i := range n {
		if ep := c.eps[(start+i)%n]; ep.coolUntil.Load() <= now {
			return ep
		}
	}
	return c.eps[start%n]
}

// batch sends elems in round trips of at most the batch size, the round
// trips concurrently. It returns an error only when a whole round trip
// failed; per-element failures are left in elem.Error (transient ones, and
// answers that do not decode, retried first).
func (c *caller) batch(ctx context.Context, elems []rpc.BatchElem) error {
	return c.batchOn(ctx, nil, elems)
}

// batchOn is batch pinned to one endpoint (nil: any).
func (c *caller) batchOn(ctx context.Context, ep *endpoint, elems []rpc.BatchElem) error {
	if len(elems) == 0 {
		return nil
	}
	return c.batchSized(ctx, ep, elems, c.sizeFor(elems))
}

// batchSized is batchOn in round trips of size elements.
func (c *caller) batchSized(ctx context.Context, ep *endpoint, elems []rpc.BatchElem, size int) error {
	var (
		wg   sync.WaitGroup
		once sync.Once
		err1 error
	)
	for start := 0; start < len(elems); start += size {
		chunk := elems[start:min(start+size, len(elems))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.send(ctx, ep, chunk); err != nil {
				once.Do(func() { err1 = err })
			}
		}()
	}
	wg.Wait()
	return err1
}

// send delivers one round trip's worth of elements, retrying the round trip
// on transient transport errors (on another endpoint when there is one) and
// then only the elements that failed transiently, up to c.attempts tries in
// all. A batch refused for its number of calls lowers the batch size for the
// caller's life and is sent again in smaller round trips; one whose answer
// was over the size cap is sent again in halves, the batch size kept.
func (c *caller) send(ctx context.Context, pinned *endpoint, elems []rpc.BatchElem) error {
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
		ep := pinned
		if ep == nil {
			ep = c.pick()
		}
		retryAfter, err := c.roundTrip(ctx, ep, sub)
		retryAfter = max(retryAfter, c.learnRate(ep, sub, err))
		if refused, stated := batchRefused(sub, err); len(sub) > 1 && refused {
			if errors.Is(err, errResponseTooLarge) {
				// The answer was too large, not the batch: halve this one only.
				err = c.batchSized(ctx, pinned, sub, (len(sub)+1)/2)
			} else {
				c.lowerBatchSize(len(sub), stated)
				err = c.batchOn(ctx, pinned, sub)
			}
			for j, i := range idx {
				elems[i].Error = sub[j].Error
			}
			return err
		}
		if missing := missingAnswers(sub, err); len(missing) > 0 {
			// A batch answered in part: the node's batch limit is what it
			// answered. The rest goes again, in round trips of that size.
			c.lowerBatchSize(len(sub), len(sub)-len(missing))
			rest := make([]rpc.BatchElem, len(missing))
			for k, j := range missing {
				rest[k] = rpc.BatchElem{Method: sub[j].Method, Args: sub[j].Args, Result: sub[j].Result}
			}
			err = c.batchOn(ctx, pinned, rest)
			for k, j := range missing {
				sub[j].Error = rest[k].Error
			}
			for j, i := range idx {
				elems[i].Error = sub[j].Error
			}
			if err != nil || attempt+1 >= c.attempts {
				return err
			}
			var again []int
			for j, i := range idx {
				if transient(sub[j].Error) || badAnswer(sub[j].Error) {
					again = append(again, i)
				}
			}
			if len(again) == 0 {
				return nil
			}
			idx = again
			if _, err := c.sleep(ctx, attempt, retryAfter); err != nil {
				return err
			}
			continue
		}
		last := attempt+1 >= c.attempts
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !c.retryable(err) || last {
				return mapErr(err)
			}
		} else {
			var again []int
			for j, i := range idx {
				elems[i].Error = sub[j].Error
				if transient(sub[j].Error) || badAnswer(sub[j].Error) {
					again = append(again, i)
				}
			}
			if len(again) == 0 || last {
				return nil
			}
			idx = again
		}
		d, err := c.sleep(ctx, attempt, retryAfter)
		if err != nil {
			return err
		}
		if len(c.eps) > 1 {
			ep.coolUntil.Store(time.Now().Add(d).UnixNano())
		}
	}
}

// errInconsistent marks an answer that contradicts the question or other
// answers (a log outside the range asked, a trace of another block), still
// wrong after c.attempts tries. Such answers never reach the trace.
var errInconsistent = errors.New("the node's answers are inconsistent")

// batchChecked is batchOn, then asks again, with backoff, the elements that
// check rejects (check sees every element and returns the indices to ask
// again and why), up to c.attempts tries in all. Elements still rejected get
// an Error wrapping errInconsistent.
func (c *caller) batchChecked(ctx context.Context, ep *endpoint, elems []rpc.BatchElem, check func() map[int]error) error {
	if err := c.batchOn(ctx, ep, elems); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		bad := check()
		if len(bad) == 0 {
			return nil
		}
		if attempt+1 >= c.attempts {
			for i, why := range bad {
				elems[i].Error = fmt.Errorf("%w: %v", errInconsistent, why)
			}
			return nil
		}
		if _, err := c.sleep(ctx, attempt, 0); err != nil {
			return err
		}
		idx := slices.Sorted(maps.Keys(bad))
		sub := make([]rpc.BatchElem, len(idx))
		for j, i := range idx {
			reflect.ValueOf(elems[i].Result).Elem().SetZero()
			elems[i].Error = nil
			sub[j] = rpc.BatchElem{Method: elems[i].Method, Args: elems[i].Args, Result: elems[i].Result}
		}
		if err := c.batchOn(ctx, ep, sub); err != nil {
			return err
		}
		for j, i := range idx {
			elems[i].Error = sub[j].Error
		}
	}
}

// retryable reports whether a failed round trip is worth another try: a
// transient failure, or any failure of the exchange when another endpoint
// can take over.
func (c *caller) retryable(err error) bool {
	return transient(err) || (len(c.eps) > 1 && isTransportErr(err) && !errors.Is(err, context.Canceled))
}

// lookupMethods are the cheap indexed reads sent in batches of lookupSize.
var lookupMethods = map[string]bool{"eth_getCode": true, "eth_getTransactionByHash": true}

// sizeFor is the round trip size for elems: lookupSize when they are all
// lookups, else batchSize.
func (c *caller) sizeFor(elems []rpc.BatchElem) int {
	for _, e := range elems {
		if !lookupMethods[e.Method] {
			return int(c.batchSize.Load())
		}
	}
	return int(c.lookupSize.Load())
}

// lowerBatchSize lowers the batch sizes below n, the size a node refused:
// to the size it stated (or answered), else to half of n.
func (c *caller) lowerBatchSize(n, stated int) {
	want := int64(max(1, n/2))
	if stated > 0 && stated < n {
		want = int64(stated)
	}
	for _, size := range []*atomic.Int64{&c.batchSize, &c.lookupSize} {
		for {
			cur := size.Load()
			if cur <= want || size.CompareAndSwap(cur, want) {
				break
			}
		}
	}
}

// roundTrip is one HTTP round trip to ep under its rate limit and
// concurrency cap. It returns the Retry-After delay the server asked for, if
// any.
func (c *caller) roundTrip(ctx context.Context, ep *endpoint, elems []rpc.BatchElem) (time.Duration, error) {
	if err := c.waitLearned(ctx, ep, elems); err != nil {
		return 0, err
	}
	if ep.limiter != nil {
		burst := ep.limiter.Burst()
		for n := len(elems); n > 0; n -= burst {
			if err := ep.limiter.WaitN(ctx, min(n, burst)); err != nil {
				return 0, err
			}
		}
	}
	select {
	case ep.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-ep.sem }()
	hint := new(retryHint)
	rctx := context.WithValue(ctx, retryHintKey{}, hint)
	if c.timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeoutCause(rctx, c.timeout, errRoundTripTimeout)
		defer cancel()
	}
	c.roundTrips.Add(1)
	c.requests.Add(int64(len(elems)))
	var err error
	if len(elems) == 1 {
		// A single call goes out as a plain request: some providers
		// refuse batches, and it is one HTTP round trip either way.
		err = ep.rpc.CallContext(rctx, elems[0].Result, elems[0].Method, elems[0].Args...)
		if err != nil && (!isTransportErr(err) || errors.Is(err, errResponseTooLarge) || badAnswer(err)) {
			elems[0].Error, err = err, nil
		}
	} else {
		err = ep.rpc.BatchCallContext(rctx, elems)
	}
	if err != nil && ctx.Err() == nil && rctx.Err() != nil {
		err = fmt.Errorf("%w after %v", errRoundTripTimeout, c.timeout)
	}
	return hint.get(), c.redact(ep, err)
}

// newLimiter limits to rps requests per second, in bursts of up to a
// second's worth.
func newLimiter(rps float64) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(rps), max(1, int(math.Ceil(rps))))
}

// learnRate reads the rate limits a round trip's refusals state (the
// forms of chains/evm/providers): a stated request rate limits the refused
// methods on ep for the caller's life, the lowest stated rate winning. It
// returns the longest wait they ask for.
func (c *caller) learnRate(ep *endpoint, elems []rpc.BatchElem, err error) time.Duration {
	var wait time.Duration
	learn := func(l providers.Limit, methods ...string) {
		wait = max(wait, l.Wait)
		if l.Rate <= 0 {
			return
		}
		ep.learnMu.Lock()
		defer ep.learnMu.Unlock()
		if ep.learned == nil {
			ep.learned = map[string]*rate.Limiter{}
		}
		for _, m := range methods {
			if lim := ep.learned[m]; lim == nil || float64(lim.Limit()) > l.Rate {
				ep.learned[m] = newLimiter(l.Rate)
			}
		}
	}
	if err != nil {
		if l, ok := statedRate(err); ok {
			methods := make([]string, len(elems))
			for i, e := range elems {
				methods[i] = e.Method
			}
			learn(l, methods...)
		}
		return wait
	}
	for _, e := range elems {
		if l, ok := statedRate(e.Error); ok {
			learn(l, e.Method)
		}
	}
	return wait
}

// statedRate is the rate limit an error states in its message and data (or
// in the body of an HTTP error), when it is a rate-limit form.
func statedRate(err error) (providers.Limit, bool) {
	var (
		text string
		re   rpc.Error
		he   rpc.HTTPError
		br   *errBatchRateLimited
	)
	switch {
	case err == nil:
		return providers.Limit{}, false
	case errors.As(err, &br):
		text = br.msg
	case errors.As(err, &re):
		text = errText(re)
	case errors.As(err, &he):
		text = string(he.Body)
	default:
		return providers.Limit{}, false
	}
	l, ok := providers.Parse(text)
	return l, ok && l.Form.Kind == providers.Rate
}

// waitLearned waits for the learned rate limits of the methods in elems.
func (c *caller) waitLearned(ctx context.Context, ep *endpoint, elems []rpc.BatchElem) error {
	ep.learnMu.Lock()
	if len(ep.learned) == 0 {
		ep.learnMu.Unlock()
		return nil
	}
	counts := map[string]int{}
	for _, e := range elems {
		if ep.learned[e.Method] != nil {
			counts[e.Method]++
		}
	}
	now := c.now()
	var (
		longest time.Duration
		method  string
		taken   []*rate.Reservation
	)
	for _, m := range slices.Sorted(maps.Keys(counts)) {
		lim := ep.learned[m]
		for n := counts[m]; n > 0; n -= lim.Burst() {
			r := lim.ReserveN(now, min(n, lim.Burst()))
			taken = append(taken, r)
			if d := r.DelayFrom(now); d > longest {
				longest, method = d, m
			}
		}
	}
	ep.learnMu.Unlock()
	if longest <= 0 {
		return nil
	}
	var err error
	if c.rateWait != nil {
		err = c.rateWait(ctx, method, longest)
	} else {
		t := time.NewTimer(longest)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		for _, r := range taken {
			r.CancelAt(c.now())
		}
	}
	return err
}

// now is the time of the learned rate limits.
func (c *caller) now() time.Time {
	if c.clock != nil {
		return c.clock()
	}
	return time.Now()
}

// errRoundTripTimeout is the error of a round trip that took longer than
// Options.RequestTimeout.
var errRoundTripTimeout = errors.New("no answer from the node in time")

// maxRetryAfter caps the wait a server may ask for with Retry-After.
const maxRetryAfter = time.Minute

// sleep waits before retry attempt+1: exponential backoff with jitter, or
// the server's Retry-After when longer. It returns the time waited.
func (c *caller) sleep(ctx context.Context, attempt int, retryAfter time.Duration) (time.Duration, error) {
	d := min(c.backoffBase<<attempt, c.backoffMax)
	d = d/2 + rand.N(d/2+1) // jitter
	if retryAfter > d {
		d = min(retryAfter, maxRetryAfter)
	}
	if c.wait != nil {
		return d, c.wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return d, nil
	case <-ctx.Done():
		return d, ctx.Err()
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
// scrubs every endpoint's hidden parts from any other message (a provider
// may echo its key).
func (c *caller) redact(ep *endpoint, err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		host := "the node"
		if ep != nil {
			host = ep.host
		}
		err = &url.Error{Op: ue.Op, URL: host, Err: ue.Err}
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
	var br *errBatchRateLimited
	if errors.Is(err, errBadResponse) || errors.Is(err, errRoundTripTimeout) || errors.Is(err, rpc.ErrMissingBatchResponse) ||
		errors.As(err, &br) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isRateLimitMsg(msg string) bool {
	if l, ok := providers.Parse(msg); ok && l.Form.Kind == providers.Rate {
		return true
	}
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
	var br *errBatchRateLimited
	if (errors.As(err, &he) && he.StatusCode == http.StatusTooManyRequests) || errors.As(err, &br) {
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

// badAnswer reports whether an element's error says its answer could not be
// decoded into the expected shape (or had no result): worth asking again.
func badAnswer(err error) bool {
	if err == nil || errors.Is(err, errResponseTooLarge) {
		return false
	}
	var re rpc.Error
	var he rpc.HTTPError
	if errors.As(err, &re) || errors.As(err, &he) {
		return false
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.Is(err, rpc.ErrNoResult) || errors.As(err, &se) || errors.As(err, &te) ||
		strings.HasPrefix(err.Error(), "json: ") || strings.Contains(err.Error(), "hex string")
}

// batchRefused reports whether a node refused a round trip for the number of
// calls in it or the size of its answer, rather than for the calls, and the
// batch size it stated, if any.
func batchRefused(elems []rpc.BatchElem, err error) (bool, int) {
	if err != nil {
		var he rpc.HTTPError
		var br *errBatchRefused
		switch {
		case errors.As(err, &br):
			return true, statedBatch(br.msg)
		case errors.Is(err, errResponseTooLarge) || (errors.As(err, &he) && he.StatusCode == http.StatusRequestEntityTooLarge):
			return true, 0
		}
		return false, 0
	}
	for _, e := range elems {
		var re rpc.Error
		if errors.As(e.Error, &re) {
			m := strings.ToLower(errText(re))
			if l, ok := providers.Parse(m); ok && l.Form.Kind == providers.Batch {
				return true, int(l.Max)
			}
			if strings.Contains(m, "batch too large") || strings.Contains(m, "batch size") || strings.Contains(m, "batch limit") ||
				strings.Contains(m, "too many requests in batch") || strings.Contains(m, "response too large") {
				return true, 0
			}
		}
	}
	return false, 0
}

// statedBatch is the batch size a refusal states, 0 when it states none.
func statedBatch(msg string) int {
	if l, ok := providers.Parse(msg); ok && l.Form.Kind == providers.Batch {
		return int(l.Max)
	}
	return 0
}

// missingAnswers lists the elements a batch's answer left out, when it
// answered some: a node that truncates batches to its limit.
func missingAnswers(elems []rpc.BatchElem, err error) []int {
	if err != nil || len(elems) < 2 {
		return nil
	}
	var missing []int
	for j, e := range elems {
		if errors.Is(e.Error, rpc.ErrMissingBatchResponse) {
			missing = append(missing, j)
		}
	}
	if len(missing) == len(elems) {
		return nil
	}
	return missing
}

// errText is an RPC error's message with its data, where providers put
// details (Tenderly states its range limit there).
func errText(err error) string {
	msg := err.Error()
	var de rpc.DataError
	if errors.As(err, &de) && de.ErrorData() != nil {
		if data, jerr := json.Marshal(de.ErrorData()); jerr == nil {
			msg += " " + string(data)
		}
	}
	return msg
}
