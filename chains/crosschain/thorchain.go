package crosschain

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/chains/bitcoin"
	"github.com/flowtrace/flowtrace/chains/thorchain"
	"github.com/flowtrace/flowtrace/tracer"
)

// THORChain pairs THORChain router deposits with their outbounds on a
// Bitcoin-like chain: the vault's transaction whose OP_RETURN reads
// OUT:<inbound hash> (or REFUND:<inbound hash>), searched in the blocks
// from the deposit's time (less the block-time skew) up to MaxDelay after
// it. Blocks are read through the chain Source's Scanner, so each is read
// once per trace, whether the pairing or the walk asks first.
type THORChain struct {
	chain    string
	scanner  *bitcoin.Scanner
	clock    Clock
	maxDelay time.Duration
}

var _ Pairer = (*THORChain)(nil)

// NewTHORChain makes the pairer for chain (the flowtrace name, "bitcoin")
// over its scanner and clock; maxDelay 0 means thorchain.DefaultMaxDelay.
func NewTHORChain(chain string, scanner *bitcoin.Scanner, clock Clock, maxDelay time.Duration) *THORChain {
	if maxDelay <= 0 {
		maxDelay = thorchain.DefaultMaxDelay
	}
	return &THORChain{chain: chain, scanner: scanner, clock: cached(clock), maxDelay: maxDelay}
}

// Bridge implements Pairer.
func (p *THORChain) Bridge() string { return "thorchain" }

// Chain implements Pairer.
func (p *THORChain) Chain() string { return p.chain }

// MaxDelay implements Pairer.
func (p *THORChain) MaxDelay() time.Duration { return p.maxDelay }

// Swap implements Pairer: THORChain names a swap by its inbound hash, as
// its memos write it (upper case, no 0x).
func (p *THORChain) Swap(d Deposit) string { return thorchain.NormalizeTxID(d.Transfer.TxHash) }

// Pair implements Pairer.
func (p *THORChain) Pair(ctx context.Context, deps []Deposit, end uint64) ([]Pairing, error) {
	out := make([]Pairing, len(deps))
	for i, d := range deps {
		pr, err := p.pairOne(ctx, d, end)
		if err != nil {
			return nil, err
		}
		out[i] = pr
	}
	return out, nil
}

func (p *THORChain) pairOne(ctx context.Context, d Deposit, end uint64) (Pairing, error) {
	in := thorchain.Inbound{TxHash: d.Transfer.TxHash, Destination: d.Transfer.Annotations[tracer.AnnDestAddress], Time: d.Time}
	m, err := thorchain.NewMatcher(p.maxDelay, in)
	if err != nil {
		return Pairing{}, err
	}
	from, err := FirstAtOrAfter(ctx, p.clock, d.Time-thorchain.BlockTimeSkew)
	if err != nil {
		return Pairing{}, err
	}
	bound := d.Time + int64(p.maxDelay/time.Second) + thorchain.BlockTimeSkew
	to, err := LastAtOrBefore(ctx, p.clock, bound)
	if err != nil {
		return Pairing{}, err
	}
	to = min(to, end)
	hash := p.Swap(d)
	if from > to {
		return Pairing{Status: StatusPending, Detail: fmt.Sprintf("no %s block after the deposit was read yet (the trace's %s window ends at block %d)", p.chain, p.chain, end)}, nil
	}
	if err := p.scanner.Read(ctx, from, to); err != nil {
		return Pairing{}, err
	}
	for _, tx := range p.scanner.OpReturns(from, to, d.Time-thorchain.BlockTimeSkew, func([]byte) bool { return true }) {
		m.Offer(tx)
	}
	last := p.scanner.Block(to)
	if last == nil {
		return Pairing{}, fmt.Errorf("crosschain: %s block %d was not read", p.chain, to)
	}
	r := m.Results(last.Time)[0]
	pr := Pairing{Status: string(r.Status)}
	for _, l := range r.Legs {
		if l.Paid < 0 {
			continue
		}
		o := l.Tx.Outputs[l.Paid]
		pr.Legs = append(pr.Legs, Leg{TxID: l.Tx.TxID, Block: l.Tx.Block, Index: max(l.Tx.Index, 0), Output: l.Paid, To: o.Address,
			Amount: big.NewInt(l.Amount), Vault: l.Vault, Memo: l.Memo.Raw, Delay: l.Tx.Time - d.Time})
	}
	switch r.Status {
	case thorchain.Paired, thorchain.Refunded:
		if len(pr.Legs) == 0 {
			pr.Status = StatusNotFound
			pr.Detail = fmt.Sprintf("%s:%s found on %s but no output paid could be told apart (blocks %d-%d)", strings.ToUpper(string(r.Legs[0].Memo.Action)), hash, p.chain, from, to)
			break
		}
		pr.Detail = fmt.Sprintf("%s:%s on %s in %d transaction(s), first %s (block %d), %ds after the deposit",
			strings.ToUpper(string(r.Legs[0].Memo.Action)), hash, p.chain, len(pr.Legs), pr.Legs[0].TxID, pr.Legs[0].Block, pr.Legs[0].Delay)
	case thorchain.NotFound:
		pr.Detail = fmt.Sprintf("no OUT:%s or REFUND:%s on %s in blocks %d-%d (up to %s after the deposit)", hash, hash, p.chain, from, to, p.maxDelay)
	default:
		pr.Detail = fmt.Sprintf("no OUT:%s on %s yet: blocks %d-%d read, the last at %s, before the search bound %s",
			hash, p.chain, from, to, time.Unix(last.Time, 0).UTC().Format(time.RFC3339), time.Unix(r.Until, 0).UTC().Format(time.RFC3339))
	}
	return pr, nil
}
