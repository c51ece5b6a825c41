// Package crosschain makes one trace follow stolen value over several
// chains: a tracer.Source that routes each address to its chain's Source,
// maps the walk's window to the other chains by block time, and turns a
// bridge deposit whose other leg is found into a continuation.
//
// The walk's own chain (the primary) keeps its addresses as they are; the
// addresses and assets of the other chains are qualified "<chain>:<x>"
// (tracer.Qualify). A deposit into a bridge that a Pairer recognises (a
// THORChain router deposit with a "=:BTC.BTC:<address>" memo) is searched
// for on the destination chain; when its payout is found, the deposit goes
// to the swap's hub ("thorchain:<inbound hash>") and the hub pays the
// destination address the amount actually received, annotated with both
// transactions (tracer.AnnConverts makes the walk book it at the executed
// rate), and the walk goes on on the destination chain. A deposit whose
// payout is not found stays a bridge terminal, annotated "pending" (the
// destination chain was not read up to the search bound) or "not_found".
//
// It knows no RPC of its own beyond block times (Clock); each chain's
// Source, and the pairers, do the reading.
package crosschain
