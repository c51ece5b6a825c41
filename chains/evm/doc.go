// Package evm answers tracer.Source for EVM chains over JSON-RPC (go-ethereum's
// rpc client): token movements from eth_getLogs, native and internal ETH from
// trace_filter or a debug_traceBlockByNumber callTracer scan, accounts from
// eth_getCode and token metadata from eth_call.
//
// Extraction (RPC calls, batching, rate limits, retries) is kept apart from
// transformation (pure decoding of logs, call frames and traces into
// tracer.Transfer values). The package knows nothing of the walk, labels,
// the hop cache or output formats, and no go-ethereum type leaves it.
package evm
