package graph

import (
	"cmp"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/flowtrace/flowtrace/tracer"
)

// Pattern kinds, one per row of the DESIGN.md pattern table (plus the
// low-confidence mixer withdrawal leads).
const (
	KindFanOut          = "fan_out"
	KindPeelChain       = "peel_chain"
	KindFanIn           = "fan_in"
	KindSwap            = "swap"
	KindBridge          = "bridge"
	KindMixer           = "mixer"
	KindMixerLead       = "mixer_withdrawal_lead"
	KindExchangeDeposit = "exchange_deposit"
	KindDormant         = "dormant"
)

// CategoryCrossChain is the category of a hand-off node: the address on
// another chain that a bridge deposit names as its recipient.
const CategoryCrossChain tracer.Category = "cross_chain"

// DetectOptions tune the pattern detectors. The zero value means the defaults.
type DetectOptions struct {
	// MinFanOut is the fewest recipients of a fan-out (default 4), within
	// FanOutBlocks blocks of each other (default 100).
	MinFanOut    int
	FanOutBlocks uint64
	// MinLots is the fewest equal amounts that make "equal lots" (default 3).
	MinLots int
	// MinFanIn is the fewest senders of a consolidation (default 3).
	MinFanIn int
	// MinPeelHops is the fewest peeling hops of a peel chain (default 3);
	// a peel is at most MaxPeelPercent of the hop's outflow (default 35).
	MinPeelHops    int
	MaxPeelPercent int64
	// DepositForwardPermille: an unlabelled address that forwards at least
	// this share (per mille, default 995) of what it received to a labelled
	// exchange is taken for an exchange deposit address.
	DepositForwardPermille int64
	// DormantPercent: an expanded address still holding at least this share
	// of the stolen value it received (default 50) is dormant.
	DormantPercent int64
}

func (o DetectOptions) withDefaults() DetectOptions {
	o.MinFanOut = cmp.Or(o.MinFanOut, 4)
	o.FanOutBlocks = cmp.Or(o.FanOutBlocks, 100)
	o.MinLots = cmp.Or(o.MinLots, 3)
	o.MinFanIn = cmp.Or(o.MinFanIn, 3)
	o.MinPeelHops = cmp.Or(o.MinPeelHops, 3)
	o.MaxPeelPercent = cmp.Or(o.MaxPeelPercent, 35)
	o.DepositForwardPermille = cmp.Or(o.DepositForwardPermille, 995)
	o.DormantPercent = cmp.Or(o.DormantPercent, 50)
	return o
}

// Detect runs every pattern detector, fills f.Patterns (sorted by kind, then
// addresses) and adds the hand-off nodes of decoded bridge deposits. It is
// deterministic; call it once, after Build.
func (f *Flow) Detect(opts DetectOptions) {
	o := opts.withDefaults()
	var ps []Pattern
	ps = append(ps, f.fanOuts(o)...)
	ps = append(ps, f.peelChains(o)...)
	ps = append(ps, f.fanIns(o)...)
	swaps := f.swaps()
	pools := map[tracer.Address]bool{}
	for _, p := range swaps {
		pools[p.Addresses[1]] = true
	}
	ps = append(ps, swaps...)
	ps = append(ps, f.bridges()...)
	ps = append(ps, f.mixers()...)
	ps = append(ps, f.exchangeDeposits(o)...)
	ps = append(ps, f.dormant(o, pools)...)
	slices.SortStableFunc(ps, func(a, b Pattern) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), slices.Compare(a.Addresses, b.Addresses))
	})
	f.Patterns = ps
}

// terminalEntity reports whether n is a labelled entity the walk stops at.
func terminalEntity(n *Node) bool {
	switch n.Category {
	case tracer.CategoryExchange, tracer.CategoryBridge, tracer.CategoryMixer, tracer.CategoryDEX, CategoryCrossChain:
		return true
	}
	return false
}

// taintedOut returns n's edges of asset a that carried stolen value.
func (f *Flow) taintedOut(id string) []*Edge {
	var out []*Edge
	for _, e := range f.out[id] {
		if e.Tainted.Sign() > 0 && e.To.ID != id {
			out = append(out, e)
		}
	}
	return out
}

