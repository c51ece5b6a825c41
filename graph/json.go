package graph

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/flowtrace/flowtrace/tracer"
)

// JSONVersion is the version of the graph.json contract WriteJSON writes.
const JSONVersion = 1

// Meta is what the exporters say about the run beyond the flow itself.
type Meta struct {
	Case   string
	Params map[string]string
	// ZeroElapsed writes elapsed times as 0, for golden and replay comparisons.
	ZeroElapsed bool
	// Tokens recognises genuine tokens: the report's headline shows native
	// value and recognised tokens, and folds the other tokens (spam,
	// look-alikes, unknown contracts) below. Nil shows every asset alike.
	Tokens tracer.TokenRegistry
	// Node says in one line how the node was asked and why (Bitcoin: how
	// spends are found); the report states it. "" says nothing.
	Node string
	// Windows are the block windows read on the other chains of a trace
	// over several; Bridged its bridge summary (report.md).
	Windows map[string]tracer.BlockRange
	Bridged []Bridged
}

func (m Meta) elapsedMS(d time.Duration) int64 {
	if m.ZeroElapsed {
		return 0
	}
	return d.Milliseconds()
}

type jsonDoc struct {
	Version  int               `json:"version"`
	Case     string            `json:"case"`
	Params   map[string]string `json:"params"`
	Chain    string            `json:"chain"`
	Seeds    []tracer.Address  `json:"seeds"`
	Window   jsonWindow        `json:"window"`
	Nodes    []jsonNode        `json:"nodes"`
	Edges    []jsonEdge        `json:"edges"`
	Patterns []jsonPattern     `json:"patterns"`
	Summary  jsonSummary       `json:"summary"`
	// Taint is the taint model of summary; StolenBasis how the stolen value was derived.
	Taint        string            `json:"taint"`
	StolenBasis  string            `json:"stolen_basis"`
	Alternatives []jsonAlternative `json:"alternatives,omitempty"`
	Unexplained  []jsonUnexplained `json:"unexplained"`
	// Read is the number of transfers the walk read: each is an edge's
	// transfer, a credit to a seed, or under skipped.
	Read    int         `json:"transfers_read"`
	Skipped []jsonSkip  `json:"skipped"`
	Levels  []jsonLevel `json:"levels"`
	Stats   jsonStats   `json:"stats"`
}

type jsonWindow struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

type jsonLabel struct {
	Name     string `json:"name"`
	Category string `json:"category"`
	Source   string `json:"source"`
}

type jsonNode struct {
	Chain          string            `json:"chain"`
	Address        tracer.Address    `json:"address"`
	Category       tracer.Category   `json:"category"`
	Labels         []jsonLabel       `json:"labels"`
	Depth          int               `json:"depth"`
	FirstSeenBlock uint64            `json:"first_seen_block"`
	IsContract     bool              `json:"is_contract"`
	Stop           tracer.NodeStop   `json:"stop"`
	Received       map[string]string `json:"received"`
	Held           map[string]string `json:"held"`
}

type jsonEdge struct {
	From      tracer.Address `json:"from"`
	To        tracer.Address `json:"to"`
	Chain     string         `json:"chain"`
	Asset     tracer.Asset   `json:"asset"`
	Symbol    string         `json:"symbol"`
	Amount    string         `json:"amount"`
	Tainted   string         `json:"tainted"`
	Transfers []jsonTransfer `json:"transfers"`
}

type jsonTransfer struct {
	TxHash       string              `json:"tx_hash"`
	BlockNumber  uint64              `json:"block_number"`
	LogIndex     *int                `json:"log_index,omitempty"`
	TraceAddress *[]int              `json:"trace_address,omitempty"`
	Amount       string              `json:"amount"`
	Tainted      string              `json:"tainted"`
	Kind         tracer.TransferKind `json:"kind"`
}

type jsonPattern struct {
	Kind       string            `json:"kind"`
	Addresses  []tracer.Address  `json:"addresses"`
	Evidence   []jsonEvidence    `json:"evidence"`
	Confidence float64           `json:"confidence"`
	Detail     map[string]string `json:"detail"`
}

type jsonEvidence struct {
	TxHash string `json:"tx_hash"`
	Block  uint64 `json:"block"`
	Amount string `json:"amount"`
}

type jsonSummary struct {
	Assets []jsonAsset `json:"assets"`
}

