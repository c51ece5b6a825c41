// Package rpcfault is a fault-injecting JSON-RPC proxy for tests: a loopback
// HTTP server in front of a real node (or a replay) that answers a share of
// the requests the way flaky and hostile providers do.
//
// # Fault classes
//
// Transient classes hit a request (or a whole batch) with probability
// Options.Rate: HTTP 429 with and without Retry-After, 5xx, timeouts
// (the answer is held until the client gives up), connection resets,
// malformed and truncated JSON, and answers with ids that match no request.
//
// Data classes corrupt single answers with the same probability: a log
// outside the range asked for (eth_getLogs), a block whose parentHash does
// not match its parent (eth_getBlockByNumber), and the empty answers of a
// node that is still indexing (null for eth_getTransactionByHash and
// eth_getBlockByNumber, [] for debug_traceBlockByNumber).
//
// Limit classes behave like a node's configured limits, every time: batches
// over Options.MaxBatch are refused with geth's "batch too large", eth_getLogs
// and trace_filter ranges wider than Options.MaxRange with "block range too
// large", and answers holding more than Options.MaxResults entries with
// "query returned more than 10000 results".
//
// Provider classes (Providers) are limit classes in the words of real
// providers, from the table of chains/evm/providers: batches refused as a
// whole with one error object (with a null id), Erigon's object, HTTP 400
// with a plain-text body, HTTP 413 from a proxy, or answered in part; and
// one class per range, suggested-range, result-count and rate-limit message of the
// table, sent with its error code and, for a single call, its HTTP status.
// A range form for trace_filter only (Reth's) refuses only trace_filter. A
// rate-limit message answers the first sight of every request, for each of
// its calls, with the form's HTTP status and data, stating Options.MaxRate
// requests per second and a wait of Options.RetryAfter where the form
// states them.
//
// # Determinism
//
// Whether a request is hit, and by which class, depends only on the seed, the
// request's methods and params, and how many times the same request was seen
// before: not on timing or the order of concurrent requests. No request is hit
// more than Options.MaxConsecutive times in a row, so a client that retries
// enough always gets through.
//
// The proxy knows JSON-RPC 2.0 over HTTP POST and a few Ethereum methods'
// answer shapes; it knows nothing of the tracer.
package rpcfault
