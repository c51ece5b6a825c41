package thorchain

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/chains/bitcoin/utxo"
)

// Outbound pairing: THORChain pays a swap out from an Asgard vault in a
// transaction whose OP_RETURN reads "OUT:<inbound hash>" (a refund on the
// inbound's own chain reads "REFUND:<inbound hash>"). THORNode writes the
// hash upper case without 0x (common.NewTxID upper-cases it; the EVM
// observer drops the 0x), e.g. "OUT:08A863D3...2EB3" for an EVM deposit;
// the match here ignores case and a 0x prefix on either side.
//
// Anyone can write such an OP_RETURN: the pairing is evidence, not proof,
// unless the vault is known (a THORNode answer names it).

// DefaultMaxDelay bounds the search for an outbound after its deposit.
// Outbounds usually follow within minutes, streaming swaps and queued
// outbounds within hours.
const DefaultMaxDelay = 24 * time.Hour

// BlockTimeSkew is how far a Bitcoin block's time may run ahead of the
// true time (consensus: up to 2 hours past network time), so an outbound
// can carry a block time before its deposit's.
const BlockTimeSkew = 2 * 60 * 60

// Inbound is a deposit into THORChain on the source chain.
type Inbound struct {
	TxHash      string // as the source chain prints it: 0x... on EVM chains
	Destination string // the memo's destination address ("" = back to the sender)
	Asset       Asset  // the memo's asset
	Time        int64  // the deposit's block time, unix seconds
}

// PairStatus says what the search found.
type PairStatus string

// Pair statuses.
const (
	Paired   PairStatus = "paired"    // one or more OUT: transactions
	Refunded PairStatus = "refunded"  // a REFUND: transaction
	Pending  PairStatus = "pending"   // nothing yet, the search has not reached its bound
	NotFound PairStatus = "not_found" // nothing up to the bound
)

// Leg is one transaction answering an inbound. THORChain may split an
// outbound over several vaults, each leg carrying the same memo.
type Leg struct {
	Tx     utxo.Tx
	Memo   Memo
	Paid   int   // position of the output paid to the destination (or refunded); -1 when none is found
	Amount int64 // sats of that output: the amount actually received
	// ToDestination: the paid output pays the memo's destination address.
	// False when it is only the one output that is not the vault's change
	// (a refund, a memo naming a THORName or no destination).
	ToDestination bool
	Change        int // position of the vault's change (paid back to an input's address); -1 when none
	Vault         string
}

// Pair is the outcome of the search for one inbound.
type Pair struct {
	Inbound Inbound
	Status  PairStatus
	Legs    []Leg
	Amount  int64 // sats received over all legs
	Delay   int64 // seconds from the deposit to the first leg's block (may be < 0 by block-time skew)
	Until   int64 // the search bound: deposit time + max delay
}

// Matcher pairs inbounds with their outbounds as the destination chain's
// transactions stream past, every inbound in one pass.
type Matcher struct {
	maxDelay int64
	order    []string // normalised hashes, in the order given
	pairs    map[string]*Pair
}

// NewMatcher prepares the search for ins, each up to maxDelay after its
// deposit (DefaultMaxDelay when 0).
func NewMatcher(maxDelay time.Duration, ins ...Inbound) (*Matcher, error) {
	if maxDelay == 0 {
		maxDelay = DefaultMaxDelay
	}
	if maxDelay < 0 {
		return nil, fmt.Errorf("thorchain: outbound search: max delay %s is negative", maxDelay)
	}
	m := &Matcher{maxDelay: int64(maxDelay / time.Second), pairs: map[string]*Pair{}}
	for _, in := range ins {
		h := NormalizeTxID(in.TxHash)
		if len(h) != 64 || !isHex(h) {
			return nil, fmt.Errorf("thorchain: outbound search: inbound hash %q: want 64 hex digits", in.TxHash)
		}
		if in.Time <= 0 {
			return nil, fmt.Errorf("thorchain: outbound search: inbound %s has no block time", in.TxHash)
		}
		if _, dup := m.pairs[h]; dup {
			continue
		}
		m.order = append(m.order, h)
		m.pairs[h] = &Pair{Inbound: in, Status: Pending, Until: in.Time + m.maxDelay}
	}
	return m, nil
}

// NormalizeTxID is a transaction hash as THORChain writes it in memos:
// upper case, without 0x.
func NormalizeTxID(h string) string {
	h = strings.TrimSpace(h)
	if len(h) > 2 && (h[:2] == "0x" || h[:2] == "0X") {
		h = h[2:]
	}
	return strings.ToUpper(h)
}