type jsonAsset struct {
	// Chain is set for an asset of another chain than the trace's.
	Chain    string            `json:"chain,omitempty"`
	Asset    tracer.Asset      `json:"asset"`
	Symbol   string            `json:"symbol"`
	Decimals uint8             `json:"decimals"`
	Stolen   string            `json:"stolen"`
	Buckets  map[string]string `json:"buckets"`
	Shares   map[string]string `json:"shares"`
	// BridgedTo splits the bridge bucket by destination chain, where decoded.
	BridgedTo map[string]string `json:"bridged_to,omitempty"`
	// SwappedIn is what followed swaps bought of this asset with stolen
	// value; shares are of Stolen + SwappedIn.
	SwappedIn string `json:"swapped_in,omitempty"`
	// BridgedIn is what bridges paid out of this asset for deposits of
	// stolen value; shares are of Stolen + SwappedIn + BridgedIn.
	BridgedIn string `json:"bridged_in,omitempty"`
}

type jsonSkip struct {
	Address tracer.Address `json:"address"`
	TxHash  string         `json:"tx_hash"`
	Reason  string         `json:"reason"`
	ID      string         `json:"transfer,omitempty"`
	Asset   tracer.Asset   `json:"asset,omitempty"`
	Amount  string         `json:"amount,omitempty"`
}

// jsonAlternative is the accounting under another taint model (--taint all).
type jsonAlternative struct {
	Taint  string      `json:"taint"`
	Assets []jsonAsset `json:"assets"`
}

// jsonUnexplained is value a sender paid out beyond its known inflows.
type jsonUnexplained struct {
	Address tracer.Address `json:"address"`
	Asset   tracer.Asset   `json:"asset"`
	Amount  string         `json:"amount"`
	TxHash  string         `json:"first_tx_hash"`
	Block   uint64         `json:"first_block"`
}

type jsonLevel struct {
	Level        int        `json:"level"`
	Frontier     int        `json:"frontier"`
	Window       jsonWindow `json:"window"`
	Transfers    int        `json:"transfers"`
	NewAddresses int        `json:"new_addresses"`
	Usage        jsonUsage  `json:"usage"`
	ElapsedMS    int64      `json:"elapsed_ms"`
}

type jsonUsage struct {
	RPCRequests   int64 `json:"rpc_requests"`
	RPCBatches    int64 `json:"rpc_batches"`
	CacheHits     int64 `json:"cache_hits"`
	CacheMisses   int64 `json:"cache_misses"`
	BlocksScanned int64 `json:"blocks_scanned"`
	ProbeRequests int64 `json:"probe_requests"`
}

type jsonStats struct {
	jsonUsage
	ElapsedMS  int64    `json:"elapsed_ms"`
	StopReason string   `json:"stop_reason"`
	StopDetail string   `json:"stop_detail"`
	Methods    []string `json:"methods"`
}

// WriteJSON writes graph.json, the output contract (DESIGN.md): amounts are
// base-unit decimal strings, assets "native" or the token address, and
// every list is sorted so that equal flows give equal bytes. The nodes,
// edges and patterns are written one at a time, so the document is never
// whole in memory; the bytes are those of encoding/json's indented encoding
// of jsonDoc (those three lists encoded by indented).
func WriteJSON(w io.Writer, f *Flow, meta Meta) error {
	var head bytes.Buffer
	if err := newJSONEncoder(&head, "").Encode(jsonOf(f, meta)); err != nil {
		return fmt.Errorf("graph: write json: %w", err)
	}
	// The document without nodes, edges and patterns has them as "[]" at the top
	// level: the only place a line can start with exactly these bytes.
	doc := head.Bytes()
	nodesAt := bytes.Index(doc, []byte(jsonNodesMark))
	edgesAt := bytes.Index(doc, []byte(jsonEdgesMark))
	patternsAt := bytes.Index(doc, []byte(jsonPatternsMark))
	if nodesAt < 0 || edgesAt < nodesAt || patternsAt < edgesAt {
		return errors.New("graph: write json: nodes, edges and patterns not where expected")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	in := newIndented(1)
	// array writes the member mark stands for, element by element.
	array := func(mark string, n int, elem func(i int)) error {
		in.b = append(in.b[:0], mark[:len(mark)-len("[],\n")]...)
		in.open('[')
		for i := range n {
			elem(i)
			if in.err != nil {
				return in.err
			}
			if _, err := bw.Write(in.b); err != nil {
				return err
			}
			in.b = in.b[:0]
		}
		in.close(']')
		in.b = append(in.b, ",\n"...)
		_, err := bw.Write(in.b)
		return err
	}
	bw.Write(doc[:nodesAt])
	err := array(jsonNodesMark, len(f.nodes), func(i int) { in.node(f.nodeOf(f.nodes[i])) })
	if err == nil {
		bw.Write(doc[nodesAt+len(jsonNodesMark) : edgesAt])
		err = array(jsonEdgesMark, len(f.edges), func(i int) { in.edge(edgeOf(f, f.edges[i])) })
	}
	if err == nil {
		bw.Write(doc[edgesAt+len(jsonEdgesMark) : patternsAt])
		err = array(jsonPatternsMark, len(f.Patterns), func(i int) { in.pattern(f.patternOf(f.Patterns[i])) })
	}
	if err == nil {
		bw.Write(doc[patternsAt+len(jsonPatternsMark):])
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("graph: write json: %w", err)
	}
	return nil
}

// Where WriteJSON puts the nodes, edges and patterns.
const (
	jsonNodesMark    = "  \"nodes\": [],\n"
	jsonEdgesMark    = "  \"edges\": [],\n"
	jsonPatternsMark = "  \"patterns\": [],\n"
)

// newJSONEncoder is the encoding of graph.json: two-space indent after
// prefix, no HTML escaping.
func newJSONEncoder(w io.Writer, prefix string) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	return enc
}

