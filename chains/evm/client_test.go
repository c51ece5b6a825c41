package evm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/tracer"
)

// rpcErr is a JSON-RPC error answer as rpc.Client returns it.
type rpcErr struct {
	code int
	msg  string
}

func (e rpcErr) Error() string  { return e.msg }
func (e rpcErr) ErrorCode() int { return e.code }

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		name      string
		err       error
		transient bool
		tooLarge  bool
		sentinel  error
	}{
		{"429", rpc.HTTPError{StatusCode: 429, Status: "429 Too Many Requests"}, true, false, tracer.ErrRateLimited},
		{"503", rpc.HTTPError{StatusCode: 503}, true, false, nil},
		{"401", rpc.HTTPError{StatusCode: 401}, false, false, nil},
		{"413", rpc.HTTPError{StatusCode: 413}, false, true, nil},
		{"method not found", rpcErr{-32601, "the method trace_filter does not exist/is not available"}, false, false, tracer.ErrUnsupported},
		{"rate limit code", rpcErr{429, "slow down"}, true, false, tracer.ErrRateLimited},
		{"infura rate", rpcErr{-32005, "project ID request rate exceeded"}, true, false, tracer.ErrRateLimited},
		{"too many results", rpcErr{-32005, "query returned more than 10000 results"}, false, true, nil},
		{"alchemy range", rpcErr{-32600, "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range"}, false, true, nil},
		{"block range", rpcErr{-32000, "block range too large"}, false, true, nil},
		{"limit exceeded", rpcErr{-32000, "limit exceeded"}, false, true, nil},
		{"geth future range", rpcErr{-32602, "block range extends beyond current head block"}, false, false, tracer.ErrNotFound},
		{"geth invalid range", rpcErr{-32602, "invalid block range params"}, false, false, nil},
		{"reth max range", rpcErr{-32602, "query exceeds max block range 100000"}, false, true, nil},
		{"indexing", rpcErr{-32000, "transaction indexing is in progress"}, true, false, nil},
		{"not found", rpcErr{-32000, "block #99 not found"}, false, false, tracer.ErrNotFound},
		{"revert", rpcErr{3, "execution reverted"}, false, false, nil},
		{"reset", fmt.Errorf("post: %w", syscall.ECONNRESET), true, false, nil},
		{"eof", io.ErrUnexpectedEOF, true, false, nil},
		{"deadline", context.DeadlineExceeded, true, false, nil},
		{"canceled", context.Canceled, false, false, nil},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), false, false, nil},
	} {
		if got := transient(tt.err); got != tt.transient {
			t.Errorf("%s: transient = %v", tt.name, got)
		}
		if got := tooLarge(tt.err); got != tt.tooLarge {
			t.Errorf("%s: tooLarge = %v", tt.name, got)
		}
		m := mapErr(tt.err)
		if !errors.Is(m, tt.err) && !errors.As(m, new(rpc.HTTPError)) {
			t.Errorf("%s: mapErr lost the cause: %v", tt.name, m)
		}
		for _, s := range []error{tracer.ErrRateLimited, tracer.ErrUnsupported, tracer.ErrNotFound} {
			if errors.Is(m, s) != (s == tt.sentinel) {
				t.Errorf("%s: mapErr = %v; is %v = %v", tt.name, m, s, errors.Is(m, s))
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"soon", 0, false},
		{"-1", 0, false},
	} {
		if got, ok := parseRetryAfter(tt.in, now); got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseNativeMode(t *testing.T) {
	for in, want := range map[string]NativeMode{"": NativeAuto, "auto": NativeAuto, "trace_filter": NativeTraceFilter, "blockscan": NativeBlockScan, "off": NativeOff} {
		if got, err := ParseNativeMode(in); got != want || err != nil {
			t.Errorf("ParseNativeMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseNativeMode("debug"); err == nil {
		t.Error("ParseNativeMode(debug) did not fail")
	}
}
