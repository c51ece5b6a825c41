package graph

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/flowtrace/flowtrace/tracer"
)

// reportRows caps the rows of each report table; topEndpoints the endpoints listed per asset.
const (
	reportRows   = 50
	topEndpoints = 10
)

// bucketOrder is the order of the value accounting rows; unknown buckets follow by name.
var bucketOrder = []string{
	tracer.BucketExchange, tracer.BucketBridge, tracer.BucketMixer, tracer.BucketSwapped, tracer.BucketFees, tracer.BucketDormant,
	tracer.BucketBelowThreshold, tracer.BucketDepth, tracer.BucketBudget, tracer.BucketNotFollowed, tracer.BucketWalk, tracer.BucketOther,
}

// WriteReport writes report.md: the seeds and window, the stolen totals and
// where they went, the top endpoints, what was not followed and why, and
// what the run cost.
func WriteReport(w io.Writer, f *Flow, meta Meta) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }

	p("# Flow report: %s\n\n", mdText(cmp.Or(meta.Case, "unnamed case")))
	p("- Chain: %s\n", mdText(f.Chain))
	p("- Seeds: %s\n", mdText(joinAddresses(f.Seeds)))
	p("- Window: blocks %d to %d (%d blocks)\n", f.Window.From, f.Window.To, f.Window.Len())
	if meta.Node != "" {
		p("- Node: %s\n", mdText(meta.Node))
	}
	p("- Flow: %d addresses, %d edges, %d transfers\n", len(f.nodes), len(f.edges), len(f.transfers))
	p("- Stop reason: %s\n", mdText(stopText(f.Stats)))
	for _, k := range slices.Sorted(maps.Keys(meta.Params)) {
		p("- %s: %s\n", mdText(k), mdText(meta.Params[k]))
	}

	head, others := f.headlineAssets(meta)
	p("\n## Stolen value\n\n")
	t := &mdTable{}
	t.row("asset", "symbol", "stolen", "base units")
	for _, a := range head {
		t.row(string(a.Asset), a.Symbol, FormatAmount(a.Stolen, a.Decimal), amountString(a.Stolen))
	}
	if len(others) > 0 {
		t.row(fmt.Sprintf("%d other tokens", len(others)), "not recognised", "see below", "")
	}
	t.write(b, "No stolen value was recorded.")
	f.writeDerivation(b)

	p("\n## Value accounting\n")
	for _, a := range head {
		p("\n### %s (%s)\n\n", mdText(a.Symbol), mdText(string(a.Asset)))
		if a.SwappedIn != nil && a.SwappedIn.Sign() > 0 {
			p("Stolen %s %s, and %s %s bought with stolen value (followed swaps); shares are of the sum.\n\n",
				FormatAmount(a.Stolen, a.Decimal), mdText(a.Symbol), FormatAmount(a.SwappedIn, a.Decimal), mdText(a.Symbol))
		}
		t := &mdTable{}
		t.row("bucket", "amount", "share")
		shares := BucketShares(a.Buckets, accountedBase(a))
		for _, bucket := range bucketsOf(a.Buckets) {
			t.row(bucket, FormatAmount(a.Buckets[bucket], a.Decimal)+" "+a.Symbol, shares[bucket])
			if bucket == tracer.BucketBridge {
				bridged := f.BridgedTo(a.Asset)
				for _, chain := range slices.Sorted(maps.Keys(bridged)) {
					t.row("  bridge to "+chain, FormatAmount(bridged[chain], a.Decimal)+" "+a.Symbol, Share(bridged[chain], accountedBase(a)))
				}
			}
		}
		t.write(b, "No accounting.")
	}
	if len(others) > 0 {
		p("\n### Other tokens (not recognised)\n\nTokens that are not native value and not in the token registry or a label file: " +
			"spam airdrops, look-alikes and unknown contracts. Their amounts are listed here only; graph.json holds their accounting.\n\n")
		t := &mdTable{}
		t.row("asset", "symbol", "amount")
		for _, a := range others {
			t.row(string(a.Asset), a.Symbol, FormatAmount(a.Stolen, a.Decimal))
		}
		t.write(b, "")
	}
	f.writeChains(b, meta)
	f.writeModels(b, head)
	if len(f.Patterns) > 0 {
		f.writePatterns(b)
	}

	p("\n## Top endpoints\n\n### Terminals (value received)\n\n")
	f.endpointTable(meta, func(n *Node) map[tracer.Asset]*big.Int {
		if n.Stop != tracer.NodeTerminal {
			return nil
		}
		return n.Received
	}, "received").write(b, "No terminal was reached.")
	p("\n### Largest holders (value still held)\n\n")
	f.endpointTable(meta, func(n *Node) map[tracer.Asset]*big.Int { return n.Held }, "held").write(b, "No address holds traced value.")

	p("\n## Not followed\n\n")
	t = &mdTable{}
	t.row("address", "category", "depth", "reason")
	for _, n := range f.nodes {
		if n.Stop != tracer.NodeFollowed && n.Stop != tracer.NodeTerminal {
			t.row(string(n.Address), string(n.Category), strconv.Itoa(n.Depth), string(n.Stop))
		}
	}
	t.write(b, "Every address reached was followed or is a terminal.")
	p("\n### Skipped transfers and addresses\n\n")
	if len(f.Skipped) > 0 {
		p("By reason; graph.json (`skipped`) lists each one.\n\n")
	}
	f.skippedTable().write(b, "Nothing was skipped.")
	f.writeUnexplained(b)

	p("\n## Stats\n\n")
	t = &mdTable{}
	t.row("rpc requests", "round trips", "cache hits", "cache misses", "blocks scanned", "elapsed ms")
	t.row(usageCells(f.Stats.Usage, meta.elapsedMS(f.Stats.Elapsed))...)
	t.write(b, "")
	p("\n- Methods: %s\n- Stop reason: %s\n", mdText(cmp.Or(strings.Join(f.Stats.Methods, ", "), "none reported")),
		mdText(stopText(f.Stats)))
	if len(f.Levels) > 0 {
		p("\n### Levels\n\n")
		t = &mdTable{}
		t.row("level", "frontier", "window", "transfers", "new addresses", "rpc requests", "round trips", "cache hits",
			"cache misses", "blocks scanned", "elapsed ms")
		for _, l := range f.Levels {
			t.row(append([]string{strconv.Itoa(l.Level), strconv.Itoa(l.Frontier),
				fmt.Sprintf("%d-%d", l.Window.From, l.Window.To), strconv.Itoa(l.Transfers), strconv.Itoa(l.NewAddresses)},
				usageCells(l.Usage, meta.elapsedMS(l.Elapsed))...)...)
		}
		t.write(b, "")
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("graph: write report: %w", err)
	}
	return nil
}

