// Package tracer follows stolen value forward from seed addresses, hop by hop,
// and records where it went.
//
// It holds the chain-neutral domain types (Address, Transfer, Trace), the small
// interfaces the walk needs from a chain (Source) and from a label registry
// (Labeler), the walk itself and the value accounting. It knows nothing about
// JSON-RPC, go-ethereum, caches or output formats: chain adapters convert at
// their boundary and exporters read a finished Trace.
package tracer

import (
	"math/big"
	"strconv"
)

// Address is an account in the canonical text form of its chain
// (EIP-55 checksummed hex for EVM chains).
type Address string

// Asset names what moved: NativeAsset, or a token contract Address.
type Asset string

// NativeAsset is the chain's own coin (ETH on Ethereum).
const NativeAsset Asset = "native"

// TransferKind says how a transfer was observed.
type TransferKind string

// Transfer kinds.
const (
	KindNative   TransferKind = "native"   // value of a top-level transaction
	KindInternal TransferKind = "internal" // value of an internal call (CALL, CREATE, SELFDESTRUCT)
	KindERC20    TransferKind = "erc20"    // ERC-20 Transfer event
	KindERC721   TransferKind = "erc721"   // ERC-721 Transfer event (not followed as value)
)

// Transfer is one movement of value observed on a chain.
type Transfer struct {
	Chain       string
	TxHash      string
	BlockNumber uint64
	TxIndex     uint
	// Seq orders transfers inside one transaction: the call-frame order for
	// native and internal transfers, then the log index for token events.
	Seq int
	// LogIndex is the event's log index for token transfers, -1 otherwise.
	LogIndex int
	// TraceAddress is the call path of an internal transfer ([] for top level).
	TraceAddress []int
	Kind         TransferKind
	From, To     Address
	Asset        Asset
	Amount       *big.Int // base units
	// TxFrom is the account that signed the transaction; a token event whose
	// claimed sender is neither TxFrom nor a contract is not trusted.
	TxFrom Address
	// Annotations carry chain-specific findings in plain form
	// (a decoded memo, a mixer event), keyed by a short name.
	Annotations map[string]string
}

// Before reports whether t happened before u in chain order.
func (t Transfer) Before(u Transfer) bool {
	if t.BlockNumber != u.BlockNumber {
		return t.BlockNumber < u.BlockNumber
	}
	if t.TxIndex != u.TxIndex {
		return t.TxIndex < u.TxIndex
	}
	return t.Seq < u.Seq
}

// ID identifies a transfer uniquely within its chain.
func (t Transfer) ID() string {
	return t.TxHash + "/" + t.Position()
}

// Position is the transfer's place inside its transaction: "log:N" for
// events, "call:a.b.c" (or "call:" for top level) for value transfers.
func (t Transfer) Position() string {
	if t.LogIndex >= 0 {
		return "log:" + strconv.Itoa(t.LogIndex)
	}
	s := "call:"
	for i, n := range t.TraceAddress {
		if i > 0 {
			s += "."
		}
		s += strconv.Itoa(n)
	}
	return s
}

// Direction selects a side of a transfer.
type Direction int

// Directions.
const (
	Outgoing Direction = iota // transfers sent by the addresses
	Incoming                  // transfers received by the addresses
)

// TransferQuery asks for the transfers of a set of addresses in a block window.
type TransferQuery struct {
	Direction Direction
	Addresses []Address
	Window    BlockRange
}

// BlockRange is an inclusive range of block numbers.
type BlockRange struct{ From, To uint64 }

// Len is the number of blocks in the range.
func (r BlockRange) Len() uint64 {
	if r.To < r.From {
		return 0
	}
	return r.To - r.From + 1
}

// Account is what a chain tells about an address.
type Account struct {
	IsContract bool
	// Category, when set, is what the chain knows the address to be beyond
	// account or contract (a transaction the value passes through, the fee
	// sink); labels still win over it.
	Category Category
}

// Token is a token contract's metadata.
type Token struct {
	Symbol   string
	Name     string
	Decimals uint8
}

// Descriptions answers a Describe call.
type Descriptions struct {
	Accounts map[Address]Account
	Tokens   map[Address]Token
}

// Category classifies an address in the flow.
type Category string

// Categories. Terminal categories stop the walk.
const (
	CategorySeed      Category = "seed"
	CategoryEOA       Category = "eoa"
	CategoryContract  Category = "contract"
	CategoryExchange  Category = "exchange"
	CategoryBridge    Category = "bridge"
	CategoryMixer     Category = "mixer"
	CategoryDEX       Category = "dex"
	CategorySanctions Category = "sanctioned"
	CategoryOther     Category = "other"
	// CategoryTransaction is a transaction the value passes through (a UTXO
	// chain's inputs -> transaction -> outputs): followed like a contract.
	CategoryTransaction Category = "transaction"
	// CategoryFees is where transaction fees go (the miners): a terminal.
	CategoryFees Category = "fees"
)

// Label is a known entity behind an address.
type Label struct {
	Name     string
	Category Category
	Source   string
}
