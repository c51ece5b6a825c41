package evm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The HTTP transport under the JSON-RPC client checks every answer before
// go-ethereum decodes it: the body is read up to a size cap, must be JSON,
// and must carry the ids of the request (go-ethereum does not check the id of
// a single call's answer, and silently drops batch answers with unknown ids).

var (
	// errResponseTooLarge is an answer over Options.MaxResponseBytes: a
	// range query is split, a batch is sent in smaller round trips.
	errResponseTooLarge = errors.New("the node's answer is larger than the response size limit")
	// errBadResponse is an answer that is not JSON-RPC for the request
	// sent (malformed, truncated, or with other ids): asked again.
	errBadResponse = errors.New("malformed answer from the node")
)

// errorBodyLimit caps the body of an HTTP error answer kept for the message.
const errorBodyLimit = 4 << 10

// checkTransport records Retry-After headers into the request's retryHint,
// caps answer sizes and checks that answers are JSON-RPC for the request.
type checkTransport struct {
	base     http.RoundTripper
	maxBytes int64
}

func (t checkTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ids, batch, err := requestIDs(req)
	if err != nil {
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		if h, ok := req.Context().Value(retryHintKey{}).(*retryHint); ok {
			if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				h.mu.Lock()
				h.d = d
				h.mu.Unlock()
			}
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
		resp.Body.Close()
		if refused := refusedBatch(resp.StatusCode, data, ids, batch); refused != nil {
			return nil, refused
		}
		resp.Body = io.NopCloser(bytes.NewReader(data))
		if !answersRequest(resp.StatusCode, data, ids) {
			return resp, nil
		}
		// A JSON-RPC answer sent with an HTTP error status (Alchemy's
		// range limit comes with 400, QuickNode's with 413): let the
		// client read the error the body holds.
		resp.StatusCode, resp.Status = http.StatusOK, "200 OK"
	}
	if t.maxBytes > 0 && resp.ContentLength > t.maxBytes {
		resp.Body.Close()
		return nil, fmt.Errorf("%w (%d MiB)", errResponseTooLarge, t.maxBytes>>20)
	}
	data, err := readCapped(resp.Body, resp.ContentLength, t.maxBytes)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if err := checkIDs(data, ids); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadResponse, err)
	}
	if refused := refusedBatch(resp.StatusCode, data, ids, batch); refused != nil {
		return nil, refused
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// errBatchRefused is a batch the node refused as a whole: sent again in
// smaller round trips.
type errBatchRefused struct {
	status int    // HTTP status, 200 when the refusal came as a JSON-RPC error
	msg    string // the node's words
}

func (e *errBatchRefused) Error() string {
	if e.status != http.StatusOK {
		return fmt.Sprintf("the node refused the batch: HTTP %d %s", e.status, e.msg)
	}
	return "the node refused the batch: " + e.msg
}

// errBatchRateLimited is a batch answered with one rate-limit error for all
// its calls (an object, or an array of one): retried after a wait, the rate
// it states learned.
type errBatchRateLimited struct{ msg string }

func (e *errBatchRateLimited) Error() string { return "the node rate-limited the batch: " + e.msg }

// refusedBatch recognises a batch refused as a whole, in the forms nodes
// and providers use: one error object instead of an array (with or without
// an id: go-ethereum's client cannot read it), an array holding one error,
// or HTTP 400 / 413 with any body that does not answer the calls.
func refusedBatch(status int, data []byte, ids []string, batch bool) error {
	if !batch || len(ids) < 2 {
		return nil
	}
	httpRefusal := status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge
	if (status < 200 || status >= 300) && !httpRefusal {
		return nil // 401, 403, 429, 5xx: about the account or the node, not the batch
	}
	msgs, isArray, err := decodeIDs(data)
	switch {
	case err != nil || len(msgs) == 0:
		if httpRefusal {
			return &errBatchRefused{status: status, msg: truncate(strings.TrimSpace(string(data)), 200)}
		}
		return nil
	case (!isArray || len(msgs) == 1) && len(msgs[0].Error) > 0:
		msg := errorMessage(msgs[0].Error)
		if isRateLimitMsg(msg) {
			return &errBatchRateLimited{msg: msg}
		}
		return &errBatchRefused{status: status, msg: msg}
	case !isArray:
		return nil // not JSON-RPC for a batch: checkIDs or the client reports it
	case httpRefusal && checkIDs(data, ids) != nil:
		return &errBatchRefused{status: status, msg: truncate(strings.TrimSpace(string(data)), 200)}
	}
	return nil
}

// answersRequest reports whether an HTTP error body is nevertheless a
// JSON-RPC answer to the request (its error, with the request's ids).
func answersRequest(status int, data []byte, ids []string) bool {
	if status == http.StatusTooManyRequests || status >= 500 || ids == nil {
		return false // rate limits and server errors stay HTTP errors: retried with backoff
	}
	msgs, _, err := decodeIDs(data)
	if err != nil || len(msgs) == 0 || checkIDs(data, ids) != nil {
		return false
	}
	for _, m := range msgs {
		if len(m.Error) == 0 || string(m.ID) == "" || string(m.ID) == "null" {
			return false
		}
	}
	return true
}

// errorMessage is a JSON-RPC error object's message and data, as text.
func errorMessage(raw json.RawMessage) string {
	var e struct {
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Message == "" {
		return truncate(string(raw), 200)
	}
	if len(e.Data) > 0 && string(e.Data) != "null" {
		return e.Message + " " + truncate(string(e.Data), 200)
	}
	return e.Message
}

// readCapped reads a body of at most max bytes (0: no cap), in one
// allocation when its length is known.
func readCapped(r io.Reader, length, max int64) ([]byte, error) {
	if length >= 0 && (max <= 0 || length <= max) {
		data := make([]byte, length)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, err
		}
		return data, nil
	}
	if max <= 0 {
		return io.ReadAll(r)
	}
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w (%d MiB)", errResponseTooLarge, max>>20)
	}
	return data, nil
}