func evidenceOf(es ...*Edge) []Evidence {
	n := 0
	for _, e := range es {
		n += len(e.Transfers)
	}
	if n == 0 {
		return nil
	}
	ev := make([]Evidence, 0, n)
	for _, e := range es {
		for _, t := range e.Transfers {
			ev = append(ev, Evidence{TxHash: t.TxHash, Block: t.BlockNumber, Amount: new(big.Int).Set(t.Tainted)})
		}
	}
	slices.SortFunc(ev, func(a, b Evidence) int {
		return cmp.Or(cmp.Compare(a.Block, b.Block), strings.Compare(a.TxHash, b.TxHash))
	})
	return ev
}

// fanOuts finds addresses that pay many recipients within a short span, and
// flags round equal lots. A contract paid in the same transactions by one
// sender (a batch-payment contract) is reported with that payer.
func (f *Flow) fanOuts(o DetectOptions) []Pattern {
	var ps []Pattern
	for _, n := range f.nodes {
		if len(f.out[n.ID]) < o.MinFanOut {
			continue // too few payees in any asset
		}
		byAsset := map[tracer.Asset][]*Edge{}
		for _, e := range f.taintedOut(n.ID) {
			if !terminalEntity(e.To) {
				byAsset[e.Asset] = append(byAsset[e.Asset], e)
			}
		}
		for _, asset := range slices.SortedFunc(maps.Keys(byAsset), compareAssets) {
			edges := densest(byAsset[asset], o.FanOutBlocks)
			if len(edges) < o.MinFanOut {
				continue
			}
			p := Pattern{Kind: KindFanOut, Confidence: 0.75, Detail: map[string]string{
				"asset": string(asset), "recipients": strconv.Itoa(len(edges)),
				"total": f.amountText(asset, sumTainted(edges)),
			}}
			if lot, group := equalLots(edges); len(group) >= o.MinLots {
				tok, _ := f.AssetInfo(asset)
				p.Detail["equal_lots"] = fmt.Sprintf("%d x %s", len(group), f.amountText(asset, lot))
				if round(lot, tok.Decimals) {
					p.Detail["round_lots"] = "true"
					p.Confidence = 0.95
				} else {
					p.Confidence = 0.85
				}
				if others := len(edges) - len(group); others > 0 {
					p.Detail["other_recipients"] = strconv.Itoa(others)
				}
				edges = group
			}
			p.Addresses = []tracer.Address{n.Address}
			p.Detail["source"] = string(n.Address)
			if payer := f.batchPayer(n, edges); payer != nil {
				p.Addresses = []tracer.Address{payer.Address, n.Address}
				p.Detail["via_contract"] = string(n.Address)
			}
			for _, e := range edges {
				p.Addresses = append(p.Addresses, e.To.Address)
			}
			p.Evidence = evidenceOf(edges...)
			ps = append(ps, p)
		}
	}
	return ps
}

// batchPayer returns the single sender of contract n when it paid n in the
// same transactions as n's payouts.
func (f *Flow) batchPayer(n *Node, payouts []*Edge) *Node {
	if !n.IsContract || len(f.in[n.ID]) != 1 {
		return nil
	}
	in := f.in[n.ID][0]
	txs := map[string]bool{}
	for _, t := range in.Transfers {
		txs[t.TxHash] = true
	}
	for _, e := range payouts {
		for _, t := range e.Transfers {
			if !txs[t.TxHash] {
				return nil
			}
		}
	}
	return in.From
}

// densest keeps the edges (one per recipient) whose first transfers fall in
// the busiest span of at most span blocks.
func densest(edges []*Edge, span uint64) []*Edge {
	first := func(e *Edge) uint64 { return e.Transfers[0].BlockNumber }
	sorted := slices.SortedStableFunc(slices.Values(edges), func(a, b *Edge) int { return cmp.Compare(first(a), first(b)) })
	best, lo := []*Edge(nil), 0
	for hi := range sorted {
		for first(sorted[hi])-first(sorted[lo]) > span {
			lo++
		}
		if hi-lo+1 > len(best) {
			best = sorted[lo : hi+1]
		}
	}
	return slices.SortedFunc(slices.Values(best), compareEdges)
}

