package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/flowtrace/flowtrace/tracer"
)

// incident is a case as one reproducible file (`trace --incident FILE`):
//
//	name: bybit-2025-02
//	chain: ethereum
//	seeds: [0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2]
//	theft_txs: [0x46de...]
//	window: {from_block: 21895000, to_block: 21900000}
//	labels: [labels.csv]        # relative to the file
//	depth: 10                   # optional
//	min_value: "0.1%"           # optional
//
// The fields that define the case (chain, seeds, theft_txs,
// window.from_block) may be repeated on the command line only with the same
// value; the others (name, window.to_block, depth, min_value) are overridden
// by their flags, and --labels files load after the file's.
type incident struct {
	Name      string
	Chain     string
	Seeds     []string
	TheftTxs  []string
	FromBlock string // "" when absent
	ToBlock   string
	Labels    []string // resolved against the file's folder
	Depth     string
	MinValue  string

	lines map[string]int // field path -> line, for messages
}

// incidentField is one key of the file: where it goes, and how it is checked.
type incidentField struct {
	key string
	set func(in *incident, n *yaml.Node) error
}

var incidentFields = []incidentField{
	{"name", func(in *incident, n *yaml.Node) error { return scalar(n, &in.Name, "a name") }},
	{"chain", func(in *incident, n *yaml.Node) error {
		if err := scalar(n, &in.Chain, "a chain name"); err != nil {
			return err
		}
		if _, ok := chainName(in.Chain); !ok {
			return fmt.Errorf("unknown chain %q: want one of %s; Bitcoin: %s", in.Chain, chainNames(), bitcoinChainNames())
		}
		return nil
	}},
	{"seeds", func(in *incident, n *yaml.Node) error {
		return list(n, &in.Seeds, "seed addresses", func(s string) error { _, err := in.address(s); return err })
	}},
	{"theft_txs", func(in *incident, n *yaml.Node) error {
		form, want := txHash, "0x and 64 hex digits"
		if _, btc := lookupBitcoin(in.Chain); btc {
			form, want = txid, "a transaction id of 64 hex digits"
		}
		return list(n, &in.TheftTxs, "transaction hashes", func(s string) error {
			if !form.MatchString(s) {
				return fmt.Errorf("%q is not a transaction hash: want %s", s, want)
			}
			return nil
		})
	}},
	{"window", func(in *incident, n *yaml.Node) error { return in.window(n) }},
	{"labels", func(in *incident, n *yaml.Node) error {
		return list(n, &in.Labels, "label file paths", func(s string) error {
			if s == "" {
				return errors.New("an empty path")
			}
			return nil
		})
	}},
	{"depth", func(in *incident, n *yaml.Node) error {
		if err := scalar(n, &in.Depth, "a number of hops"); err != nil {
			return err
		}
		if d, err := strconv.Atoi(in.Depth); err != nil || d < 1 {
			return fmt.Errorf("%q: want a number of hops, at least 1", in.Depth)
		}
		return nil
	}},
	{"min_value", func(in *incident, n *yaml.Node) error {
		if err := scalar(n, &in.MinValue, "an amount"); err != nil {
			return err
		}
		if _, err := tracer.ParseThreshold(in.MinValue); err != nil {
			return err
		}
		return nil
	}},
}

// parseIncident reads an incident file; an error names the field and its line.
func parseIncident(data []byte) (*incident, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want a mapping of name, chain, seeds, theft_txs, window, labels", max(doc.Line, 1))
	}
	in := &incident{lines: map[string]int{}}
	top := doc.Content[0]
	// The chain first, wherever it is: seeds and theft_txs are read for it.
	for i := 0; i+1 < len(top.Content); i += 2 {
		if k, v := top.Content[i], top.Content[i+1]; k.Value == "chain" && v.Kind == yaml.ScalarNode {
			if _, ok := chainName(v.Value); ok {
				in.Chain = v.Value
			}
		}
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		j := slices.IndexFunc(incidentFields, func(f incidentField) bool { return f.key == k.Value })
		if j < 0 {
			return nil, fmt.Errorf("line %d: unknown field %q: want one of %s", k.Line, k.Value, incidentKeys())
		}
		if _, dup := in.lines[k.Value]; dup {
			return nil, fmt.Errorf("line %d: %s is given twice", k.Line, k.Value)
		}
		in.lines[k.Value] = k.Line
		if err := incidentFields[j].set(in, v); err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", lineOf(err, v), k.Value, err)
		}
	}
	for _, need := range []string{"seeds", "window"} {
		if _, ok := in.lines[need]; !ok {
			return nil, fmt.Errorf("line %d: %s is missing", top.Line, need)
		}
	}
	if in.FromBlock == "" {
		return nil, fmt.Errorf("line %d: window.from_block is missing", in.lines["window"])
	}
	return in, nil
}

// address checks a seed for the incident's chain (ethereum when unnamed):
// on Bitcoin, that it is an address of some Bitcoin network (the node's
// network is checked when the trace starts).
func (in *incident) address(s string) (tracer.Address, error) {
	if net, ok := lookupBitcoin(in.Chain); ok {
		return bitcoinSeed(net)(s)
	}
	return evmSeed(s)
}

