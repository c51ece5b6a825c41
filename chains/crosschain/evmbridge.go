package crosschain

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/chains/evm/bridges"
	"github.com/flowtrace/flowtrace/chains/networks"
	"github.com/flowtrace/flowtrace/tracer"
)

// EVMBridge pairs one EVM bridge's deposits, made on any chain of the
// trace, with their fills on one destination EVM chain, by the protocol's
// own key (bridges.Matcher): Across by origin chain id and deposit id,
// Stargate V2 and other LayerZero OFTs by the message guid. The deposits
// are the transfers an evm.Source annotated (evm.Source.DecodeBridges); the
// fills are read with one eth_getLogs per search (evm.Source.BridgeFills),
// from the earliest deposit's time less bridges.ClockSkew up to the latest
// one's bound: its fill deadline (Across), else MaxDelay after it.
//
// A paired deposit goes on on the destination chain with what the fill
// paid its recipient: Across pays its output token, the destination's
// wrapped native coin unwrapped to an account without code (as the
// SpokePool does); a Stargate native pool pays the native coin. Both legs
// are the evidence, with a confidence and what lowered it
// (bridges.AnnConfidence, bridges.AnnDoubts). A Stargate deposit of a token
// is stated paired but not followed: the event does not say which token the
// destination pool pays.
type EVMBridge struct {
	protocol bridges.Protocol
	chain    string
	dest     FillReader
	clock    Clock
	opts     EVMBridgeOptions
}

// FillReader is what EVMBridge asks of the destination chain (an
// *evm.Source): the fill events, and whether an address holds code.
type FillReader interface {
	BridgeFills(ctx context.Context, q evm.FillQuery) ([]bridges.Event, error)
	Describe(ctx context.Context, accounts, tokens []tracer.Address) (tracer.Descriptions, error)
}

// EVMBridgeOptions tune an EVMBridge; the zero value is usable.
type EVMBridgeOptions struct {
	// MaxDelay bounds the search after a deposit that names no fill
	// deadline; 0 means bridges.DefaultMaxDelay.
	MaxDelay time.Duration
	// Labels tells the protocol's contracts: a deposit or fill contract
	// labelled tracer.CategoryBridge on its chain counts as known (an
	// unknown one lowers the confidence). Optional.
	Labels tracer.Labeler
	// WrappedNatives are the destination chain's wrapped native coins
	// (chains/labels tokens.csv wrapped_native rows).
	WrappedNatives []tracer.Address
}

var _ Pairer = (*EVMBridge)(nil)

// NewEVMBridge makes the pairer of protocol (bridges.Across or
// bridges.Stargate) deposits into chain (a chains/networks name), reading
// its fills through dest and its block times through clock.
func NewEVMBridge(protocol bridges.Protocol, chain string, dest FillReader, clock Clock, opts EVMBridgeOptions) (*EVMBridge, error) {
	if protocol != bridges.Across && protocol != bridges.Stargate {
		return nil, fmt.Errorf("crosschain: no pairing of %q deposits (want across or stargate)", protocol)
	}
	if _, ok := networks.Lookup(chain); !ok {
		return nil, fmt.Errorf("crosschain: %s pairing: %q is not a known EVM chain", protocol, chain)
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = bridges.DefaultMaxDelay
	}
	return &EVMBridge{protocol: protocol, chain: chain, dest: dest, clock: cached(clock), opts: opts}, nil
}