// equalLots returns the most common tainted amount and its edges.
func equalLots(edges []*Edge) (*big.Int, []*Edge) {
	groups := map[string][]*Edge{}
	for _, e := range edges {
		k := e.Tainted.String()
		groups[k] = append(groups[k], e)
	}
	var lot *big.Int
	var best []*Edge
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		if g := groups[k]; len(g) > len(best) {
			best, lot = g, g[0].Tainted
		}
	}
	return lot, best
}

// round reports whether v is a whole number of units with at most two
// significant digits (10,000 or 25 ETH, not 9,873.2).
func round(v *big.Int, decimals uint8) bool {
	unit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
	q, r := new(big.Int).QuoRem(v, unit, new(big.Int))
	if r.Sign() != 0 || q.Sign() == 0 {
		return false
	}
	s := strings.TrimRight(q.String(), "0")
	return len(s) <= 2
}

func sumTainted(edges []*Edge) *big.Int {
	s := new(big.Int)
	for _, e := range edges {
		s.Add(s, e.Tainted)
	}
	return s
}

// peelStep is one hop of a peel chain: the bulk passes on, small peels go aside.
type peelStep struct {
	node  *Node
	pass  *Edge
	peels []*Edge
}

// peelStepOf returns n's peel step in one asset, if its outflow is one large
// pass to a fresh address plus small peels.
func (f *Flow) peelStepOf(n *Node, o DetectOptions) (peelStep, bool) {
	out := f.taintedOut(n.ID)
	if len(out) < 2 || n.Category == tracer.CategorySeed && len(out) > 4 {
		return peelStep{}, false
	}
	asset := out[0].Asset
	var pass *Edge
	for _, e := range out {
		if e.Asset != asset {
			return peelStep{}, false
		}
		if pass == nil || e.Tainted.Cmp(pass.Tainted) > 0 {
			pass = e
		}
	}
	total := sumTainted(out)
	st := peelStep{node: n, pass: pass}
	for _, e := range out {
		if e == pass {
			continue
		}
		// peel*100 <= total*MaxPeelPercent
		if new(big.Int).Mul(e.Tainted, big.NewInt(100)).Cmp(new(big.Int).Mul(total, big.NewInt(o.MaxPeelPercent))) > 0 {
			return peelStep{}, false
		}
		st.peels = append(st.peels, e)
	}
	// The rest passes on: the pass is the bulk (at least 100 - MaxPeelPercent
	// of the outflow), to a fresh address reached from here only.
	if new(big.Int).Mul(pass.Tainted, big.NewInt(100)).Cmp(new(big.Int).Mul(total, big.NewInt(100-o.MaxPeelPercent))) < 0 ||
		len(f.in[pass.To.ID]) != 1 || terminalEntity(pass.To) || len(st.peels) > 3 {
		return peelStep{}, false
	}
	return st, true
}

// peelChains follows runs of peel steps along their pass edges.
func (f *Flow) peelChains(o DetectOptions) []Pattern {
	steps := map[string]peelStep{}
	for _, n := range f.nodes {
		if st, ok := f.peelStepOf(n, o); ok {
			steps[n.ID] = st
		}
	}
	isPassTarget := map[string]bool{}
	for _, st := range steps {
		if next, _, ok := f.nextPeel(steps, st); ok {
			isPassTarget[next.node.ID] = true
		}
	}
	var ps []Pattern
	for _, n := range f.nodes {
		st, ok := steps[n.ID]
		if !ok || isPassTarget[n.ID] {
			continue
		}
		var run []peelStep
		var via []*Node // per step, the address its pass reached before the next step's transaction
		seen := map[string]bool{}
		for ok && !seen[st.node.ID] {
			seen[st.node.ID] = true
			run = append(run, st)
			var hop *Node
			st, hop, ok = f.nextPeel(steps, st)
			via = append(via, hop)
		}
		if len(run) < o.MinPeelHops {
			continue
		}
		p := Pattern{Kind: KindPeelChain, Confidence: min(0.95, 0.5+0.1*float64(len(run))), Detail: map[string]string{
			"asset": string(run[0].pass.Asset), "length": strconv.Itoa(len(run)),
		}}
		var peels, to []string
		var edges []*Edge
		for i, s := range run {
			p.Addresses = append(p.Addresses, s.node.Address)
			if i < len(run)-1 && via[i] != nil {
				p.Addresses = append(p.Addresses, via[i].Address)
			}
			out := new(big.Int).Add(s.pass.Tainted, sumTainted(s.peels))
			for _, e := range s.peels {
				peels = append(peels, fmt.Sprintf("%s %s (%s)", ShortAddress(e.To.Address), f.amountText(e.Asset, e.Tainted), Share(e.Tainted, out)))
				to = append(to, string(e.To.Address)+" ("+string(e.To.Category)+")")
			}
			edges = append(append(edges, s.pass), s.peels...)
		}
		last := run[len(run)-1].pass.To
		p.Addresses = append(p.Addresses, last.Address)
		p.Detail["peels"] = strings.Join(peels, "; ")
		p.Detail["peeled_to"] = strings.Join(to, ", ")
		p.Detail["rest_at"] = string(last.Address)
		p.Evidence = evidenceOf(edges...)
		ps = append(ps, p)
	}
	return ps
}

