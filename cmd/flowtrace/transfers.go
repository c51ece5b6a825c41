package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

// transfersOptions are the flags of `flowtrace transfers`.
type transfersOptions struct {
	node       traceOptions // the node, record and replay flags, as trace takes them
	addresses  []string
	direction  string
	format     string
	out        string
	labelFiles []string
	noBundled  bool
}

var transfersGroups = []string{"What to extract", "Node", "Record and replay", "Output"}

func newTransfersCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &transfersOptions{}
	cmd := &cobra.Command{
		Use:   "transfers --address ADDR[,ADDR] --from-block N --to-block M [flags]",
		Short: "List every transfer sent or received by addresses in a block window",
		Long: "transfers lists every native, internal and token transfer sent or received by the addresses in\n" +
			"the window, one row each, decoded and judged as the trace does. Columns: chain, block_number,\n" +
			"tx_hash, log_index (token events), trace_address (native and internal), kind, from, to, asset\n" +
			"(native or the token contract), symbol, amount (base units), trust (genuine, spoofed,\n" +
			"impersonating, zero_value, nft, failed).",
		Example: "  flowtrace transfers --address 0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2 --from-block 21895000 --to-block 21896000 --out ledger.csv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTransfers(cmd.Context(), o, stdout, stderr)
		},
	}
	f := cmd.Flags()
	n := &o.node
	f.StringSliceVar(&o.addresses, "address", nil, "addresses whose transfers are listed (comma-separated or repeated)")
	f.StringVar(&n.chain, "chain", "ethereum", "chain: "+chainNames())
	f.StringVar(&n.fromBlock, "from-block", "", "first block of the window (required)")
	f.StringVar(&n.toBlock, "to-block", "latest", "last block of the window: a number or latest")
	f.StringVar(&o.direction, "direction", "both", "out (sent), in (received) or both")
	f.StringArrayVar(&o.labelFiles, "labels", nil, "label or token file (CSV, see README); repeatable")
	f.BoolVar(&o.noBundled, "no-bundled-labels", false, "do not load the bundled registry of known entities and tokens")
	group(cmd, "What to extract", "address", "chain", "from-block", "to-block", "direction", "labels", "no-bundled-labels")

	f.Uint64Var(&n.maxBlocks, "max-blocks", 100000, "refuse to scan more blocks than this for native transfers")
	n.registerNode(cmd)
	group(cmd, "Node", "max-blocks")

	f.StringVar(&o.format, "format", "csv", "csv or jsonl (JSON Lines)")
	f.StringVarP(&o.out, "out", "o", "", "write to FILE (atomically) instead of stdout")
	f.BoolVarP(&n.quiet, "quiet", "q", false, "no progress on stderr")
	group(cmd, "Output", "format", "out", "quiet")
	cmd.SetUsageFunc(groupedUsage(transfersGroups))
	return cmd
}

// transfersRequest is the validated input of an extraction.
type transfersRequest struct {
	window    traceRequest // chain, addresses (as seeds) and block window
	dirs      []tracer.Direction
	jsonLines bool
}

func (o *transfersOptions) validate() (*transfersRequest, error) {
	n := &o.node
	r := &transfersRequest{}
	var ok bool
	if r.window.chain, ok = lookupChain(n.chain); !ok {
		return nil, usageErr("unknown --chain %q: want one of %s", n.chain, chainNames())
	}
	if len(o.addresses) == 0 {
		return nil, usageErr("no addresses: give --address ADDR (comma-separated for several)")
	}
	for _, s := range o.addresses {
		a, err := parseAddress(s)
		if err != nil {
			return nil, usageErr("--address: %v", err)
		}
		r.window.seeds = append(r.window.seeds, a)
	}
	if err := n.parseWindow(&r.window, "give the first block of the window"); err != nil {
		return nil, err
	}
	switch o.direction {
	case "out":
		r.dirs = []tracer.Direction{tracer.Outgoing}
	case "in":
		r.dirs = []tracer.Direction{tracer.Incoming}
	case "both", "":
		r.dirs = []tracer.Direction{tracer.Outgoing, tracer.Incoming}
	default:
		return nil, usageErr("--direction %q: want out, in or both", o.direction)
	}
	switch o.format {
	case "csv":
	case "jsonl":
		r.jsonLines = true
	default:
		return nil, usageErr("--format %q: want csv or jsonl", o.format)
	}
	if err := n.parseNode(&r.window); err != nil {
		return nil, err
	}
	return r, n.checkNode()
}

