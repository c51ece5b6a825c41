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
