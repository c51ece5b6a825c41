package tracer

import (
	"context"
	"errors"
)

// Source is what the walk asks of a chain. Implementations answer for a whole
// frontier at once (one batched round per call, not one per address).
type Source interface {
	// Transfers returns the transfers sent (Outgoing) or received (Incoming)
	// by any of q.Addresses within q.Window, of every asset, in any order.
	// Zero-value transfers may be included; the walk drops them.
	Transfers(ctx context.Context, q TransferQuery) ([]Transfer, error)
	// Describe tells which accounts are contracts and the metadata of tokens.
	// Unknown token metadata is left out of the result rather than failing.
	Describe(ctx context.Context, accounts, tokens []Address) (Descriptions, error)
}

// Labeler knows the entities behind addresses (exchanges, bridges, mixers...).
type Labeler interface {
	Lookup(chain string, addr Address) (Label, bool)
}

// Errors a Source maps its failures to.
var (
	ErrRateLimited = errors.New("rate limited by the node")
	ErrUnsupported = errors.New("method not supported by the node")
	ErrNotFound    = errors.New("not found")
)