// Horizon is the block time up to which the destination chain must be
// read for every inbound to reach its bound.
func (m *Matcher) Horizon() int64 {
	var h int64
	for _, p := range m.pairs {
		h = max(h, p.Until+BlockTimeSkew)
	}
	return h
}

// Offer looks at one transaction and reports whether it answers an
// inbound in its window. Transactions may come in any order; one offered
// twice counts once.
func (m *Matcher) Offer(tx utxo.Tx) bool {
	memo, ok := OutboundMemo(tx)
	if !ok {
		return false
	}
	p := m.pairs[NormalizeTxID(memo.TxID)]
	if p == nil || tx.Time < p.Inbound.Time-BlockTimeSkew || tx.Time > p.Until+BlockTimeSkew {
		return false
	}
	if slices.ContainsFunc(p.Legs, func(l Leg) bool { return l.Tx.TxID == tx.TxID }) {
		return true
	}
	leg := legOf(tx, memo, p.Inbound)
	if d := tx.Time - p.Inbound.Time; len(p.Legs) == 0 || d < p.Delay {
		p.Delay = d
	}
	p.Legs = append(p.Legs, leg)
	if leg.Paid >= 0 {
		p.Amount += leg.Amount
	}
	if memo.Action == ActionRefund {
		p.Status = Refunded
	} else if p.Status != Refunded {
		p.Status = Paired
	}
	return true
}

// Results is every inbound's pair, in the order given, its legs in chain
// order, once the chain has been read up to block time scanned: an
// inbound with no leg is NotFound when scanned is past its bound (with the
// block-time skew), else Pending.
func (m *Matcher) Results(scanned int64) []Pair {
	out := make([]Pair, 0, len(m.order))
	for _, h := range m.order {
		p := *m.pairs[h]
		p.Legs = slices.Clone(p.Legs)
		slices.SortFunc(p.Legs, func(a, b Leg) int {
			return cmp.Or(cmp.Compare(a.Tx.Block, b.Tx.Block), cmp.Compare(a.Tx.Index, b.Tx.Index), strings.Compare(a.Tx.TxID, b.Tx.TxID))
		})
		if len(p.Legs) == 0 && scanned > p.Until+BlockTimeSkew {
			p.Status = NotFound
		}
		out = append(out, p)
	}
	return out
}

// OutboundMemo is the OUT: or REFUND: memo in tx's OP_RETURN outputs, if
// there is one.
func OutboundMemo(tx utxo.Tx) (Memo, bool) {
	for _, o := range tx.Outputs {
		if len(o.OpReturn) == 0 || len(o.OpReturn) > 80 {
			continue
		}
		m, err := ParseMemo(string(o.OpReturn))
		if err == nil && (m.Action == ActionOut || m.Action == ActionRefund) {
			return m, true
		}
	}
	return Memo{}, false
}

// legOf reads one answering transaction: the vault is the first input's
// address, its change the output paying an input's address back, and the
// paid output the one to the destination, else the only other spendable
// output.
func legOf(tx utxo.Tx, memo Memo, in Inbound) Leg {
	l := Leg{Tx: tx, Memo: memo, Paid: -1, Change: -1}
	inputs := map[string]bool{}
	for i, x := range tx.Inputs {
		if i == 0 {
			l.Vault = x.Address
		}
		inputs[x.Address] = x.Address != ""
	}
	var others []int
	for i, o := range tx.Outputs {
		switch {
		case o.Value == 0 || len(o.OpReturn) > 0:
		case inputs[o.Address] && l.Change < 0:
			l.Change = i
		case memo.Action == ActionOut && in.Destination != "" && sameAddress(o.Address, in.Destination) && l.Paid < 0:
			l.Paid, l.ToDestination = i, true
		default:
			others = append(others, i)
		}
	}
	if l.Paid < 0 && len(others) == 1 {
		l.Paid = others[0]
	}
	if l.Paid >= 0 {
		l.Amount = tx.Outputs[l.Paid].Value
	}
	return l
}

// sameAddress compares addresses; bech32 ones ignore case.
func sameAddress(a, b string) bool {
	if a == b {
		return true
	}
	la := strings.ToLower(a)
	for _, hrp := range []string{"bc1", "tb1", "bcrt1", "ltc1", "tltc1"} {
		if strings.HasPrefix(la, hrp) {
			return strings.EqualFold(a, b)
		}
	}
	return false
}
