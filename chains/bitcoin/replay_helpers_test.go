package bitcoin

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/chains/rpcreplay"
)

// recorded returns the recorded results of method from the fixture, in
// file order (answers recorded from btcd, for the pure decoding tests);
// with lastParam, only those of calls whose last parameter is that.
func recorded(t *testing.T, method string, lastParam ...string) []json.RawMessage {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, "rpc.replay"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	var out []json.RawMessage
	match := false
	for sc.Scan() {
		line := sc.Text()
		if req, ok := strings.CutPrefix(line, "--> "); ok {
			var r struct {
				Method string
				Params []json.RawMessage
			}
			json.Unmarshal([]byte(req), &r)
			match = r.Method == method
			if match && len(lastParam) > 0 {
				match = len(r.Params) > 0 && string(r.Params[len(r.Params)-1]) == lastParam[0]
			}
			continue
		}
		if resp, ok := strings.CutPrefix(line, "<-- "); ok && match {
			var r struct{ Result json.RawMessage }
			if err := json.Unmarshal([]byte(resp), &r); err != nil {
				t.Fatal(err)
			}
			if r.Result != nil {
				out = append(out, r.Result)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no recorded answer to %s", method)
	}
	return out
}

func loadCase(t *testing.T) (fixtureCase, *rpcreplay.Replayer) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fc fixtureCase
	if err := json.Unmarshal(data, &fc); err != nil {
		t.Fatal(err)
	}
	rp, err := rpcreplay.LoadReplayer(filepath.Join(fixtureDir, "rpc.replay"))
	if err != nil {
		t.Fatal(err)
	}
	return fc, rp
}
