package rpcreplay

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Header is the first line of every replay file.
const Header = "// flowtrace rpc replay v1"

const (
	reqPrefix  = "-->"
	respPrefix = "<--"
)

// rpcError is a JSON-RPC 2.0 error object.
type rpcError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// entry is one recorded call: the request line and the response line, both
// in the canonical form written to files.
type entry struct {
	key  string // {"method":...,"params":...}
	resp string // {"result":...} or {"error":{...}}
}

// requestKey returns the request line for method and raw params.
func requestKey(method string, params json.RawMessage) (string, error) {
	canon, err := canonicalParams(params)
	if err != nil {
		return "", err
	}
	m, err := marshal(method)
	if err != nil {
		return "", err
	}
	return `{"method":` + m + `,"params":` + canon + `}`, nil
}

// responseLine returns the response line for a result or an error; exactly
// one of them is set.
func responseLine(result json.RawMessage, e *rpcError) (string, error) {
	if e != nil {
		if len(e.Data) > 0 {
			var b bytes.Buffer
			if err := json.Compact(&b, e.Data); err != nil {
				return "", err
			}
			e = &rpcError{Code: e.Code, Message: e.Message, Data: b.Bytes()}
		}
		s, err := marshal(e)
		return `{"error":` + s + `}`, err
	}
	var b bytes.Buffer
	if err := json.Compact(&b, result); err != nil {
		return "", err
	}
	return `{"result":` + b.String() + `}`, nil
}

// marshal encodes v as compact JSON without HTML escaping.
func marshal(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// canonicalParams re-encodes params with sorted object keys, exact numbers
// and lower-cased 0x-hex strings. Absent or null params become [].
func canonicalParams(params json.RawMessage) (string, error) {
	if len(bytes.TrimSpace(params)) == 0 || string(bytes.TrimSpace(params)) == "null" {
		return "[]", nil
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("params: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("params: trailing data")
	}
	return marshal(lowerHex(v))
}

func lowerHex(v any) any {
	switch v := v.(type) {
	case string:
		if isHex(v) {
			return strings.ToLower(v)
		}
	case []any:
		for i := range v {
			v[i] = lowerHex(v[i])
		}
	case map[string]any: // keys are sorted by encoding/json
		for k := range v {
			v[k] = lowerHex(v[k])
		}
	}
	return v
}

func isHex(s string) bool {
	if len(s) < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return false
	}
	for _, c := range s[2:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// writeEntries writes the header and the entries sorted by key, keeping the
// given order among entries of one key.
func writeEntries(w io.Writer, entries []entry) (int64, error) {
	sorted := append([]entry(nil), entries...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].key < sorted[j].key })
	var b bytes.Buffer
	b.WriteString(Header + "\n")
	for _, e := range sorted {
		b.WriteString(reqPrefix + " " + e.key + "\n")
		b.WriteString(respPrefix + " " + e.resp + "\n")
	}
	return b.WriteTo(w)
}

// fileEntry is an entry read from a file.
type fileEntry struct {
	entry
	line   int // of the request
	method string
	params string
	result json.RawMessage
	err    *rpcError
	used   bool
}

// parse reads a replay file. Errors name the line.
func parse(r io.Reader) ([]*fileEntry, error) {
	br := bufio.NewReader(r)
	var (
		out     []*fileEntry
		pending *fileEntry
		n       int
	)
	for {
		raw, rerr := br.ReadString('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, fmt.Errorf("line %d: %w", n+1, rerr)
		}
		if rerr == io.EOF && raw == "" {
			break
		}
		n++
		line := strings.TrimRight(raw, "\r\n")
		switch trimmed := strings.TrimSpace(line); {
		case n == 1:
			if trimmed != Header {
				return nil, fmt.Errorf("line 1: not a replay file: want header %q", Header)
			}
		case trimmed == "" || strings.HasPrefix(trimmed, "//"):
		case strings.HasPrefix(trimmed, reqPrefix):
			if pending != nil {
				return nil, fmt.Errorf("line %d: request on line %d has no response", n, pending.line)
			}
			e, err := parseRequest(trimmed[len(reqPrefix):])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			e.line = n
			pending = e
		case strings.HasPrefix(trimmed, respPrefix):
			if pending == nil {
				return nil, fmt.Errorf("line %d: response without a request", n)
			}
			if err := parseResponse(pending, trimmed[len(respPrefix):]); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			out = append(out, pending)
			pending = nil
		default:
			return nil, fmt.Errorf("line %d: want %q, %q, // or a blank line", n, reqPrefix, respPrefix)
		}
		if rerr == io.EOF {
			break
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("line 1: empty file, want header %q", Header)
	}
	if pending != nil {
		return nil, fmt.Errorf("line %d: request has no response", pending.line)
	}
	return out, nil
}

// decodeStrict decodes exactly one JSON object with known fields into v.
func decodeStrict(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after JSON object")
	}
	return nil
}

func parseRequest(s string) (*fileEntry, error) {
	var req struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := decodeStrict(s, &req); err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	if req.Method == "" {
		return nil, errors.New("request: no method")
	}
	key, err := requestKey(req.Method, req.Params)
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	params, _ := canonicalParams(req.Params) // cannot fail: requestKey succeeded
	return &fileEntry{entry: entry{key: key}, method: req.Method, params: params}, nil
}

func parseResponse(e *fileEntry, s string) error {
	var resp struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := decodeStrict(s, &resp); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	if (resp.Result == nil) == (resp.Error == nil) {
		return errors.New(`response: want exactly one of "result" and "error"`)
	}
	if resp.Error != nil && resp.Error.Code == 0 {
		return errors.New("response: error without a code")
	}
	line, err := responseLine(resp.Result, resp.Error)
	if err != nil {
		return fmt.Errorf("response: %w", err)
	}
	e.resp, e.result, e.err = line, resp.Result, resp.Error
	return nil
}
