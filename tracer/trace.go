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
	// Native is the chain's own coin (Options.Native, ETH with 18 decimals by default).
	Native Token
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
	// Taint names the taint model of Summary (and of the walk).
	Taint string
	// StolenBasis says how the seeds' stolen value was derived.
	StolenBasis string
	// Unexplained lists the senders that paid out more than the walk saw
	// them receive, per asset (a balance from before the window, or inflows
	// the node's methods do not show); sorted by address and asset.
	Unexplained []Unexplained
	// Alternatives are the same trace's accounting under other taint
	// models (the walk itself follows Taint), in the order asked.
	Alternatives []ModelSummary
	// Read is the number of distinct transfers the walk read: each is either
	// in Transfers, credited to the seeds, or in Skipped.
	Read   int
	Levels []LevelStats
	Stats  Stats
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
	Address Address // the transfer's recipient, or the address not followed
	TxHash  string
	Reason  string
	// ID is the skipped transfer's ID (empty when an address is skipped);
	// Asset and Amount say what it moved.
	ID     string
	Asset  Asset
	Amount *big.Int
}

// Unexplained is value an address sent beyond what it was seen to receive.
type Unexplained struct {
	Address Address
	Asset   Asset
	// Amount is the sum of the outflows not covered by known inflows.
	Amount *big.Int
	// TxHash and Block are where the known balance first ran out.
	TxHash string
	Block  uint64
}

// ModelSummary is the value accounting under one taint model.
type ModelSummary struct {
	Taint   string
	Summary Summary
}

// Summary is the value accounting of a trace, per asset.
type Summary struct {
	Assets []AssetSummary
}

// Buckets of the value accounting. Each unit of stolen value ends in exactly
// one. Dormant means the address was read to the end of the window and still
// holds it; value at an address the walk never expanded is not followed, with
// the cause (depth limit, budget, or an error or interruption).
const (
	BucketExchange       = "exchange"
	BucketBridge         = "bridge"
	BucketMixer          = "mixer"
	BucketSwapped        = "swapped"
	BucketDormant        = "dormant"
	BucketBelowThreshold = "below_threshold"
	BucketNotFollowed    = "not_followed" // a failed hop or an interruption
	BucketDepth          = "not_followed_depth"
	BucketBudget         = "not_followed_budget"
	// BucketWalk is only in Trace.Alternatives: value another model puts at
	// an address the walk's own model brought nothing to, so it was not followed.
	BucketWalk  = "not_followed_model"
	BucketOther = "other_terminal"
	// BucketBridged is a bridge deposit whose payout was found on the
	// destination chain: the value goes on there, as that chain's asset
	// (AssetSummary.BridgedIn). A deposit whose payout was not found stays
	// at the bridge (BucketBridge: bridged, not arrived).
	BucketBridged = "bridged_arrived"
	// BucketRefunded is a bridge deposit the bridge paid back.
	BucketRefunded = "refunded"
	// BucketFees is value paid to the miners as transaction fees.
	BucketFees = "fees"
)

// AssetSummary is where the stolen amount of one asset ended, per bucket.
type AssetSummary struct {
	Asset   Asset
	Symbol  string
	Decimal uint8
	Stolen  *big.Int
	Buckets map[string]*big.Int
	// SwappedIn is the stolen value bought with another stolen asset (a
	// followed swap); the buckets add up to Stolen + SwappedIn + BridgedIn.
	SwappedIn *big.Int
	// BridgedIn is the stolen value bridges paid out in this asset for
	// deposits of stolen value (a followed cross-chain swap or a refund).
	BridgedIn *big.Int
}

// Accounted is what the asset's buckets add up to: Stolen + SwappedIn +
// BridgedIn.
func (a AssetSummary) Accounted() *big.Int {
	x := new(big.Int)
	for _, v := range []*big.Int{a.Stolen, a.SwappedIn, a.BridgedIn} {
		if v != nil {
			x.Add(x, v)
		}
	}
	return x
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
