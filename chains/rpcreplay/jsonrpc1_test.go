package rpcreplay

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Bitcoin nodes answer in JSON-RPC 1.0: "result" and "error" both present,
// one of them null, and basic auth on every request.
func TestJSONRPC1AnswersAndBasicAuth(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "rpcUs3r" || p != "rpcPa55" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"getrawtransaction"`)) {
			io.WriteString(w, `{"jsonrpc":"1.0","result":null,"error":{"code":-5,"message":"No information available about transaction"},"id":7}`)
			return
		}
		io.WriteString(w, `{"jsonrpc":"1.0","result":101,"error":null,"id":7}`)
	}))
	defer ts.Close()
	rec := NewRecorder(nil)
	c := &http.Client{Transport: rec}
	for _, m := range []string{"getblockcount", "getrawtransaction"} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader(`{"jsonrpc":"1.0","id":7,"method":"`+m+`","params":["ab"]}`))
		req.SetBasicAuth("rpcUs3r", "rpcPa55")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	var file bytes.Buffer
	if _, err := rec.WriteTo(&file); err != nil {
		t.Fatal(err)
	}
	got := file.String()
	for _, want := range []string{`<-- {"result":101}`, `<-- {"error":{"code":-5,"message":"No information available about transaction"}}`} {
		if !strings.Contains(got, want) {
			t.Errorf("file lacks %s:\n%s", want, got)
		}
	}
	for _, secret := range []string{"rpcUs3r", "rpcPa55", "127.0.0.1"} {
		if strings.Contains(got, secret) {
			t.Errorf("file holds %q:\n%s", secret, got)
		}
	}
}

// Bitcoin Core sends a single call's JSON-RPC error with HTTP 404 or 500:
// recorded as the call's answer; a 500 that is not a JSON-RPC error for the
// call, or a warm-up error, is not.
func TestCoreErrorStatusesRecorded(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case bytes.Contains(body, []byte(`"searchrawtransactions"`)):
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1}`)
		case bytes.Contains(body, []byte(`"getrawtransaction"`)):
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"result":null,"error":{"code":-5,"message":"No such mempool transaction. Use -txindex"},"id":1}`)
		case bytes.Contains(body, []byte(`"getblockcount"`)):
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"result":null,"error":{"code":-28,"message":"Loading block index..."},"id":1}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `<html>proxy error</html>`)
		}
	}))
	defer ts.Close()
	rec := NewRecorder(nil)
	c := &http.Client{Transport: rec}
	for _, m := range []string{"searchrawtransactions", "getrawtransaction", "getblockcount", "getblockhash"} {
		resp, err := c.Post(ts.URL, "application/json", strings.NewReader(`{"jsonrpc":"1.0","id":1,"method":"`+m+`","params":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode < 400 {
			t.Errorf("%s: the recorder changed the status to %d", m, resp.StatusCode)
		}
		resp.Body.Close()
	}
	var file bytes.Buffer
	rec.WriteTo(&file)
	got := file.String()
	for _, want := range []string{`"code":-32601`, `"code":-5`} {
		if !strings.Contains(got, want) {
			t.Errorf("file lacks %s:\n%s", want, got)
		}
	}
	if rec.Len() != 2 {
		t.Errorf("%d entries, want 2 (not the warm-up, not the proxy error):\n%s", rec.Len(), got)
	}
}
