package evm

import (
	"errors"
	"testing"
)

// The forms of a batch refused as a whole, and those that are not.
func TestRefusedBatch(t *testing.T) {
	ids := []string{"1", "2", "3"}
	for _, tt := range []struct {
		name    string
		status  int
		body    string
		batch   bool
		refused string // the message kept; "" for not refused
	}{
		{"one object, id null", 200, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch too large"}}`, true, "batch too large"},
		{"one object, no id", 200, `{"jsonrpc":"2.0","error":{"code":-32000,"message":"batch limit 100 exceeded: 142 requests given"}}`, true, "batch limit 100 exceeded: 142 requests given"},
		{"array of one error", 200, `[{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"batch too large"}}]`, true, "batch too large"},
		{"HTTP 400 text", 400, "batch limit exceeded\n", true, "batch limit exceeded"},
		{"HTTP 413 html", 413, "<html><title>413 Request Entity Too Large</title></html>", true, "<html><title>413 Request Entity Too Large</title></html>"},
		{"HTTP 400 one object", 400, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Exceeded maximum batch size 100"}}`, true, "Exceeded maximum batch size 100"},
		{"answers", 200, `[{"jsonrpc":"2.0","id":1,"result":"0x1"},{"jsonrpc":"2.0","id":2,"result":"0x1"},{"jsonrpc":"2.0","id":3,"error":{"code":3,"message":"execution reverted"}}]`, true, ""},
		{"short answer", 200, `[{"jsonrpc":"2.0","id":1,"result":"0x1"},{"jsonrpc":"2.0","id":2,"result":"0x1"}]`, true, ""},
		{"HTTP 400 answering the calls", 400, `[{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"bad"}},{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"bad"}},{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"bad"}}]`, true, ""},
		{"HTTP 429", 429, "Too Many Requests", true, ""},
		{"HTTP 403 one object", 403, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Monthly capacity limit exceeded."}}`, true, ""},
		{"not a batch", 200, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch too large"}}`, false, ""},
	} {
		err := refusedBatch(tt.status, []byte(tt.body), ids, tt.batch)
		var br *errBatchRefused
		switch {
		case tt.refused == "" && err != nil:
			t.Errorf("%s: refused (%v)", tt.name, err)
		case tt.refused != "" && (!errors.As(err, &br) || br.msg != tt.refused):
			t.Errorf("%s: %v; want refused with %q", tt.name, err, tt.refused)
		}
	}
	if got := statedBatch("batch limit 100 exceeded: 142 requests given"); got != 100 {
		t.Errorf("statedBatch = %d, want 100", got)
	}
}

// A JSON-RPC error answer sent with HTTP 400 or 413 is read as the error;
// rate limits and server errors stay HTTP errors.
func TestAnswersRequest(t *testing.T) {
	one := `{"jsonrpc":"2.0","id":7,"error":{"code":-32600,"message":"You can make eth_getLogs requests with up to a 500 block range."}}`
	for _, tt := range []struct {
		status int
		body   string
		ids    []string
		want   bool
	}{
		{400, one, []string{"7"}, true},
		{413, one, []string{"7"}, true},
		{400, one, []string{"8"}, false},
		{429, one, []string{"7"}, false},
		{503, one, []string{"7"}, false},
		{400, "bad request", []string{"7"}, false},
		{400, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`, []string{"7"}, false},
	} {
		if got := answersRequest(tt.status, []byte(tt.body), tt.ids); got != tt.want {
			t.Errorf("HTTP %d %.40s ids %v: %v, want %v", tt.status, tt.body, tt.ids, got, tt.want)
		}
	}
}
