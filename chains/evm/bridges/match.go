package bridges

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/chains/networks"
)

// Pairing: a deposit leg on its source chain is matched with the fill leg
// on its destination chain by the protocol's own key, as the destination
// chain's events stream past:
//   - Across: (origin chain id, deposit id). The origin SpokePool numbers its
//     deposits; the fill names the origin chain and the deposit id.
//   - Stargate V2 / LayerZero OFT: the message guid, which LayerZero derives
//     from the nonce and the path (source eid, sender, destination eid,
//     receiver), so it is unique per message.
//   - LayerZero packets (any OApp): the path and the nonce, from PacketSent
//     on the source endpoint and PacketDelivered on the destination.
//
// Anyone can emit these events from any contract: a pair is evidence, and
// its confidence says how much of it agrees (the legs' contracts known as
// the protocol's, the fill paying the recipient and amount the deposit
// asked for, the chains the events name).

// DefaultMaxDelay bounds the search for a fill after its deposit when the
// deposit names no deadline. Across fills come within seconds to minutes
// (a deposit unfilled by its fillDeadline is refunded on the origin chain);
// Stargate bus rides and LayerZero deliveries within minutes to hours.
const DefaultMaxDelay = 6 * time.Hour

// ClockSkew is how far block times of two chains may disagree, in
// seconds: a fill's block may carry a time slightly before its deposit's.
const ClockSkew = 15 * 60

// Leg is one side of a bridge transfer: an event and the chain it was read
// on (a chains/networks name).
type Leg struct {
	Chain string
	Event Event
	// Known: the emitting contract is labelled as the protocol's on Chain
	// (a SpokePool, a Stargate pool). The caller decides, from labels.
	Known bool
}

// Status says what the search found.
type Status string

// Pair statuses.
const (
	Paired   Status = "paired"    // the fill was found
	Pending  Status = "pending"   // nothing yet, the search has not reached its bound
	NotFound Status = "not_found" // nothing up to the bound
)

// Pair is the outcome of the search for one deposit.
type Pair struct {
	Deposit Leg
	Status  Status
	Fill    *Leg
	// Received is what the destination leg paid (base units of Fill's
	// output token); nil until paired, and for a LayerZero packet, which
	// carries no amount (its OFTReceived does).
	Received *big.Int
	// DestChain is the chain the deposit names ("" when not in
	// chains/networks).
	DestChain string
	Delay     int64 // seconds from the deposit's block to the fill's
	Until     int64 // the search bound, unix seconds
	// Confidence in [0,1] that Fill answers Deposit; Doubts says what lowered it.
	Confidence float64
	Doubts     []string
}

// Matcher pairs deposits with their fills, every deposit in one pass.
type Matcher struct {
	maxDelay int64
	order    []string
	pairs    map[string]*Pair
}

// NewMatcher prepares the search for the deposit legs deps, each up to its
// fill deadline, else maxDelay after it (DefaultMaxDelay when 0). Legs that
// are not deposits, or whose chain is unknown, are refused.
func NewMatcher(maxDelay time.Duration, deps ...Leg) (*Matcher, error) {
	if maxDelay == 0 {
		maxDelay = DefaultMaxDelay
	}
	if maxDelay < 0 {
		return nil, fmt.Errorf("bridges: fill search: max delay %s is negative", maxDelay)
	}
	m := &Matcher{maxDelay: int64(maxDelay / time.Second), pairs: map[string]*Pair{}}
	for _, d := range deps {
		if d.Event.Side != Deposit {
			return nil, fmt.Errorf("bridges: fill search: %s in tx %s is not a deposit", d.Event.Name, d.Event.TxHash)
		}
		if d.Event.Time <= 0 {
			return nil, fmt.Errorf("bridges: fill search: deposit in tx %s has no block time", d.Event.TxHash)
		}
		src, ok := networks.Lookup(d.Chain)
		if !ok {
			return nil, fmt.Errorf("bridges: fill search: deposit in tx %s: unknown chain %q", d.Event.TxHash, d.Chain)
		}
		k, dest := depositKey(src, d.Event)
		if k == "" {
			return nil, fmt.Errorf("bridges: fill search: deposit in tx %s carries no pairing key", d.Event.TxHash)
		}
		if _, dup := m.pairs[k]; dup {
			continue
		}
		until := d.Event.Time + m.maxDelay
		if dl := d.Event.FillDeadline; dl > 0 && d.Event.Protocol == Across {
			until = dl
		}
		m.order = append(m.order, k)
		m.pairs[k] = &Pair{Deposit: d, Status: Pending, DestChain: dest, Until: until}
	}
	return m, nil
}