// jsonOf is the document with empty nodes, edges and patterns (see WriteJSON).
func jsonOf(f *Flow, meta Meta) jsonDoc {
	d := jsonDoc{
		Version:  JSONVersion,
		Case:     meta.Case,
		Params:   orEmpty(meta.Params),
		Chain:    f.Chain,
		Seeds:    nonNil(f.Seeds),
		Window:   jsonWindow{f.Window.From, f.Window.To},
		Nodes:    []jsonNode{},
		Edges:    []jsonEdge{},
		Patterns: []jsonPattern{},
		Summary:  jsonSummary{Assets: make([]jsonAsset, 0, len(f.Summary))},
		Taint:    f.Taint, StolenBasis: f.StolenBasis, Read: f.Read,
		Unexplained: make([]jsonUnexplained, 0, len(f.Unexplained)),
		Skipped:     make([]jsonSkip, 0, len(f.Skipped)),
		Levels:      make([]jsonLevel, 0, len(f.Levels)),
		Stats: jsonStats{
			jsonUsage:  usageOf(f.Stats.Usage),
			ElapsedMS:  meta.elapsedMS(f.Stats.Elapsed),
			StopReason: string(f.Stats.StopReason),
			StopDetail: f.Stats.StopDetail,
			Methods:    nonNil(f.Stats.Methods),
		},
	}
	for _, m := range f.Alternatives {
		alt := jsonAlternative{Taint: m.Taint, Assets: []jsonAsset{}}
		for _, a := range sortedSummary(m.Summary.Assets) {
			a.Symbol = cmp.Or(a.Symbol, f.Symbol(a.Asset))
			alt.Assets = append(alt.Assets, f.assetOf(a))
		}
		d.Alternatives = append(d.Alternatives, alt)
	}
	for _, u := range f.Unexplained {
		d.Unexplained = append(d.Unexplained, jsonUnexplained{u.Address, u.Asset, amountString(u.Amount), u.TxHash, u.Block})
	}
	for _, a := range f.Summary {
		ja := f.assetOf(a)
		for chain, v := range f.BridgedTo(a.Asset) {
			if ja.BridgedTo == nil {
				ja.BridgedTo = map[string]string{}
			}
			ja.BridgedTo[chain] = amountString(v)
		}
		d.Summary.Assets = append(d.Summary.Assets, ja)
	}
	for _, s := range f.Skipped {
		js := jsonSkip{Address: s.Address, TxHash: s.TxHash, Reason: s.Reason, ID: s.ID, Asset: s.Asset}
		if s.Amount != nil {
			js.Amount = s.Amount.String()
		}
		d.Skipped = append(d.Skipped, js)
	}
	for _, l := range f.Levels {
		d.Levels = append(d.Levels, jsonLevel{
			Level: l.Level, Frontier: l.Frontier, Window: jsonWindow{l.Window.From, l.Window.To},
			Transfers: l.Transfers, NewAddresses: l.NewAddresses, Usage: usageOf(l.Usage), ElapsedMS: meta.elapsedMS(l.Elapsed),
		})
	}
	return d
}

