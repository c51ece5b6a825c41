// Package rpcreplay records and replays JSON-RPC traffic at the HTTP layer.
//
// A [Recorder] is an [http.RoundTripper] that sits under a JSON-RPC client
// (for go-ethereum: rpc.WithHTTPClient(&http.Client{Transport: rec})) and
// notes every answered call; a [Replayer] is a RoundTripper that answers the
// same calls from the file without a node. Tests and `flowtrace trace
// --record FILE` / `--replay FILE` use them.
//
// # File format
//
// A text file, one call per two lines, in the spirit of go-ethereum's
// rpc/testdata transcripts:
//
//	// flowtrace rpc replay v1
//	--> {"method":"eth_chainId","params":[]}
//	<-- {"result":"0x539"}
//	--> {"method":"trace_filter","params":[{"fromAddress":["0xab..."]}]}
//	<-- {"error":{"code":-32601,"message":"the method trace_filter does not exist/is not available"}}
//
// The first line must be the header. Other lines starting with "//" and blank
// lines are ignored. Each "-->" line holds the method and the params in
// canonical form (see below); the next "<--" line holds either the result or
// the JSON-RPC error object. A batch is stored as one entry per element.
// Entries are sorted by request line, then by recording order, so recording
// the same traffic twice gives the same bytes.
//
// # What is recorded
//
// Only method, params and the result or error. Never URLs, headers, ids or
// keys. JSON-RPC errors that answer the question (-32601 method not found,
// reverts, "header not found") are recorded: capability probes depend on
// them, including those Bitcoin Core sends with HTTP 404 or 500. Failures of
// the exchange itself are not: other HTTP errors (429, 5xx) and bodies of
// 404 / 500 that are not JSON-RPC errors for the request, transport errors,
// unparsable bodies, and the error codes -32700, -32600, -32603, -32002,
// -32003, -32005 and -28 (parse error, invalid request or batch too large,
// internal error, timeout, response too large, limit exceeded, Bitcoin Core
// still loading). Identical (request, response) pairs are stored once.
//
// # Matching
//
// The key of a call is (method, canonical params): params re-encoded with
// object keys sorted, numbers kept as written, strings starting with "0x"
// that are hex lower-cased (so EIP-55 and lower-case addresses match), and
// absent or null params treated as []. Request ids and batch boundaries play
// no part: responses carry the live request's ids, and calls may come in any
// order, batched or not, from any number of goroutines. When several entries
// share a key they are served in file order, and the last one repeats once
// they are used up. A call with no entry fails RoundTrip with an error
// wrapping [ErrNotRecorded]; [Replayer.Unused] lists entries never served.
//
// The package knows nothing of Ethereum beyond JSON-RPC 2.0 over HTTP POST:
// it does not interpret methods or results, retry, or rate limit.
package rpcreplay