// depositKey is the pairing key of a deposit read on src, and the name of
// the destination chain it names ("" when unknown).
func depositKey(src networks.Network, e Event) (key, dest string) {
	switch e.Protocol {
	case Across:
		if e.DepositID == nil {
			return "", ""
		}
		if n, ok := networks.ByChainID(new(big.Int).SetUint64(e.DestChainID)); ok {
			dest = n.Name
		}
		return acrossKey(uint64(src.ChainID), e.DepositID), dest
	case Stargate:
		if n, ok := networks.ByLayerZeroEID(e.DstEID); ok {
			dest = n.Name
		}
		return guidKey(e.GUID), dest
	case LayerZero:
		if n, ok := networks.ByLayerZeroEID(e.DstEID); ok {
			dest = n.Name
		}
		return pathKey(e.SrcEID, e.Sender, e.DstEID, e.Receiver, e.Nonce), dest
	}
	return "", ""
}

func acrossKey(origin uint64, id *big.Int) string { return fmt.Sprintf("across:%d:%s", origin, id) }
func guidKey(g string) string                     { return "oft:" + strings.ToLower(g) }

// pathKey identifies a LayerZero packet: its path and nonce.
func pathKey(src uint32, sender string, dst uint32, receiver string, nonce uint64) string {
	return fmt.Sprintf("lz:%d/%s/%d/%s/%d", src, strings.ToLower(sender), dst, strings.ToLower(receiver), nonce)
}

// fillKey is the pairing key of a fill read on chain.
func fillKey(chain string, e Event) string {
	switch e.Protocol {
	case LayerZero:
		if n, ok := networks.Lookup(chain); ok && n.LayerZeroEID != 0 {
			return pathKey(e.SrcEID, e.Sender, n.LayerZeroEID, e.Receiver, e.Nonce)
		}
	case Across:
		if e.DepositID != nil {
			return acrossKey(e.OriginChainID, e.DepositID)
		}
	case Stargate:
		if e.GUID != "" {
			return guidKey(e.GUID)
		}
	}
	return ""
}

// Offer looks at one destination-chain leg and reports whether it answers
// a deposit inside its window. Legs may come in any order; the earliest
// answering fill wins (a second fill of one deposit is a doubt on it).
func (m *Matcher) Offer(f Leg) bool {
	if f.Event.Side != Fill {
		return false
	}
	p := m.pairs[fillKey(f.Chain, f.Event)]
	if p == nil {
		return false
	}
	t := f.Event.Time
	if t > 0 && (t < p.Deposit.Event.Time-ClockSkew || t > p.Until+ClockSkew) {
		return false
	}
	if p.Fill != nil {
		if sameLeg(*p.Fill, f) {
			return true
		}
		if !before(f, *p.Fill) {
			p.Doubts = appendOnce(p.Doubts, "another fill names the same deposit: "+f.Chain+" "+f.Event.TxHash)
			return true
		}
		p.Doubts = appendOnce(p.Doubts, "another fill names the same deposit: "+p.Fill.Chain+" "+p.Fill.Event.TxHash)
	}
	p.Fill = &f
	p.Status = Paired
	p.Received = nil // a packet delivery carries no amount
	if f.Event.OutputAmount != nil {
		p.Received = new(big.Int).Set(f.Event.OutputAmount)
	}
	p.Delay = t - p.Deposit.Event.Time
	return true
}