// assetOf is one asset's accounting; an asset of another chain names it.
func (f *Flow) assetOf(a tracer.AssetSummary) jsonAsset {
	ja := jsonAsset{Asset: a.Asset, Symbol: a.Symbol, Decimals: a.Decimal, Stolen: amountString(a.Stolen),
		Buckets: map[string]string{}, Shares: map[string]string{}}
	for b, v := range a.Buckets {
		ja.Buckets[b] = amountString(v)
	}
	ja.Shares = BucketShares(a.Buckets, accountedBase(a))
	if a.BridgedIn != nil && a.BridgedIn.Sign() > 0 {
		ja.BridgedIn = a.BridgedIn.String()
	}
	if a.SwappedIn != nil && a.SwappedIn.Sign() > 0 {
		ja.SwappedIn = a.SwappedIn.String()
	}
	if c, local := f.localAsset(a.Asset); c != f.Chain {
		ja.Chain, ja.Asset = c, local
	}
	return ja
}

func (f *Flow) patternOf(p Pattern) jsonPattern {
	jp := jsonPattern{Kind: p.Kind, Addresses: f.localAddresses(p.Addresses), Evidence: make([]jsonEvidence, 0, len(p.Evidence)),
		Confidence: p.Confidence, Detail: orEmpty(p.Detail)}
	for _, ev := range p.Evidence {
		jp.Evidence = append(jp.Evidence, jsonEvidence{ev.TxHash, ev.Block, amountString(ev.Amount)})
	}
	return jp
}

func (f *Flow) nodeOf(n *Node) jsonNode {
	jn := jsonNode{
		Chain: n.Chain, Address: n.Local(), Category: n.Category, Labels: make([]jsonLabel, 0, len(n.Labels)),
		Depth: n.Depth, FirstSeenBlock: n.FirstSeenBlock, IsContract: n.IsContract, Stop: n.Stop,
		Received: f.amountsOf(n.Chain, n.Received), Held: f.amountsOf(n.Chain, n.Held),
	}
	for _, l := range n.Labels {
		jn.Labels = append(jn.Labels, jsonLabel{l.Name, string(l.Category), l.Source})
	}
	return jn
}

func edgeOf(f *Flow, e *Edge) jsonEdge {
	_, asset := f.localAsset(e.Asset)
	je := jsonEdge{
		From: e.From.Local(), To: e.To.Local(), Chain: e.Chain, Asset: asset, Symbol: f.Symbol(e.Asset),
		Amount: e.Amount.String(), Tainted: e.Tainted.String(), Transfers: make([]jsonTransfer, 0, len(e.Transfers)),
	}
	for _, t := range e.Transfers {
		je.Transfers = append(je.Transfers, transferOf(t))
	}
	return je
}

func transferOf(t tracer.TracedTransfer) jsonTransfer {
	jt := jsonTransfer{TxHash: t.TxHash, BlockNumber: t.BlockNumber, Amount: t.Amount.String(),
		Tainted: t.Tainted.String(), Kind: t.Kind}
	if t.LogIndex >= 0 {
		li := t.LogIndex
		jt.LogIndex = &li
	} else {
		ta := append([]int{}, t.TraceAddress...)
		jt.TraceAddress = &ta
	}
	return jt
}

func usageOf(u tracer.Usage) jsonUsage {
	return jsonUsage{u.Requests, u.RoundTrips, u.CacheHits, u.CacheMisses, u.BlocksScanned, u.ProbeRequests}
}

// amountsOf renders per-asset amounts (encoding/json sorts the keys); an
// asset of another chain keeps its chain ("bitcoin:native") unless the
// node is on it: a node's amounts are in its chain's assets.
func (f *Flow) amountsOf(chain string, m map[tracer.Asset]*big.Int) map[string]string {
	out := make(map[string]string, len(m))
	for a, v := range m {
		if c, local := f.localAsset(a); c == chain {
			a = local
		}
		out[string(a)] = amountString(v)
	}
	return out
}

func amountString(v *big.Int) string {
	if v == nil {
		return "0"
	}
	return v.String()
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNil[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}

// accountedBase is what an asset's buckets add up to: the stolen amount and
// what followed swaps bought of it.
func accountedBase(a tracer.AssetSummary) *big.Int {
	if a.SwappedIn == nil && a.BridgedIn == nil {
		return a.Stolen
	}
	return a.Accounted()
}