// rpcID is the id of a JSON-RPC message, and whether it carries an error.
type rpcID struct {
	ID    json.RawMessage `json:"id"`
	Error json.RawMessage `json:"error"`
}

// requestIDs reads the ids of the calls in a request body, and whether it
// is a batch.
func requestIDs(req *http.Request) ([]string, bool, error) {
	if req.GetBody == nil {
		return nil, false, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false, err
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, false, err
	}
	msgs, batch, err := decodeIDs(data)
	if err != nil {
		return nil, false, nil // not ours to judge
	}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = string(m.ID)
	}
	return ids, batch, nil
}

// decodeIDs reads the ids of a JSON-RPC message or batch.
func decodeIDs(data []byte) ([]rpcID, bool, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		var msgs []rpcID
		err := json.Unmarshal(data, &msgs)
		return msgs, true, err
	}
	var m rpcID
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, false, err
	}
	return []rpcID{m}, false, nil
}

// checkIDs checks that an answer is JSON and answers only the ids asked,
// each at most once. An error answer without id (the node could not read
// the request) passes: go-ethereum reports it.
func checkIDs(data []byte, want []string) error {
	msgs, _, err := decodeIDs(data)
	if err != nil {
		if len(data) > 64 {
			data = data[:64]
		}
		return fmt.Errorf("%v (the answer starts %s)", err, strconv.Quote(string(data)))
	}
	if want == nil {
		return nil
	}
	asked := make(map[string]bool, len(want))
	for _, id := range want {
		asked[id] = true
	}
	seen := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		id := string(m.ID)
		if (id == "" || id == "null") && len(m.Error) > 0 {
			continue
		}
		if !asked[id] || seen[id] {
			return fmt.Errorf("answer id %s does not match the request's ids", strings.TrimSpace(truncate(id, 40)))
		}
		seen[id] = true
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
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
