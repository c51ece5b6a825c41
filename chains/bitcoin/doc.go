// Package bitcoin is flowtrace's data layer for Bitcoin nodes: a client for
// Bitcoin Core-style JSON-RPC (Bitcoin Core, btcd, most providers), a probe
// that says which chain the node serves and how spends can be found on it,
// address validation against that chain, the conversion of node answers
// into utxo.Tx, and a forward block scan over a window.
//
// It knows nothing about taint, change heuristics or the walk: those work
// on utxo.Tx (chains/bitcoin/utxo) and in the tracer.
package bitcoin
