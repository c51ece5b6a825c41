package rpcreplay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
)

// ErrNotRecorded is wrapped by the error RoundTrip returns for a call that has
// no entry in the replay file.
var ErrNotRecorded = errors.New("call not in the replay file")

// Replayer is an http.RoundTripper that answers JSON-RPC calls from a replay
// file and never touches the network. It is safe for concurrent use.
type Replayer struct {
	mu      sync.Mutex
	entries []*fileEntry         // in file order
	byKey   map[string]*keySlots // request line -> entries
}

type keySlots struct {
	entries []*fileEntry
	next    int
}

var _ http.RoundTripper = (*Replayer)(nil)

// LoadReplayer reads the replay file at path.
func LoadReplayer(path string) (*Replayer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rpcreplay: %w", err)
	}
	defer f.Close()
	p, err := NewReplayer(f)
	if err != nil {
		return nil, fmt.Errorf("rpcreplay: %s: %w", path, err)
	}
	return p, nil
}

// NewReplayer reads a replay file from r.
func NewReplayer(r io.Reader) (*Replayer, error) {
	entries, err := parse(r)
	if err != nil {
		return nil, err
	}
	p := &Replayer{entries: entries, byKey: make(map[string]*keySlots)}
	for _, e := range entries {
		s := p.byKey[e.key]
		if s == nil {
			s = &keySlots{}
			p.byKey[e.key] = s
		}
		s.entries = append(s.entries, e)
	}
	return p, nil
}

// RoundTrip answers a single call or a batch from the file. Response ids are
// the request's ids; notifications get no response element. A call with no
// entry fails the whole request and consumes nothing.
func (p *Replayer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, errors.New("rpcreplay: request without a body")
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("rpcreplay: read request body: %w", err)
	}
	msgs, batch, err := decodeMessages(body)
	if err != nil {
		return nil, fmt.Errorf("rpcreplay: request is not JSON-RPC: %w", err)
	}
	if batch && len(msgs) == 0 {
		return nil, errors.New("rpcreplay: empty batch")
	}
	keys := make([]string, len(msgs))
	for i, m := range msgs {
		if m.Method == "" {
			return nil, errors.New("rpcreplay: request element without a method")
		}
		if keys[i], err = requestKey(m.Method, m.Params); err != nil {
			return nil, fmt.Errorf("rpcreplay: %s: %w", m.Method, err)
		}
	}
	served, err := p.serve(msgs, keys)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if batch {
		out.WriteByte('[')
	}
	n := 0
	for i, m := range msgs {
		if len(m.ID) == 0 { // notification
			continue
		}
		if n++; n > 1 {
			out.WriteByte(',')
		}
		e := served[i]
		out.WriteString(`{"jsonrpc":"2.0","id":`)
		out.Write(m.ID)
		out.WriteString(",")
		out.WriteString(e.resp[1:]) // {"result":...} or {"error":...} without its brace
	}
	if batch {
		out.WriteByte(']')
	}
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(&out),
		ContentLength: int64(out.Len()),
		Request:       req,
	}, nil
}

// serve picks the entry for each key, or fails without consuming any.
func (p *Replayer) serve(msgs []message, keys []string) ([]*fileEntry, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, k := range keys {
		if p.byKey[k] == nil {
			params, _ := canonicalParams(msgs[i].Params)
			return nil, fmt.Errorf("rpcreplay: %s %s: %w; the fixture is out of date, re-record it (make fixtures)",
				msgs[i].Method, short(params), ErrNotRecorded)
		}
	}
	out := make([]*fileEntry, len(keys))
	for i, k := range keys {
		s := p.byKey[k]
		out[i] = s.entries[s.next]
		out[i].used = true
		if s.next < len(s.entries)-1 {
			s.next++
		}
	}
	return out, nil
}

// Unused lists the entries never served, in file order, as
// "line N: method params".
func (p *Replayer) Unused() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range p.entries {
		if !e.used {
			out = append(out, fmt.Sprintf("line %d: %s %s", e.line, e.method, short(e.params)))
		}
	}
	return out
}

// short cuts s to a length fit for an error message.
func short(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "..."
}
