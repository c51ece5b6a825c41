package evm

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

var record = flag.Bool("record", false, "record testdata/*.json from the dev node scenario")

// Recorded node answers the decoding tests read. They are rewritten with
// `go test -run TestRecord -record`; never edit them by hand.
const (
	recCallTracer = "testdata/block2.callTracer.json"     // debug_traceBlockByNumber(2, callTracer)
	recFlatTracer = "testdata/block2.flatCallTracer.json" // debug_traceBlockByNumber(2, flatCallTracer)
	recLogs       = "testdata/logs.transfer.json"         // eth_getLogs Transfer topic, blocks 0..3
)

func TestRecord(t *testing.T) {
	if !*record {
		t.Skip("run with -record to rewrite the recorded node answers")
	}
	s := startScenario(t)
	c, err := rpc.DialHTTP(s.node.URL()) // over HTTP, as a real node is asked
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	save := func(path, method string, args ...any) {
		var raw json.RawMessage
		if err := c.CallContext(ctx, &raw, method, args...); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", " "); err != nil {
			t.Fatal(err)
		}
		buf.WriteByte('\n')
		if err := os.WriteFile(filepath.FromSlash(path), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	save(recCallTracer, "debug_traceBlockByNumber", hexutil.Uint64(2), map[string]any{"tracer": "callTracer"})
	save(recFlatTracer, "debug_traceBlockByNumber", hexutil.Uint64(2), map[string]any{"tracer": "flatCallTracer"})
	save(recLogs, "eth_getLogs", map[string]any{
		"fromBlock": hexutil.Uint64(0), "toBlock": hexutil.Uint64(s.head), "topics": []any{[]common.Hash{transferTopic}},
	})
}