// EVMBridgesInto makes the pairers of every EVM bridge EVMBridge pairs
// (Across, Stargate) into chain: the wiring of one destination chain.
func EVMBridgesInto(chain string, dest FillReader, clock Clock, opts EVMBridgeOptions) ([]Pairer, error) {
	var out []Pairer
	for _, proto := range []bridges.Protocol{bridges.Across, bridges.Stargate} {
		p, err := NewEVMBridge(proto, chain, dest, clock, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Bridge implements Pairer.
func (p *EVMBridge) Bridge() string { return string(p.protocol) }

// Chain implements Pairer.
func (p *EVMBridge) Chain() string { return p.chain }

// MaxDelay implements Pairer.
func (p *EVMBridge) MaxDelay() time.Duration { return p.opts.MaxDelay }

// Swap implements Pairer: an Across deposit is named by its origin chain
// and deposit id ("ethereum-7"), a Stargate send by its guid.
func (p *EVMBridge) Swap(d Deposit) string {
	if p.protocol == bridges.Across {
		return d.Chain + "-" + cmp.Or(d.Transfer.Annotations[bridges.AnnDepositID], "?")
	}
	return strings.ToLower(d.Transfer.Annotations[bridges.AnnGUID])
}

// Pair implements Pairer.
func (p *EVMBridge) Pair(ctx context.Context, deps []Deposit, end uint64) ([]Pairing, error) {
	out := make([]Pairing, len(deps))
	var legs []bridges.Leg
	legOf := map[int]int{} // deps index -> legs index
	for i, d := range deps {
		ev, err := bridges.DepositEvent(d.Transfer.Annotations)
		if err == nil {
			ev.TxHash, ev.Block, ev.TxIndex, ev.Time = d.Transfer.TxHash, d.Transfer.BlockNumber, d.Transfer.TxIndex, d.Time
			leg := bridges.Leg{Chain: d.Chain, Event: ev, Known: p.known(d.Chain, ev.Contract)}
			if _, err = bridges.NewMatcher(p.opts.MaxDelay, leg); err == nil {
				legOf[i] = len(legs)
				legs = append(legs, leg)
				continue
			}
		}
		out[i] = Pairing{Status: StatusNotFound, Detail: "not searched: " + err.Error()}
	}
	if len(legs) == 0 {
		return out, nil
	}
	m, err := bridges.NewMatcher(p.opts.MaxDelay, legs...)
	if err != nil {
		return nil, err
	}
	earliest := slices.MinFunc(legs, func(a, b bridges.Leg) int { return cmp.Compare(a.Event.Time, b.Event.Time) }).Event.Time
	from, err := FirstAtOrAfter(ctx, p.clock, earliest-bridges.ClockSkew)
	if err != nil {
		return nil, err
	}
	to, err := LastAtOrBefore(ctx, p.clock, m.Horizon())
	if err != nil {
		return nil, err
	}
	to = min(to, end)
	if from > to {
		for i, k := range legOf {
			out[i] = Pairing{Status: StatusPending, Detail: fmt.Sprintf("no %s block after the %s deposit %s was read yet (the trace's %s window ends at block %d)",
				p.chain, p.protocol, swapKey(legs[k]), p.chain, end)}
		}
		return out, nil
	}
	fills, err := p.dest.BridgeFills(ctx, p.query(legs, tracer.BlockRange{From: from, To: to}))
	if err != nil {
		return nil, err
	}
	for _, f := range fills {
		if f.Time == 0 { // the node did not put block times on its logs
			if f.Time, err = p.clock.BlockTime(ctx, f.Block); err != nil {
				return nil, err
			}
		}
		m.Offer(bridges.Leg{Chain: p.chain, Event: f, Known: p.known(p.chain, f.Contract)})
	}
	scanned, err := p.clock.BlockTime(ctx, to)
	if err != nil {
		return nil, err
	}
	if to < end { // the next block read is past every deposit's bound
		scanned = max(scanned, m.Horizon()+1)
	}
	byDeposit := map[string]bridges.Pair{}
	for _, r := range m.Results(scanned) {
		byDeposit[legID(r.Deposit)] = r
	}
	eoa, err := p.plainAccounts(ctx, byDeposit)
	if err != nil {
		return nil, err
	}
	for i, k := range legOf {
		r, ok := byDeposit[legID(legs[k])]
		if !ok {
			out[i] = Pairing{Status: StatusNotFound, Detail: "not searched: another deposit carries the same key " + swapKey(legs[k])}
			continue
		}
		out[i] = p.pairing(deps[i], r, from, to, eoa)
	}
	return out, nil
}

// query asks for the fills of legs in w.
func (p *EVMBridge) query(legs []bridges.Leg, w tracer.BlockRange) evm.FillQuery {
	q := evm.FillQuery{Protocol: p.protocol, Window: w}
	seen := map[string]bool{}
	for _, l := range legs {
		switch p.protocol {
		case bridges.Across:
			n, _ := networks.Lookup(l.Chain) // NewMatcher checked it
			if !slices.Contains(q.Origins, uint64(n.ChainID)) {
				q.Origins = append(q.Origins, uint64(n.ChainID))
			}
			if id := l.Event.DepositID.String(); !seen[id] {
				seen[id] = true
				q.DepositIDs = append(q.DepositIDs, l.Event.DepositID)
			}
		case bridges.Stargate:
			if g := strings.ToLower(l.Event.GUID); !seen[g] {
				seen[g] = true
				q.GUIDs = append(q.GUIDs, l.Event.GUID)
			}
		}
	}
	slices.Sort(q.Origins)
	return q
}

// plainAccounts tells which recipients of Across fills paid in the wrapped
// native coin hold no code (the SpokePool unwraps for them).
func (p *EVMBridge) plainAccounts(ctx context.Context, pairs map[string]bridges.Pair) (map[tracer.Address]bool, error) {
	var ask []tracer.Address
	for _, r := range pairs {
		if r.Fill != nil && p.protocol == bridges.Across && p.wrapped(r.Fill.Event.OutputToken) && common.IsHexAddress(r.Fill.Event.Recipient) {
			ask = append(ask, tracer.Address(r.Fill.Event.Recipient))
		}
	}
	if len(ask) == 0 {
		return nil, nil
	}
	slices.Sort(ask)
	d, err := p.dest.Describe(ctx, slices.Compact(ask), nil)
	if err != nil {
		return nil, fmt.Errorf("crosschain: %s fills on %s: %w", p.protocol, p.chain, err)
	}
	eoa := map[tracer.Address]bool{}
	for _, a := range ask {
		eoa[a] = !d.Accounts[a].IsContract
	}
	return eoa, nil
}

func (p *EVMBridge) wrapped(token string) bool {
	return slices.ContainsFunc(p.opts.WrappedNatives, func(w tracer.Address) bool { return strings.EqualFold(string(w), token) })
}

// pairing turns the matcher's pair r of deposit d into the deposit's
// Pairing, searched in blocks from-to.
func (p *EVMBridge) pairing(d Deposit, r bridges.Pair, from, to uint64, eoa map[tracer.Address]bool) Pairing {
	key := swapKey(r.Deposit)
	switch r.Status {
	case bridges.NotFound:
		return Pairing{Status: StatusNotFound, Detail: fmt.Sprintf("no fill of %s on %s in blocks %d-%d (up to %s)",
			key, p.chain, from, to, time.Unix(r.Until, 0).UTC().Format(time.RFC3339))}
	case bridges.Pending:
		return Pairing{Status: StatusPending, Detail: fmt.Sprintf("no fill of %s on %s yet: blocks %d-%d read, before the search bound %s",
			key, p.chain, from, to, time.Unix(r.Until, 0).UTC().Format(time.RFC3339))}
	}
	f := r.Fill.Event
	ann := bridges.PairAnnotations(r)
	delete(ann, bridges.AnnPair) // tracer.AnnPairing says it
	pr := Pairing{Status: StatusPaired, Annotations: ann}
	when := fmt.Sprintf("%ds after the deposit", r.Delay)
	if r.Delay < 0 { // the chains' clocks disagree, within bridges.ClockSkew
		when = fmt.Sprintf("%ds before the deposit by the chains' block times", -r.Delay)
	}
	detail := fmt.Sprintf("%s of %s on %s in %s (block %d), %s, confidence %.2f", f.Name, key, p.chain, f.TxHash, f.Block, when, r.Confidence)
	if len(r.Doubts) > 0 {
		detail += " (" + strings.Join(r.Doubts, "; ") + ")"
	}
	var asset tracer.Asset
	switch {
	case r.Received == nil || r.Received.Sign() == 0:
		pr.Detail = detail + "; it paid nothing: not followed"
		return pr
	case p.protocol == bridges.Across && p.wrapped(f.OutputToken) && eoa[tracer.Address(f.Recipient)]:
		asset = tracer.NativeAsset // unwrapped for an account without code
	case p.protocol == bridges.Across && f.OutputToken == (common.Address{}).Hex():
		asset = tracer.NativeAsset
	case p.protocol == bridges.Across && common.IsHexAddress(f.OutputToken):
		asset = tracer.Asset(f.OutputToken)
	case p.protocol == bridges.Stargate && d.Transfer.Asset.Native():
		asset = tracer.NativeAsset // a native pool pays the native coin
	default:
		pr.Detail = detail + "; paid in a token the fill does not name on " + p.chain + ": not followed"
		return pr
	}
	if !common.IsHexAddress(f.Recipient) {
		pr.Detail = detail + "; paid to " + f.Recipient + ", not an EVM account: not followed"
		return pr
	}
	pr.Legs = []Leg{{TxID: f.TxHash, Block: f.Block, Index: int(f.TxIndex), Output: int(f.LogIndex), Event: true, To: f.Recipient,
		Asset: asset, Amount: new(big.Int).Set(r.Received), Vault: f.Contract, Delay: r.Delay}}
	pr.Detail = detail
	return pr
}

// known reports whether contract is labelled a bridge on chain.
func (p *EVMBridge) known(chain, contract string) bool {
	if p.opts.Labels == nil {
		return false
	}
	l, ok := p.opts.Labels.Lookup(chain, tracer.Address(contract))
	return ok && l.Category == tracer.CategoryBridge
}

// swapKey names a deposit leg in the details: "across deposit 7 from
// ethereum" or "stargate guid 0x...".
func swapKey(l bridges.Leg) string {
	if l.Event.Protocol == bridges.Across {
		return "across deposit " + l.Event.DepositID.String() + " from " + l.Chain
	}
	return string(l.Event.Protocol) + " guid " + l.Event.GUID
}

func legID(l bridges.Leg) string {
	return l.Chain + "/" + l.Event.TxHash + "/" + strconv.FormatUint(uint64(l.Event.LogIndex), 10)
}