// nextPeel returns the peel step that continues st: at its pass target, or,
// where value moves through transactions (a UTXO chain: address ->
// transaction -> outputs), at the one transaction the pass target spends
// its value into, with that address as via.
func (f *Flow) nextPeel(steps map[string]peelStep, st peelStep) (next peelStep, via *Node, ok bool) {
	to := st.pass.To
	if next, ok := steps[to.ID]; ok {
		return next, nil, true
	}
	out := f.taintedOut(to.ID)
	if len(out) != 1 || out[0].To.Category != tracer.CategoryTransaction || out[0].Asset != st.pass.Asset {
		return peelStep{}, nil, false
	}
	next, ok = steps[out[0].To.ID]
	return next, to, ok
}

// fanIns finds unlabelled addresses that many traced addresses pay.
func (f *Flow) fanIns(o DetectOptions) []Pattern {
	var ps []Pattern
	for _, n := range f.nodes {
		if terminalEntity(n) || n.Category == tracer.CategorySeed {
			continue
		}
		var in []*Edge
		senders := map[string]bool{}
		for _, e := range f.in[n.ID] {
			if e.Tainted.Sign() > 0 && e.From != n {
				in = append(in, e)
				senders[e.From.ID] = true
			}
		}
		if len(senders) < o.MinFanIn {
			continue
		}
		p := Pattern{Kind: KindFanIn, Confidence: 0.9, Detail: map[string]string{"senders": strconv.Itoa(len(senders)), "sink": string(n.Address)}}
		for _, e := range in {
			if !slices.Contains(p.Addresses, e.From.Address) {
				p.Addresses = append(p.Addresses, e.From.Address)
			}
		}
		slices.Sort(p.Addresses)
		p.Addresses = append(p.Addresses, n.Address)
		p.Detail["total"] = f.edgeTotals(in)
		p.Evidence = evidenceOf(in...)
		ps = append(ps, p)
	}
	return ps
}

// edgeTotals sums edges per asset as text ("10 ETH + 5 USDC").
func (f *Flow) edgeTotals(es []*Edge) string {
	sums := map[tracer.Asset]*big.Int{}
	for _, e := range es {
		if sums[e.Asset] == nil {
			sums[e.Asset] = new(big.Int)
		}
		sums[e.Asset].Add(sums[e.Asset], e.Tainted)
	}
	return strings.ReplaceAll(f.amountList(sums), ", ", " + ")
}

