package tracer

import (
	"math/big"
	"time"
)

// Trace is the finished (or cut short) result of a walk.
type Trace struct {
	Chain  string
	Seeds  []Address
	Window BlockRange
	// Nodes are the addresses the stolen value reached, sorted by address.
	Nodes []Node
	// Transfers are the kept transfers that carried stolen value, in chain order.
	Transfers []TracedTransfer
	// Tokens holds the metadata of every token seen in Transfers.
	Tokens map[Address]Token
	// Skipped lists what was seen but deliberately not followed.
	Skipped []Skip
	// Summary is the value accounting: where the stolen value ended.
	Summary Summary
	Levels  []LevelStats
	Stats   Stats
}

// StopReason says why a walk ended.
type StopReason string

// Stop reasons. Only StopComplete means nothing was left to follow.
const (
	StopComplete    StopReason = "complete"
	StopDepth       StopReason = "depth limit"
	StopAddresses   StopReason = "address budget"
	StopRequests    StopReason = "rpc request budget"
	StopInterrupted StopReason = "interrupted"
	StopHopFailed   StopReason = "hop failed"
)

// Complete reports whether the walk followed everything it found.
func (t *Trace) Complete() bool { return t.Stats.StopReason == StopComplete }

// NodeStop says why the walk did not go on from a node.
type NodeStop string

// Node stops. The empty value means the node's outflows were followed.
const (
	NodeFollowed    NodeStop = ""
	NodeTerminal    NodeStop = "terminal"    // a labelled exchange, bridge, mixer...
	NodeDepth       NodeStop = "depth"       // reached at the depth limit
	NodeBudget      NodeStop = "budget"      // a budget ran out before it was expanded
	NodeContract    NodeStop = "contract"    // contract policy says stop
	NodeHopFailed   NodeStop = "hop failed"  // the node could not answer for it
	NodeInterrupted NodeStop = "interrupted" // the walk was cancelled first
)

// Node is an address the stolen value reached.
type Node struct {
	Address        Address
	Category       Category
	Labels         []Label
	IsContract     bool
	Depth          int
	FirstSeenBlock uint64
	Stop           NodeStop
	// Received and Held are the tainted amounts per asset that arrived at and
	// remained at the address (for seeds, Received is what they were given).
	Received map[Asset]*big.Int
	Held     map[Asset]*big.Int
}

// TracedTransfer is a kept transfer with the part of it that was stolen value.
type TracedTransfer struct {
	Transfer
	Tainted *big.Int
}

// Skip records a transfer or address that was seen but not followed.
type Skip struct {
	Address Address
	TxHash  string
	Reason  string
}

// Summary is the value accounting of a trace, per asset.
type Summary struct {
	Assets []AssetSummary
}

// Buckets of the value accounting. Each unit of stolen value ends in exactly one.
const (
	BucketExchange       = "exchange"
	BucketBridge         = "bridge"
	BucketMixer          = "mixer"
	BucketSwapped        = "swapped"
	BucketDormant        = "dormant"
	BucketBelowThreshold = "below_threshold"
	BucketNotFollowed    = "not_followed"
	BucketOther          = "other_terminal"
)

// AssetSummary is where the stolen amount of one asset ended, per bucket.
type AssetSummary struct {
	Asset   Asset
	Symbol  string
	Decimal uint8
	Stolen  *big.Int
	Buckets map[string]*big.Int
	// SwappedIn is the stolen value bought with another stolen asset (a
	// followed swap); the buckets add up to Stolen + SwappedIn.
	SwappedIn *big.Int
}

// LevelStats describes one level of the walk: level 0 reads what the seeds
// received; level k follows the outflows of the frontier and reaches the
// addresses k hops from the seeds.
type LevelStats struct {
	Level        int
	Frontier     int
	Window       BlockRange
	Transfers    int // transfers returned by the source
	NewAddresses int
	Usage        Usage // what the level cost
	Elapsed      time.Duration
}

// Stats are the run's totals.
type Stats struct {
	Usage
	Elapsed    time.Duration
	StopReason StopReason
	// StopDetail adds the cause (the error of a failed hop, the budget hit).
	StopDetail string
	// Methods names the RPC methods the source used, when it says.
	Methods []string
}

// Usage counts what a Source has cost so far.
type Usage struct {
	Requests      int64 // JSON-RPC requests (each batch element counts)
	RoundTrips    int64 // HTTP round trips (a batch is one)
	CacheHits     int64
	CacheMisses   int64
	BlocksScanned int64
	// ProbeRequests are the Requests made to identify the chain (chain id,
	// genesis, head, modules) rather than to answer hops.
	ProbeRequests int64
}

// Sub returns u - v.
func (u Usage) Sub(v Usage) Usage {
	return Usage{
		Requests:      u.Requests - v.Requests,
		RoundTrips:    u.RoundTrips - v.RoundTrips,
		CacheHits:     u.CacheHits - v.CacheHits,
		CacheMisses:   u.CacheMisses - v.CacheMisses,
		BlocksScanned: u.BlocksScanned - v.BlocksScanned,
		ProbeRequests: u.ProbeRequests - v.ProbeRequests,
	}
}

// Metered is an optional ability of a Source: it counts its cost.
type Metered interface {
	Usage() Usage
}

// Described is an optional ability of a Source: it names the methods it uses.
type Described interface {
	Methods() []string
}