// endpointTable lists the addresses with the largest amounts of pick, one
// row per address: ranked by the largest share of an asset's stolen value
// they hold, headline assets before the others, amounts in asset order
// (other tokens counted, not listed).
func (f *Flow) endpointTable(meta Meta, pick func(*Node) map[tracer.Asset]*big.Int, what string) *mdTable {
	headline := f.headlineSet(meta)
	type row struct {
		n         *Node
		head      bool     // holds a headline asset
		share     *big.Rat // largest share of an asset's stolen value
		amounts   []string
		otherToks int
	}
	var rows []row
	for _, n := range f.nodes {
		m := pick(n)
		r := row{n: n, share: new(big.Rat)}
		for _, a := range slices.SortedFunc(maps.Keys(m), compareAssets) {
			v := m[a]
			if v == nil || v.Sign() <= 0 {
				continue
			}
			if !headline[a] {
				r.otherToks++
				continue
			}
			r.head = true
			r.amounts = append(r.amounts, f.amountText(a, v))
			if base := f.stolenBase(a); base.Sign() > 0 {
				if sh := new(big.Rat).SetFrac(v, base); sh.Cmp(r.share) > 0 {
					r.share = sh
				}
			}
		}
		if r.head || r.otherToks > 0 {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(x, y row) int {
		if x.head != y.head {
			if x.head {
				return -1
			}
			return 1
		}
		return cmp.Or(y.share.Cmp(x.share), strings.Compare(x.n.ID, y.n.ID))
	})
	t := &mdTable{}
	t.row("address", "category", "label", "depth", what)
	for i, r := range rows {
		if i == topEndpoints {
			t.row(fmt.Sprintf("… and %d more addresses", len(rows)-i), "", "", "", "")
			break
		}
		amounts := r.amounts
		if r.otherToks > 0 {
			amounts = append(amounts, fmt.Sprintf("%d other tokens", r.otherToks))
		}
		label, _ := r.n.PrimaryLabel()
		t.row(string(r.n.Address), string(r.n.Category), label.Name, strconv.Itoa(r.n.Depth), strings.Join(amounts, ", "))
	}
	return t
}

// stolenBase is what an asset's shares are of: stolen plus bought with stolen value.
func (f *Flow) stolenBase(a tracer.Asset) *big.Int {
	for _, s := range f.Summary {
		if s.Asset == a {
			return accountedBase(s)
		}
	}
	return new(big.Int)
}

// headlineAssets splits the summary into the assets the report leads with
// (native value and recognised tokens; every asset when meta has no token
// registry) and the other tokens.
func (f *Flow) headlineAssets(meta Meta) (head, others []tracer.AssetSummary) {
	set := f.headlineSet(meta)
	for _, a := range f.Summary {
		if set[a.Asset] {
			head = append(head, a)
		} else {
			others = append(others, a)
		}
	}
	return head, others
}

// headlineSet is the set of headline assets among those of the flow.
func (f *Flow) headlineSet(meta Meta) map[tracer.Asset]bool {
	set := map[tracer.Asset]bool{}
	add := func(a tracer.Asset) {
		set[a] = a == tracer.NativeAsset || meta.Tokens == nil || meta.Tokens.Recognised(f.Chain, tracer.Address(a))
	}
	for _, s := range f.Summary {
		add(s.Asset)
	}
	for _, n := range f.nodes {
		for a := range n.Held {
			if _, ok := set[a]; !ok {
				add(a)
			}
		}
		for a := range n.Received {
			if _, ok := set[a]; !ok {
				add(a)
			}
		}
	}
	return set
}

// skippedTable counts the skipped transfers and addresses by reason, with
// the first example of each.
func (f *Flow) skippedTable() *mdTable {
	type group struct {
		reason       string
		n            int
		addrs        map[tracer.Address]bool
		exAddr, exTx string
	}
	var groups []*group
	byReason := map[string]*group{}
	for _, s := range f.Skipped {
		g := byReason[s.Reason]
		if g == nil {
			g = &group{reason: s.Reason, addrs: map[tracer.Address]bool{}, exAddr: string(s.Address), exTx: s.TxHash}
			byReason[s.Reason] = g
			groups = append(groups, g)
		}
		g.n++
		g.addrs[s.Address] = true
	}
	slices.SortFunc(groups, func(a, b *group) int { return cmp.Or(b.n-a.n, strings.Compare(a.reason, b.reason)) })
	t := &mdTable{}
	t.row("reason", "skipped", "addresses", "example (address, tx)")
	for _, g := range groups {
		ex := g.exAddr
		if g.exTx != "" {
			ex += ", " + g.exTx
		}
		t.row(g.reason, strconv.Itoa(g.n), strconv.Itoa(len(g.addrs)), ex)
	}
	return t
}

func bucketsOf(m map[string]*big.Int) []string {
	out := slices.Clone(bucketOrder)
	out = slices.DeleteFunc(out, func(b string) bool { _, ok := m[b]; return !ok })
	for _, b := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(bucketOrder, b) {
			out = append(out, b)
		}
	}
	return out
}

