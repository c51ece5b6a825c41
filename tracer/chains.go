package tracer

import (
	"context"
	"strings"
)

// One trace over several chains. A Source may span chains (a composite that
// routes by chain): the walk's own chain (Options.Chain) keeps its addresses
// and assets as they are, and an address or asset of any other chain is
// qualified as "<chain>:<address>" (Qualify), so that nodes, purses and the
// per-asset accounting of two chains never mix (BTC "native" is
// "bitcoin:native", never ETH). Every transfer carries its Chain; a node is
// on the chain of the transfer that first reached it, and each level asks
// the Source once per chain, with that chain's window (ChainWindows).
//
// Value crosses chains only through a conversion: a bridge's payout
// annotated with AnnConverts, the ID of the deposit it pays out. The ledger
// replays each chain in block order and the chains in the order the walk
// reached them (a chain is reached only through such a payout, which comes
// after its deposit), and books the payout at the executed rate, as a swap:
// tainted(payout) = tainted(deposit) * amount(payout) / amount(deposit).
// A refund on the deposit's own chain is in order (it comes later in the
// same chain); a payout back into a chain reached earlier from a later one
// (ETH -> BTC -> ETH) would be replayed before its deposit and carry
// nothing: such round trips need block-time order between chains.

// Qualify writes a of chain as "<chain>:<a>": an address (or, as Asset, an
// asset) of a chain other than the walk's own.
func Qualify(chain string, a Address) Address { return Address(chain + ":" + string(a)) }

// QualifyAsset writes asset of chain as "<chain>:<asset>".
func QualifyAsset(chain string, asset Asset) Asset { return Asset(chain + ":" + string(asset)) }

// Native reports whether a is a chain's own coin: NativeAsset, or the
// native asset of another chain ("bitcoin:native").
func (a Asset) Native() bool {
	return a == NativeAsset || strings.HasSuffix(string(a), ":"+string(NativeAsset))
}

// ChainWindows is what a Source spanning several chains adds: the window
// of each chain that covers the walk's window (given in the walk's own
// chain's blocks), mapped by block time.
type ChainWindows interface {
	ChainWindow(ctx context.Context, chain string, w BlockRange) (BlockRange, error)
}

// Annotations of a cross-chain conversion (a bridge payout) and of a
// bridge deposit's pairing.
const (
	// AnnConverts is, on a bridge's payout, the ID (Transfer.ID) of the
	// deposit it pays out: the ledger books it at the executed rate.
	AnnConverts = "converts"
	// AnnConversion says what the payout is: ConversionBridged (the swap
	// arrived on the destination chain) or ConversionRefunded.
	AnnConversion = "conversion"
	// AnnPairing is, on a bridge deposit, the outcome of the search for its
	// other leg: "paired", "refunded", "pending" or "not_found".
	AnnPairing = "pairing"
	// AnnPairingDetail says what was searched, in one line.
	AnnPairingDetail = "pairing_detail"
	// AnnInboundTx and AnnOutboundTx are the two transactions of a paired
	// bridge swap; AnnVault pays out; AnnDelay is the seconds between them.
	AnnInboundTx  = "inbound_tx"
	AnnOutboundTx = "outbound_tx"
	AnnVault      = "vault"
	AnnDelay      = "delay_seconds"
	// AnnBridgeContract is the contract the deposit was sent to, when the
	// deposit's recipient became the swap's hub.
	AnnBridgeContract = "bridge_contract"
	// AnnPairingConfidence is how sure the pairing of a deposit with its
	// other leg is, 0 to 1 ("0.85"); AnnPairingDoubts says what lowered it
	// ("; "-separated). A pairing without it is certain (a memo names the
	// inbound transaction).
	AnnPairingConfidence = "bridge_confidence"
	AnnPairingDoubts     = "bridge_doubts"
)

// Conversion kinds (AnnConversion).
const (
	ConversionBridged  = "bridged"
	ConversionRefunded = "refunded"
)

// CategoryBridgeSwap is the hub of one paired cross-chain swap
// ("thorchain:<inbound hash>"): not a terminal, the walk follows it to the
// payout on the destination chain.
const CategoryBridgeSwap Category = "bridge_swap"