func runTransfers(ctx context.Context, o *transfersOptions, stdout, stderr io.Writer) error {
	req, err := o.validate()
	if err != nil {
		return err
	}
	n := &o.node
	reg, err := loadRegistry(o.noBundled, o.labelFiles)
	if err != nil {
		return err
	}
	src, saveRecording, err := n.dial(ctx, &req.window, reg)
	if err != nil {
		return err
	}
	defer src.Close()
	_, window, err := n.probe(ctx, src, &req.window)
	if err != nil {
		return err
	}
	var all []tracer.Transfer
	for _, d := range req.dirs {
		ts, err := src.Transfers(ctx, tracer.TransferQuery{Direction: d, Addresses: req.window.seeds, Window: window})
		if err != nil {
			return withCode(exitError, err)
		}
		all = append(all, ts...)
	}
	all = uniqueTransfers(all)
	var senders, tokens []tracer.Address
	for _, t := range all {
		if t.Asset != tracer.NativeAsset {
			senders, tokens = append(senders, t.From), append(tokens, tracer.Address(t.Asset))
		}
	}
	desc, err := src.Describe(ctx, dedupeAddrs(senders), dedupeAddrs(tokens))
	if err != nil {
		return withCode(exitError, err)
	}
	if err := saveRecording(); err != nil {
		return withCode(exitError, err)
	}
	rows := make([]transferRow, len(all))
	for i, t := range all {
		rows[i] = newTransferRow(t, desc, reg)
	}
	var buf bytes.Buffer
	if req.jsonLines {
		err = writeTransfersJSONL(&buf, rows)
	} else {
		err = writeTransfersCSV(&buf, rows)
	}
	if err != nil {
		return withCode(exitError, err)
	}
	if o.out == "" {
		_, err = stdout.Write(buf.Bytes())
	} else {
		err = writeFileAtomic(o.out, buf.Bytes())
	}
	if err != nil {
		return withCode(exitError, err)
	}
	n.logger(stderr)("flowtrace: %d transfers of %d addresses in [%d,%d]; %d requests", len(rows), len(req.window.seeds), window.From, window.To, src.Usage().Requests)
	return nil
}

// uniqueTransfers sorts ts in chain order and drops the second copy of a
// transfer between two of the addresses (read as sent and as received).
func uniqueTransfers(ts []tracer.Transfer) []tracer.Transfer {
	slices.SortStableFunc(ts, tracer.CompareTransfers)
	return slices.CompactFunc(ts, func(a, b tracer.Transfer) bool { return a.ID() == b.ID() })
}

func dedupeAddrs(as []tracer.Address) []tracer.Address {
	slices.Sort(as)
	return slices.Compact(as)
}

// trustOf judges a transfer as the walk does (tracer.Classify), with what
// Describe told about its token and its claimed sender.
func trustOf(t tracer.Transfer, d tracer.Descriptions, reg tracer.TokenRegistry) tracer.Trust {
	return tracer.Classify(t, t.Chain, reg,
		func(a tracer.Address) (tracer.Token, bool) { tok, ok := d.Tokens[a]; return tok, ok },
		func(a tracer.Address) bool { return d.Accounts[a].IsContract })
}

// transferRow is one line of the output.
type transferRow struct {
	Chain        string `json:"chain"`
	BlockNumber  uint64 `json:"block_number"`
	TxHash       string `json:"tx_hash"`
	LogIndex     *int   `json:"log_index"`     // token events
	TraceAddress []int  `json:"trace_address"` // native and internal transfers
	Kind         string `json:"kind"`
	From         string `json:"from"`
	To           string `json:"to"`
	Asset        string `json:"asset"`
	Symbol       string `json:"symbol"`
	Amount       string `json:"amount"`
	Trust        string `json:"trust"`
}

func newTransferRow(t tracer.Transfer, d tracer.Descriptions, reg tracer.TokenRegistry) transferRow {
	r := transferRow{
		Chain: t.Chain, BlockNumber: t.BlockNumber, TxHash: t.TxHash, Kind: string(t.Kind),
		From: string(t.From), To: string(t.To), Asset: string(t.Asset), Amount: "0",
		Trust: string(trustOf(t, d, reg)),
	}
	if t.Amount != nil {
		r.Amount = t.Amount.String()
	}
	if t.LogIndex >= 0 {
		r.LogIndex = &t.LogIndex
	} else {
		r.TraceAddress = t.TraceAddress
		if r.TraceAddress == nil {
			r.TraceAddress = []int{}
		}
	}
	if t.Asset == tracer.NativeAsset {
		r.Symbol = "ETH"
	} else {
		r.Symbol = d.Tokens[tracer.Address(t.Asset)].Symbol
	}
	return r
}

var transferColumns = []string{"chain", "block_number", "tx_hash", "log_index", "trace_address", "kind", "from", "to", "asset", "symbol", "amount", "trust"}

func writeTransfersCSV(w io.Writer, rows []transferRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(transferColumns); err != nil {
		return err
	}
	for _, r := range rows {
		logIndex, path := "", ""
		if r.LogIndex != nil {
			logIndex = strconv.Itoa(*r.LogIndex)
		} else {
			var parts []string
			for _, p := range r.TraceAddress {
				parts = append(parts, strconv.Itoa(p))
			}
			path = strings.Join(parts, ".")
		}
		if err := cw.Write([]string{r.Chain, strconv.FormatUint(r.BlockNumber, 10), r.TxHash, logIndex, path,
			r.Kind, r.From, r.To, r.Asset, graph.SafeCell(r.Symbol), r.Amount, r.Trust}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeTransfersJSONL(w io.Writer, rows []transferRow) error {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}