// fieldErr is an error found at a line inside a field's value.
type fieldErr struct {
	line int
	err  error
}

func (e *fieldErr) Error() string { return e.err.Error() }

func lineOf(err error, v *yaml.Node) int {
	var fe *fieldErr
	if errors.As(err, &fe) {
		return fe.line
	}
	return v.Line
}

func (in *incident) window(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return errors.New("want a mapping {from_block: N, to_block: M or latest}")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var dst *string
		switch k.Value {
		case "from_block":
			dst = &in.FromBlock
		case "to_block":
			dst = &in.ToBlock
		default:
			return &fieldErr{k.Line, fmt.Errorf("unknown field %q: want from_block and to_block", k.Value)}
		}
		in.lines["window."+k.Value] = k.Line
		if err := scalar(v, dst, "a block number"); err != nil {
			return &fieldErr{v.Line, fmt.Errorf("%s: %w", k.Value, err)}
		}
		if _, err := strconv.ParseUint(*dst, 10, 64); err != nil && !(k.Value == "to_block" && *dst == "latest") {
			return &fieldErr{v.Line, fmt.Errorf("%s: %q is not a block number", k.Value, *dst)}
		}
	}
	if in.FromBlock != "" && in.ToBlock != "" && in.ToBlock != "latest" {
		from, _ := strconv.ParseUint(in.FromBlock, 10, 64)
		if to, _ := strconv.ParseUint(in.ToBlock, 10, 64); to < from {
			return &fieldErr{in.lines["window.to_block"], fmt.Errorf("to_block %d is before from_block %d", to, from)}
		}
	}
	return nil
}

func scalar(n *yaml.Node, dst *string, want string) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return fmt.Errorf("want %s", want)
	}
	*dst = n.Value
	return nil
}

// list reads a sequence of scalars (or one scalar) and checks each.
func list(n *yaml.Node, dst *[]string, want string, check func(string) error) error {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for _, it := range items {
		var s string
		if err := scalar(it, &s, "a list of "+want); err != nil {
			return &fieldErr{it.Line, err}
		}
		if err := check(s); err != nil {
			return &fieldErr{it.Line, err}
		}
		*dst = append(*dst, s)
	}
	if len(*dst) == 0 {
		return fmt.Errorf("want at least one of the %s", want)
	}
	return nil
}

func incidentKeys() string {
	var ks []string
	for _, f := range incidentFields {
		ks = append(ks, f.key)
	}
	return strings.Join(ks, ", ")
}

// applyIncident loads o.incident into the flags not given on the command
// line, and refuses a command-line flag that contradicts a field defining
// the case.
func (o *traceOptions) applyIncident(flags *pflag.FlagSet) error {
	if o.incident == "" {
		return nil
	}
	data, err := os.ReadFile(o.incident)
	if err != nil {
		return usageErr("--incident: %v", err)
	}
	in, err := parseIncident(data)
	if err != nil {
		return usageErr("--incident %s: %v", o.incident, err)
	}
	dir := filepath.Dir(o.incident)
	conflict := func(flag, field string, same bool) error {
		if !flags.Changed(flag) || same {
			return nil
		}
		return usageErr("--%s contradicts %s in --incident %s (line %d): the file defines the case; drop --%s or edit the file",
			flag, field, o.incident, in.lines[field], flag)
	}
	sameList := func(a, b []string) bool {
		return slices.EqualFunc(a, b, strings.EqualFold)
	}
	if in.Chain != "" {
		if err := conflict("chain", "chain", strings.EqualFold(o.chain, in.Chain)); err != nil {
			return err
		}
		o.chain = in.Chain
	}
	if err := conflict("seed", "seeds", sameList(o.seeds, in.Seeds)); err != nil {
		return err
	}
	o.seeds = in.Seeds
	if len(in.TheftTxs) > 0 {
		if err := conflict("theft-tx", "theft_txs", sameList(o.theftTxs, in.TheftTxs)); err != nil {
			return err
		}
		o.theftTxs = in.TheftTxs
	}
	if err := conflict("from-block", "window.from_block", o.fromBlock == in.FromBlock); err != nil {
		return err
	}
	o.fromBlock = in.FromBlock
	setUnlessGiven := func(flag string, dst *string, v string) {
		if v != "" && !flags.Changed(flag) {
			*dst = v
		}
	}
	setUnlessGiven("to-block", &o.toBlock, in.ToBlock)
	setUnlessGiven("min-value", &o.minValue, in.MinValue)
	setUnlessGiven("case", &o.caseName, in.Name)
	if in.Depth != "" && !flags.Changed("depth") {
		o.depth, _ = strconv.Atoi(in.Depth) // checked by parseIncident
	}
	var files []string
	for _, l := range in.Labels {
		if !filepath.IsAbs(l) {
			l = filepath.Join(dir, l)
		}
		files = append(files, l)
	}
	o.labelFiles = append(files, o.labelFiles...)
	return nil
}