func usageCells(u tracer.Usage, elapsedMS int64) []string {
	return []string{strconv.FormatInt(u.Requests, 10), strconv.FormatInt(u.RoundTrips, 10),
		strconv.FormatInt(u.CacheHits, 10), strconv.FormatInt(u.CacheMisses, 10),
		strconv.FormatInt(u.BlocksScanned, 10), strconv.FormatInt(elapsedMS, 10)}
}

func stopText(s tracer.Stats) string {
	r := cmp.Or(string(s.StopReason), "unknown")
	if s.StopDetail != "" {
		r += " (" + s.StopDetail + ")"
	}
	return r
}

func joinAddresses(as []tracer.Address) string {
	if len(as) == 0 {
		return "none"
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = string(a)
	}
	return strings.Join(parts, ", ")
}

// mdTable is a Markdown table whose first row is the header; it keeps at
// most reportRows body rows and says how many it left out.
type mdTable struct{ rows [][]string }

func (t *mdTable) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *mdTable) write(w io.Writer, empty string) {
	if len(t.rows) <= 1 {
		fmt.Fprintln(w, mdText(empty))
		return
	}
	for i, r := range t.rows {
		if i > reportRows+1 {
			fmt.Fprintf(w, "\n… and %d more rows.\n", len(t.rows)-i)
			return
		}
		cells := make([]string, len(r))
		for j, c := range r {
			cells[j] = mdText(c)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		if i == 0 {
			fmt.Fprintf(w, "|%s\n", strings.Repeat(" --- |", len(r)))
		}
	}
}

// mdEscaper neutralises Markdown and inline HTML in text taken from the
// trace (labels, symbols, reasons); line breaks become spaces so that a
// value stays in its table cell.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;",
	"#", `\#`, "\r\n", " ", "\n", " ", "\r", " ",
)

