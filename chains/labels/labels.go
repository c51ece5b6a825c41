// Package labels knows the entities behind addresses: exchanges, bridges,
// mixers, DEX routers, sanctioned wallets; and the genuine token contracts
// of each chain (tokens.go). It reads user label and token files and answers
// tracer.Labeler and tracer.TokenRegistry lookups. It knows nothing about
// RPC or the walk.
//
// Label files are CSV with the header chain,address,label,category,source,
// or GraphSense TagPack YAML (files ending in .yaml or .yml, see ReadTagPack).
// Bundled returns the registry shipped with flowtrace: public, well-known
// entities on Ethereum and the other EVM chains (bridges, DEX routers, mixers,
// exchange hot wallets, sanctioned addresses), each row citing where it was verified.
//
// Conflict rule: when two entries name the same chain and address, the one
// read later wins, so the bundled registry (read first) is overridden by user
// files, and a later --labels file by the next; every replacement is recorded
// in Conflicts and reported by the CLI.
package labels

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/flowtrace/flowtrace/tracer"
)

// Registry holds labels by chain and address.
type Registry struct {
	byKey     map[string]tracer.Label
	tokens    map[string]TokenInfo // see tokens.go
	Conflicts []string
}

var _ tracer.Labeler = (*Registry)(nil)

// New returns an empty registry.
func New() *Registry { return &Registry{byKey: map[string]tracer.Label{}} }

// Len is the number of labelled addresses.
func (r *Registry) Len() int { return len(r.byKey) }

// Lookup returns the label of addr on chain.
func (r *Registry) Lookup(chain string, addr tracer.Address) (tracer.Label, bool) {
	l, ok := r.byKey[key(chain, string(addr))]
	return l, ok
}

// Add labels addr on chain, replacing (and recording) an earlier label.
func (r *Registry) Add(chain, addr string, l tracer.Label) {
	k := key(chain, addr)
	if old, ok := r.byKey[k]; ok && old != l {
		r.Conflicts = append(r.Conflicts, fmt.Sprintf("%s %s: %q (%s) replaced by %q (%s)", chain, addr, old.Name, old.Source, l.Name, l.Source))
	}
	r.byKey[k] = l
}

// LoadFile reads a label file into the registry: TagPack YAML when its name
// ends in .yaml or .yml, CSV otherwise.
func (r *Registry) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	defer f.Close()
	read := r.ReadCSV
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		read = r.ReadTagPack
	}
	if err := read(f); err != nil {
		return fmt.Errorf("labels: %s: %w", path, err)
	}
	return nil
}

var header = []string{"chain", "address", "label", "category", "source"}

// ReadCSV reads label rows (with the header chain,address,label,category,source)
// or token rows (with the header of a token file, see tokens.go).
func (r *Registry) ReadCSV(in io.Reader) error {
	cr := csv.NewReader(in)
	cr.Comment = '#' // the header fixes the number of fields
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("reading the header: %w", err)
	}
	if slices.Equal(lower(head), tokenHeader) {
		return r.readTokens(cr)
	}
	if !slices.Equal(lower(head), header) {
		return fmt.Errorf("line 1: header is %q, want %q (labels) or %q (tokens)", strings.Join(head, ","), strings.Join(header, ","), strings.Join(tokenHeader, ","))
	}
	return eachRow(cr, func(line int, rec []string, addr string) error {
		cat := tracer.Category(strings.ToLower(strings.TrimSpace(rec[3])))
		if !known(cat) {
			return fmt.Errorf("line %d: unknown category %q (want one of %s)", line, rec[3], categoryList())
		}
		r.Add(strings.ToLower(strings.TrimSpace(rec[0])), addr, tracer.Label{Name: strings.TrimSpace(rec[2]), Category: cat, Source: strings.TrimSpace(rec[4])})
		return nil
	})
}

// eachRow calls row with every record left in cr, its line and its address
// (the second column) in EIP-55 form.
func eachRow(cr *csv.Reader, row func(line int, rec []string, addr string) error) error {
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		addr, err := canonical(rec[1])
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if err := row(line, rec, addr); err != nil {
			return err
		}
	}
}

// canonical returns an EVM address in EIP-55 form.
func canonical(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !common.IsHexAddress(s) {
		return "", fmt.Errorf("address %q is not a 20-byte hex address", s)
	}
	return common.HexToAddress(s).Hex(), nil
}

var categories = []tracer.Category{
	tracer.CategoryExchange, tracer.CategoryBridge, tracer.CategoryMixer, tracer.CategoryDEX,
	tracer.CategorySanctions, tracer.CategoryContract, tracer.CategoryEOA, tracer.CategoryOther,
}

func known(c tracer.Category) bool { return slices.Contains(categories, c) }

func categoryList() string {
	var s []string
	for _, c := range categories {
		s = append(s, string(c))
	}
	return strings.Join(s, ", ")
}

func key(chain, addr string) string { return chain + ":" + addr }

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}
