package crosschain

import (
	"context"
	"math/big"
	"time"

	"github.com/flowtrace/flowtrace/tracer"
)

// Deposit is a bridge deposit the walk found on the primary chain.
type Deposit struct {
	Transfer tracer.Transfer // as the primary chain's Source answered it
	Time     int64           // its block time, unix seconds
}

// Pairing statuses (the deposit's tracer.AnnPairing).
const (
	StatusPaired   = "paired"
	StatusRefunded = "refunded"
	StatusPending  = "pending"   // the destination chain was not read up to the search bound
	StatusNotFound = "not_found" // nothing up to the bound
)

// Leg is a payout found for a deposit on the pairer's chain: the output
// paid to the destination (or refunded).
type Leg struct {
	TxID   string
	Block  uint64
	Index  int // the transaction's position in its block
	Output int // the paid output's position
	To     string
	Amount *big.Int // base units actually received
	Vault  string
	Memo   string
	Delay  int64 // seconds from the deposit (< 0 by block-time skew)
}

// Pairing is the outcome of the search for one deposit.
type Pairing struct {
	Status string
	Legs   []Leg
	Detail string // what was searched, in one line
}

// Pairer finds the other leg of one bridge's deposits on one destination
// chain.
type Pairer interface {
	// Bridge is the protocol it pairs (the deposits' tracer.AnnBridge).
	Bridge() string
	// Chain is the destination chain it reads (the deposits' tracer.AnnDestChain).
	Chain() string
	// MaxDelay bounds the search after a deposit.
	MaxDelay() time.Duration
	// Swap names a deposit's swap: its hub is "<Bridge>:<Swap>".
	Swap(d Deposit) string
	// Pair searches the chain's blocks up to end for each deposit's payout,
	// and answers one Pairing per deposit, in order.
	Pair(ctx context.Context, deps []Deposit, end uint64) ([]Pairing, error)
}