func mdText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return mdEscaper.Replace(s)
}

// patternTitles name the pattern kinds in the report, in report order.
var patternTitles = []struct{ kind, title string }{
	{KindFanOut, "Fan-out / split"}, {KindPeelChain, "Peel chains"}, {KindFanIn, "Fan-in / consolidation"},
	{KindSwap, "Swaps"}, {KindBridge, "Bridges"}, {KindMixer, "Mixers"},
	{KindMixerLead, "Mixer withdrawal leads (low confidence)"}, {KindExchangeDeposit, "Exchange deposits"},
	{KindDormant, "Dormant"},
}

// writePatterns lists each pattern with its addresses, detail and evidence.
func (f *Flow) writePatterns(w io.Writer) {
	fmt.Fprintf(w, "\n## Patterns\n")
	for _, pt := range patternTitles {
		t := &mdTable{}
		t.row("addresses", "confidence", "detail", "evidence (block tx amount)")
		for _, p := range f.Patterns {
			if p.Kind != pt.kind {
				continue
			}
			if len(t.rows) > reportRows+1 {
				t.row() // past what write shows: counted, not rendered
				continue
			}
			var addrs, detail, ev []string
			for _, a := range p.Addresses {
				addrs = append(addrs, string(a))
			}
			for _, k := range slices.Sorted(maps.Keys(p.Detail)) {
				detail = append(detail, k+": "+p.Detail[k])
			}
			for i, e := range p.Evidence {
				if i == 5 {
					ev = append(ev, fmt.Sprintf("… %d more", len(p.Evidence)-i))
					break
				}
				amount := ""
				if e.Amount != nil {
					amount = " " + amountString(e.Amount)
				}
				ev = append(ev, fmt.Sprintf("%d %s%s", e.Block, e.TxHash, amount))
			}
			sep := ", " // a set: the source or sink is named in the detail
			if p.Kind == KindPeelChain || p.Kind == KindBridge || p.Kind == KindExchangeDeposit || p.Kind == KindMixer || p.Kind == KindSwap {
				sep = " → " // a path
			}
			t.row(strings.Join(addrs, sep), strconv.FormatFloat(p.Confidence, 'f', 2, 64), strings.Join(detail, "; "), strings.Join(ev, "; "))
		}
		if len(t.rows) > 1 {
			fmt.Fprintf(w, "\n### %s\n\n", pt.title)
			t.write(w, "")
		}
	}
}
