// Package bridges decodes the events of cross-chain bridges between EVM
// chains (Across SpokePool deposits and fills, Stargate V2 / LayerZero OFT
// sends and receipts) into chain-neutral Events, and pairs a deposit leg on
// its source chain with the fill leg on its destination chain (Matcher).
//
// It is pure: it reads logs handed to it and never asks a node. It knows
// chains only through chains/networks (chain ids, LayerZero endpoint ids),
// and nothing about labels, the walk or the graph.
package bridges