// swaps finds transactions where a traced address sent one asset into a
// contract and received another asset back in the same transaction.
func (f *Flow) swaps() []Pattern {
	type leg struct{ in, out []tracer.TracedTransfer }
	byTx := map[string]*leg{}
	var order []string
	for _, t := range f.transfers {
		if byTx[t.TxHash] == nil {
			byTx[t.TxHash] = &leg{}
			order = append(order, t.TxHash)
		}
		byTx[t.TxHash].in = append(byTx[t.TxHash].in, t)
	}
	var ps []Pattern
	for _, h := range order {
		ts := byTx[h].in
		for _, sold := range ts {
			pool := f.byID[NodeID(f.Chain, sold.To)]
			if pool == nil || !(pool.IsContract || pool.Category == tracer.CategoryDEX) {
				continue
			}
			for _, got := range ts {
				if got.To != sold.From || got.Asset == sold.Asset || got.From == sold.From {
					continue
				}
				p := Pattern{Kind: KindSwap, Confidence: 0.9, Addresses: []tracer.Address{sold.From, sold.To},
					Evidence: []Evidence{{h, sold.BlockNumber, new(big.Int).Set(sold.Tainted)}, {h, got.BlockNumber, new(big.Int).Set(got.Tainted)}},
					Detail: map[string]string{
						"sold": f.amountText(sold.Asset, sold.Amount), "bought": f.amountText(got.Asset, got.Amount),
						"sold_asset": string(sold.Asset), "bought_asset": string(got.Asset),
						"tainted_in": f.amountText(sold.Asset, sold.Tainted), "tainted_out": f.amountText(got.Asset, got.Tainted),
					}}
				if got.From != sold.To {
					p.Addresses = append(p.Addresses, got.From)
				}
				ps = append(ps, p)
			}
		}
	}
	return ps
}

// bridges reports deposits into bridges and cross-chain routers; a deposit
// whose destination was decoded (a THORChain memo) gets a hand-off node on
// the destination chain.
func (f *Flow) bridges() []Pattern {
	var ps []Pattern
	for _, e := range slices.Clone(f.edges) { // handOff adds edges
		if e.To.Category == CategoryCrossChain {
			continue
		}
		for _, t := range e.Transfers {
			proto := t.Annotations[tracer.AnnBridge]
			if (proto == "" && e.To.Category != tracer.CategoryBridge) || t.Annotations[tracer.AnnConverts] != "" {
				continue // a bridge's payout is reported with its deposit
			}
			p := Pattern{Kind: KindBridge, Confidence: 1, Addresses: []tracer.Address{e.From.Address, e.To.Address},
				Evidence: []Evidence{{t.TxHash, t.BlockNumber, new(big.Int).Set(t.Tainted)}},
				Detail:   map[string]string{"amount": f.amountText(e.Asset, t.Tainted), "protocol": cmp.Or(proto, labelName(e.To))}}
			for _, k := range []string{tracer.AnnMemo, tracer.AnnDestChain, tracer.AnnDestAsset, tracer.AnnDestAddress, tracer.AnnRefundAddress,
				tracer.AnnPairing, tracer.AnnPairingDetail, tracer.AnnInboundTx, tracer.AnnOutboundTx, tracer.AnnBridgeContract, tracer.AnnPairingDoubts} {
				if v := t.Annotations[k]; v != "" {
					p.Detail[k] = v
				}
			}
			if c, err := strconv.ParseFloat(t.Annotations[tracer.AnnPairingConfidence], 64); err == nil && c >= 0 && c <= 1 {
				p.Confidence = c // the pairer's: a heuristic match of the two legs
			}
			if lim := t.Annotations[tracer.AnnDestLimit]; lim != "" {
				p.Detail["expected_min"] = lim
				if v, ok := new(big.Int).SetString(lim, 10); ok {
					d, _ := strconv.Atoi(t.Annotations[tracer.AnnDestDecimals])
					p.Detail["expected_min"] = FormatAmount(v, uint8(d)) + " " + t.Annotations[tracer.AnnDestAsset]
				}
			}
			if t.Annotations[tracer.AnnOutboundTx] != "" {
				// Paired: the walk went on to the payout, through the swap's hub.
				for _, x := range f.out[e.To.ID] {
					for _, pay := range x.Transfers {
						if pay.Annotations[tracer.AnnConverts] == t.ID() {
							p.Evidence = append(p.Evidence, Evidence{pay.TxHash, pay.BlockNumber, new(big.Int).Set(pay.Tainted)})
							p.Addresses = append(p.Addresses, x.To.Address)
						}
					}
				}
			} else if chain, addr := t.Annotations[tracer.AnnDestChain], t.Annotations[tracer.AnnDestAddress]; chain != "" && addr != "" {
				p.Addresses = append(p.Addresses, f.handOff(e, t, chain, tracer.Address(addr)))
			} else {
				p.Detail["destination"] = "not decoded"
			}
			ps = append(ps, p)
		}
	}
	return ps
}

func labelName(n *Node) string {
	l, _ := n.PrimaryLabel()
	return cmp.Or(l.Name, string(n.Category))
}

