package rpcreplay

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/google/renameio/v2"
)

// message is a JSON-RPC 2.0 request or response element on the wire.
type message struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *rpcError       `json:"error,omitempty"`
}

// decodeMessages decodes a single message or a batch.
func decodeMessages(body []byte) (msgs []message, batch bool, err error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		err = json.Unmarshal(body, &msgs)
		return msgs, true, err
	}
	var m message
	err = json.Unmarshal(body, &m)
	return []message{m}, false, err
}

// exchangeFailures are error codes that say the exchange failed rather than
// answer the call; they are not recorded.
var exchangeFailures = map[int]bool{
	-32700: true, // parse error
	-32600: true, // invalid request, batch too large
	-32603: true, // internal error
	-32002: true, // geth: request timed out
	-32003: true, // geth: response too large
	-32005: true, // EIP-1474: limit exceeded
	-28:    true, // Bitcoin Core: still loading (RPC_IN_WARMUP)
}

// Recorder is an http.RoundTripper that passes requests to an inner
// RoundTripper and records the answered JSON-RPC calls. It is safe for
// concurrent use.
type Recorder struct {
	inner   http.RoundTripper
	mu      sync.Mutex
	seen    map[entry]bool
	entries []entry // in recording order
}

var _ http.RoundTripper = (*Recorder)(nil)

// NewRecorder returns a Recorder over inner (http.DefaultTransport if nil).
func NewRecorder(inner http.RoundTripper) *Recorder {
	if inner == nil {
		inner = http.DefaultTransport
	}
	return &Recorder{inner: inner, seen: make(map[entry]bool)}
}

// RoundTrip sends req through the inner RoundTripper and records the calls
// of a successful (2xx) JSON-RPC exchange, and the JSON-RPC errors Bitcoin
// Core sends with HTTP 404 or 500. The response is passed on as is.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return r.inner.RoundTrip(req)
	}
	reqBody, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("rpcreplay: read request body: %w", err)
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(reqBody))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	out.ContentLength = int64(len(reqBody))
	resp, err := r.inner.RoundTrip(out)
	ok := err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300
	// Bitcoin Core answers a single call's JSON-RPC error with HTTP 404
	// (unknown method) or 500: those errors answer the call too.
	coreError := err == nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusInternalServerError)
	if !ok && !coreError {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("rpcreplay: read response body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	plain := respBody
	if resp.Header.Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(bytes.NewReader(respBody)); err == nil {
			if b, err := io.ReadAll(zr); err == nil {
				plain = b
			}
		}
	}
	r.record(reqBody, plain, coreError)
	return resp, nil
}

// record notes the answered calls of one exchange; what it cannot match or
// parse is left out, and with errorsOnly every result.
func (r *Recorder) record(reqBody, respBody []byte, errorsOnly bool) {
	reqs, _, err := decodeMessages(reqBody)
	if err != nil {
		return
	}
	resps, _, err := decodeMessages(respBody)
	if err != nil {
		return
	}
	byID := make(map[string]message, len(resps))
	for _, m := range resps {
		if len(m.ID) > 0 {
			byID[string(m.ID)] = m
		}
	}
	var found []entry
	for _, q := range reqs {
		a, ok := byID[string(q.ID)]
		if a.Error != nil && string(a.Result) == "null" {
			a.Result = nil // JSON-RPC 1.0 (Bitcoin nodes): "result":null beside the error
		}
		if len(q.ID) == 0 || q.Method == "" || !ok || (a.Result == nil) == (a.Error == nil) {
			continue
		}
		if a.Error != nil && exchangeFailures[a.Error.Code] || errorsOnly && a.Error == nil {
			continue
		}
		key, err := requestKey(q.Method, q.Params)
		if err != nil {
			continue
		}
		line, err := responseLine(a.Result, a.Error)
		if err != nil {
			continue
		}
		found = append(found, entry{key: key, resp: line})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range found {
		if !r.seen[e] {
			r.seen[e] = true
			r.entries = append(r.entries, e)
		}
	}
}

// Len returns the number of distinct recorded entries.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

// WriteTo writes the recording in the replay file format.
func (r *Recorder) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	entries := append([]entry(nil), r.entries...)
	r.mu.Unlock()
	return writeEntries(w, entries)
}

// Save writes the recording to path atomically: a temporary file in the same
// directory is renamed over path.
func (r *Recorder) Save(path string) error {
	f, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o644))
	if err != nil {
		return fmt.Errorf("rpcreplay: save: %w", err)
	}
	defer f.Cleanup() // no-op after CloseAtomicallyReplace
	if _, err := r.WriteTo(f); err != nil {
		return fmt.Errorf("rpcreplay: save %s: %w", path, err)
	}
	if err := f.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("rpcreplay: save %s: %w", path, err)
	}
	return nil
}