func sameLeg(a, b Leg) bool {
	return a.Chain == b.Chain && a.Event.TxHash == b.Event.TxHash && a.Event.LogIndex == b.Event.LogIndex
}

func before(a, b Leg) bool {
	return cmp.Or(cmp.Compare(a.Event.Time, b.Event.Time), cmp.Compare(a.Event.Block, b.Event.Block),
		cmp.Compare(a.Event.LogIndex, b.Event.LogIndex)) < 0
}

func appendOnce(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// Results is every deposit's pair, in the order given, once the
// destination chains have been read up to block time scanned: a deposit
// with no fill is NotFound when scanned is past its bound, else Pending.
func (m *Matcher) Results(scanned int64) []Pair {
	out := make([]Pair, 0, len(m.order))
	for _, k := range m.order {
		p := *m.pairs[k]
		p.Doubts = slices.Clone(p.Doubts)
		if p.Fill == nil {
			if scanned > p.Until+ClockSkew {
				p.Status = NotFound
			}
		} else {
			p.Confidence, p.Doubts = confidence(p, p.Doubts)
		}
		out = append(out, p)
	}
	return out
}

// Horizon is the block time up to which the destination chains must be
// read for every deposit to reach its bound.
func (m *Matcher) Horizon() int64 {
	var h int64
	for _, p := range m.pairs {
		h = max(h, p.Until+ClockSkew)
	}
	return h
}

// confidence weighs the agreement of a pair's legs.
func confidence(p Pair, doubts []string) (float64, []string) {
	d, f := p.Deposit, *p.Fill
	c := 1.0
	doubt := func(factor float64, why string) {
		c *= factor
		doubts = append(doubts, why)
	}
	if len(doubts) > 0 {
		c *= 0.5 // competing fills
	}
	if !d.Known {
		doubt(0.7, "the deposit contract is not a known "+string(d.Event.Protocol)+" contract")
	}
	if !f.Known {
		doubt(0.5, "the fill contract is not a known "+string(f.Event.Protocol)+" contract")
	}
	if p.DestChain != "" && f.Chain != p.DestChain {
		doubt(0.3, "the fill is on "+f.Chain+", the deposit asked for "+p.DestChain)
	}
	switch d.Event.Protocol {
	case Across:
		// The fill repeats the deposit's terms (relayers must, or the fill
		// hash differs and the relayer is never repaid).
		if f.Event.Depositor != d.Event.Depositor || f.Event.InputToken != d.Event.InputToken || !eq(f.Event.InputAmount, d.Event.InputAmount) {
			doubt(0.3, "the fill's depositor, input token or input amount differ from the deposit's")
		}
		if f.Event.OutputToken != d.Event.OutputToken {
			doubt(0.5, "the fill's output token differs from the deposit's")
		}
		if f.Event.Recipient != d.Event.Recipient {
			doubt(0.9, "the recipient was updated by the depositor (speed-up) to "+f.Event.Recipient)
		}
		if !eq(f.Event.OutputAmount, d.Event.OutputAmount) {
			doubt(0.9, "the amount paid differs from the deposit's output amount (speed-up or slow fill)")
		}
	case Stargate:
		if src, ok := networks.Lookup(d.Chain); ok && src.LayerZeroEID != 0 && f.Event.SrcEID != src.LayerZeroEID {
			doubt(0.3, fmt.Sprintf("the receipt names source endpoint %d, not %s's %d", f.Event.SrcEID, d.Chain, src.LayerZeroEID))
		}
		if !eq(f.Event.OutputAmount, d.Event.OutputAmount) {
			doubt(0.5, "the amount received differs from the amount the send promised")
		}
	}
	return c, doubts
}

func eq(a, b *big.Int) bool { return a != nil && b != nil && a.Cmp(b) == 0 }