// handOff adds (or grows) the node on the destination chain and the edge to
// it. When the trace walked that account on that chain (value reached it
// another way), the edge goes to the walked node, whose amounts stay what
// the walk found: the deposit has not arrived. It returns the node's address
// as the trace writes it.
func (f *Flow) handOff(from *Edge, t tracer.TracedTransfer, chain string, addr tracer.Address) tracer.Address {
	id := NodeID(chain, addr)
	n := f.byID[id]
	walked := false
	if w := f.byID[NodeID(f.Chain, tracer.Qualify(chain, addr))]; n == nil && w != nil && chain != f.Chain {
		n, id, walked = w, w.ID, true
	}
	if n == nil {
		n = &Node{Node: tracer.Node{Address: addr, Category: CategoryCrossChain, Depth: from.To.Depth + 1,
			FirstSeenBlock: t.BlockNumber, Stop: tracer.NodeTerminal, Received: map[tracer.Asset]*big.Int{}, Held: map[tracer.Asset]*big.Int{}},
			Chain: chain, ID: id}
		n.Labels = []tracer.Label{{Name: "expected " + cmp.Or(t.Annotations[tracer.AnnDestAsset], "payout") + " on " + chain,
			Category: CategoryCrossChain, Source: cmp.Or(t.Annotations[tracer.AnnBridge], "bridge") + " memo"}}
		f.byID[id] = n
		f.nodes = append(f.nodes, n)
		slices.SortFunc(f.nodes, func(a, b *Node) int { return strings.Compare(a.ID, b.ID) })
	}
	if !walked {
		if n.Received[t.Asset] == nil {
			n.Received[t.Asset] = new(big.Int)
		}
		n.Received[t.Asset].Add(n.Received[t.Asset], t.Tainted)
	}
	var e *Edge
	for _, x := range f.out[from.To.ID] {
		if x.To == n && x.Asset == t.Asset {
			e = x
		}
	}
	if e == nil {
		e = &Edge{From: from.To, To: n, Chain: from.To.Chain, Asset: t.Asset, Amount: new(big.Int), Tainted: new(big.Int)}
		f.edges = append(f.edges, e)
		slices.SortFunc(f.edges, compareEdges)
		f.out[from.To.ID] = append(f.out[from.To.ID], e)
		f.in[id] = append(f.in[id], e)
	}
	e.Amount.Add(e.Amount, t.Tainted)
	e.Tainted.Add(e.Tainted, t.Tainted)
	e.Transfers = append(e.Transfers, t)
	if f.bridged == nil {
		f.bridged = map[tracer.Asset]map[string]*big.Int{}
	}
	if f.bridged[t.Asset] == nil {
		f.bridged[t.Asset] = map[string]*big.Int{}
	}
	if f.bridged[t.Asset][chain] == nil {
		f.bridged[t.Asset][chain] = new(big.Int)
	}
	f.bridged[t.Asset][chain].Add(f.bridged[t.Asset][chain], t.Tainted)
	return n.Address
}

// mixers reports deposits into mixers as terminals, and the pool's later
// withdrawals (when the adapter listed them) as low-confidence leads.
func (f *Flow) mixers() []Pattern {
	var ps []Pattern
	for _, e := range f.edges {
		for _, t := range e.Transfers {
			mixer := t.Annotations[tracer.AnnMixer]
			if mixer == "" && e.To.Category != tracer.CategoryMixer {
				continue
			}
			p := Pattern{Kind: KindMixer, Confidence: 1, Addresses: []tracer.Address{e.From.Address, e.To.Address},
				Evidence: []Evidence{{t.TxHash, t.BlockNumber, new(big.Int).Set(t.Tainted)}},
				Detail:   map[string]string{"amount": f.amountText(e.Asset, t.Tainted), "mixer": cmp.Or(mixer, labelName(e.To))}}
			if c := t.Annotations[tracer.AnnCommitment]; c != "" {
				p.Detail["commitment"] = c
			}
			ps = append(ps, p)
			leads := strings.Fields(t.Annotations[tracer.AnnWithdrawals])
			for _, l := range leads {
				parts := strings.Split(l, "/")
				if len(parts) != 3 {
					continue
				}
				block, _ := strconv.ParseUint(parts[0], 10, 64)
				ps = append(ps, Pattern{Kind: KindMixerLead, Confidence: min(0.3, 1/float64(len(leads))),
					Addresses: []tracer.Address{e.To.Address, tracer.Address(parts[2])},
					Evidence:  []Evidence{{parts[1], block, nil}},
					Detail: map[string]string{"deposit_tx": t.TxHash, "candidates": strconv.Itoa(len(leads)),
						"note": "a withdrawal of the same pool after the deposit: a lead, not a link"}})
			}
		}
	}
	// One lead per (pool, recipient): the first deposit's.
	seen := map[string]bool{}
	return slices.DeleteFunc(ps, func(p Pattern) bool {
		if p.Kind != KindMixerLead {
			return false
		}
		k := string(p.Addresses[0]) + " " + string(p.Addresses[1])
		dup := seen[k]
		seen[k] = true
		return dup
	})
}

