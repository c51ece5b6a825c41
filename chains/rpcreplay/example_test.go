package rpcreplay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ethereum/go-ethereum/rpc"
	"github.com/flowtrace/flowtrace/chains/rpcreplay"
)

// A go-ethereum client answered from a replay file. Recording is the same
// wiring with rpcreplay.NewRecorder(nil) as the transport and Save at the end.
func ExampleReplayer() {
	file := `// flowtrace rpc replay v1
--> {"method":"eth_chainId","params":[]}
<-- {"result":"0x539"}
--> {"method":"trace_filter","params":[{"fromAddress":["0xab"]}]}
<-- {"error":{"code":-32601,"message":"the method trace_filter does not exist/is not available"}}
`
	rp, err := rpcreplay.NewReplayer(strings.NewReader(file))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	client, err := rpc.DialOptions(ctx, "http://replay.invalid", rpc.WithHTTPClient(&http.Client{Transport: rp}))
	if err != nil {
		panic(err)
	}
	defer client.Close()

	var chainID string
	err = client.CallContext(ctx, &chainID, "eth_chainId")
	fmt.Println(chainID, err)

	var traces []any
	err = client.CallContext(ctx, &traces, "trace_filter", map[string]any{"fromAddress": []string{"0xAB"}})
	var rpcErr rpc.Error
	fmt.Println(errors.As(err, &rpcErr), rpcErr.ErrorCode())

	err = client.CallContext(ctx, &chainID, "eth_blockNumber")
	fmt.Println(errors.Is(err, rpcreplay.ErrNotRecorded))
	fmt.Println(rp.Unused())
	// Output:
	// 0x539 <nil>
	// true -32601
	// true
	// []
}