// exchangeDeposits reports payments into labelled exchanges: directly, or
// through a deposit address that forwarded (almost) all it received.
func (f *Flow) exchangeDeposits(o DetectOptions) []Pattern {
	var ps []Pattern
	for _, e := range f.edges {
		if e.To.Category != tracer.CategoryExchange || e.Tainted.Sign() == 0 {
			continue
		}
		p := Pattern{Kind: KindExchangeDeposit, Confidence: 1, Addresses: []tracer.Address{e.From.Address, e.To.Address},
			Evidence: evidenceOf(e), Detail: map[string]string{"exchange": labelName(e.To), "amount": f.amountText(e.Asset, e.Tainted), "via": "direct"}}
		if f.depositAddress(e.From, o) {
			p.Detail["via"] = "deposit address"
			p.Detail["deposit_address"] = string(e.From.Address)
			p.Confidence = 0.8
		}
		ps = append(ps, p)
	}
	return ps
}

// depositAddress reports whether n looks like an exchange deposit address:
// unlabelled, not a seed, all its tainted outflow to exchanges, and that
// outflow at least DepositForwardPermille of what it received.
func (f *Flow) depositAddress(n *Node, o DetectOptions) bool {
	if len(n.Labels) > 0 || n.Category == tracer.CategorySeed || n.IsContract {
		return false
	}
	out := f.taintedOut(n.ID)
	for _, e := range out {
		if e.To.Category != tracer.CategoryExchange {
			return false
		}
	}
	for a, got := range n.Received {
		var sent big.Int
		for _, e := range out {
			if e.Asset == a {
				sent.Add(&sent, e.Tainted)
			}
		}
		if new(big.Int).Mul(&sent, big.NewInt(1000)).Cmp(new(big.Int).Mul(got, big.NewInt(o.DepositForwardPermille))) < 0 {
			return false
		}
	}
	return len(out) > 0
}

// dormant reports expanded addresses still holding most of what they
// received; swap pools (what they hold was swapped) are left out.
func (f *Flow) dormant(o DetectOptions, pools map[tracer.Address]bool) []Pattern {
	var ps []Pattern
	for _, n := range f.nodes {
		if n.Stop != tracer.NodeFollowed || n.Category == CategoryCrossChain || pools[n.Address] {
			continue
		}
		held := map[tracer.Asset]*big.Int{}
		for a, h := range n.Held {
			got := n.Received[a]
			if h.Sign() > 0 && got != nil && new(big.Int).Mul(h, big.NewInt(100)).Cmp(new(big.Int).Mul(got, big.NewInt(o.DormantPercent))) >= 0 {
				held[a] = h
			}
		}
		if len(held) == 0 {
			continue
		}
		ev := evidenceOf(f.in[n.ID]...)
		ps = append(ps, Pattern{Kind: KindDormant, Confidence: 1, Addresses: []tracer.Address{n.Address}, Evidence: ev,
			Detail: map[string]string{"held": f.amountList(held), "window_end": strconv.FormatUint(f.WindowOf(n.Chain).To, 10)}})
	}
	return ps
}

// BridgedTo is the stolen value of an asset deposited into bridges whose
// destination chain was decoded, per destination chain.
func (f *Flow) BridgedTo(a tracer.Asset) map[string]*big.Int { return f.bridged[a] }
