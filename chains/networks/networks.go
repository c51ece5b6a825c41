// Package networks is the registry of the EVM chains flowtrace knows: one
// row per chain in the embedded networks.csv (name and aliases, chain id,
// genesis hash, native coin, reorg buffer, block time, explorer, and what
// its nodes serve), each row citing its sources. Adding a chain is adding a
// row. It knows nothing about RPC, labels or the walk; the wrapped native
// coin of a chain is a token fact and lives in chains/labels/tokens.csv.
package networks

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind tells mainnets, test networks and local dev chains apart.
type Kind string

// Kinds of network.
const (
	Mainnet Kind = "mainnet"
	Testnet Kind = "testnet"
	Dev     Kind = "dev"
)

// Support says whether a chain's nodes serve an RPC method.
type Support string

// Levels of support: Some depends on the client or the provider.
const (
	Yes  Support = "yes"
	No   Support = "no"
	Some Support = "some"
)

// Network is one chain.
type Network struct {
	Name           string
	Aliases        []string
	Kind           Kind
	ChainID        int64
	GenesisHash    string // 0x-prefixed lower-case hex; "" = not checked (dev)
	NativeSymbol   string
	NativeDecimals uint8
	ReorgBuffer    uint64        // blocks below the head that may still change
	BlockTime      time.Duration // average; 0 = on demand (dev)
	Explorer       string        // base URL; "" = none
	LogRangeCap    uint64        // eth_getLogs range public endpoints refuse above; 0 = none known
	TraceFilter    Support
	DebugTrace     Support // debug_traceBlockByNumber
	LayerZeroEID   uint32  // LayerZero V2 endpoint id; 0 = none
	Notes          string
	Sources        []string
}

//go:embed networks.csv
var networksCSV []byte

var header = []string{"name", "aliases", "kind", "chain_id", "genesis_hash", "native_symbol", "native_decimals",
	"reorg_buffer", "block_time_ms", "explorer", "log_range_cap", "trace_filter", "debug_trace", "layerzero_eid", "notes", "source"}

var (
	loadOnce sync.Once
	all      []Network
	loadErr  error
)

// All returns the bundled networks in file order.
func All() ([]Network, error) {
	loadOnce.Do(func() { all, loadErr = Read(bytes.NewReader(networksCSV)) })
	if loadErr != nil {
		return nil, fmt.Errorf("networks: bundled networks.csv: %w", loadErr)
	}
	return slices.Clone(all), nil
}

// mustAll is All for the lookups: the bundled file is checked by the tests.
func mustAll() []Network {
	n, err := All()
	if err != nil {
		panic(err) // unreachable: TestBundled reads the embedded file
	}
	return n
}

// Lookup returns the network called name (or one of its aliases), in any case.
func Lookup(name string) (Network, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, n := range mustAll() {
		if n.Name == name || slices.Contains(n.Aliases, name) {
			return n, true
		}
	}
	return Network{}, false
}

// ByLayerZeroEID returns the network with LayerZero V2 endpoint id eid.
func ByLayerZeroEID(eid uint32) (Network, bool) {
	for _, n := range mustAll() {
		if eid != 0 && n.LayerZeroEID == eid {
			return n, true
		}
	}
	return Network{}, false
}

// ByChainID returns the network with chain id id.
func ByChainID(id *big.Int) (Network, bool) {
	if id == nil || !id.IsInt64() {
		return Network{}, false
	}
	for _, n := range mustAll() {
		if n.ChainID == id.Int64() {
			return n, true
		}
	}
	return Network{}, false
}

// Names lists the networks' names, in file order.
func Names() []string {
	var s []string
	for _, n := range mustAll() {
		s = append(s, n.Name)
	}
	return s
}

// TxURL is the explorer page of a transaction, or "" without an explorer.
func (n Network) TxURL(hash string) string {
	if n.Explorer == "" {
		return ""
	}
	return n.Explorer + "/tx/" + hash
}

// AddressURL is the explorer page of an address, or "" without an explorer.
func (n Network) AddressURL(addr string) string {
	if n.Explorer == "" {
		return ""
	}
	return n.Explorer + "/address/" + addr
}

// Blocks is how many of n's blocks span d on average (0 on dev chains).
func (n Network) Blocks(d time.Duration) uint64 {
	if n.BlockTime <= 0 || d <= 0 {
		return 0
	}
	return uint64(d / n.BlockTime)
}

var (
	nameRE    = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	genesisRE = regexp.MustCompile(`^0x[0-9a-f]{64}$`)
)

// Read parses a networks file (CSV with the header of networks.csv; lines
// starting with # are comments). Names, aliases and chain ids must be unique.
func Read(r io.Reader) ([]Network, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = len(header)
	first, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if !slices.Equal(first, header) {
		return nil, fmt.Errorf("header %q: want %q", strings.Join(first, ","), strings.Join(header, ","))
	}
	var out []Network
	names, ids := map[string]bool{}, map[int64]bool{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		n, err := parse(rec)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		for _, name := range append([]string{n.Name}, n.Aliases...) {
			if names[name] {
				return nil, fmt.Errorf("line %d: name %q used twice", line, name)
			}
			names[name] = true
		}
		if ids[n.ChainID] {
			return nil, fmt.Errorf("line %d: chain id %d used twice", line, n.ChainID)
		}
		ids[n.ChainID] = true
		out = append(out, n)
	}
}

// parse reads one row.
func parse(rec []string) (Network, error) {
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	n := Network{Name: rec[0], Kind: Kind(rec[2]), GenesisHash: strings.ToLower(rec[4]), NativeSymbol: rec[5],
		Explorer: strings.TrimSuffix(rec[9], "/"), TraceFilter: Support(rec[11]), DebugTrace: Support(rec[12]), Notes: rec[14]}
	if rec[1] != "" {
		n.Aliases = strings.Split(rec[1], "|")
	}
	for _, name := range append([]string{n.Name}, n.Aliases...) {
		if !nameRE.MatchString(name) {
			return n, fmt.Errorf("name %q: want lower-case letters, digits and dashes", name)
		}
	}
	switch n.Kind {
	case Mainnet, Testnet, Dev:
	default:
		return n, fmt.Errorf("kind %q: want mainnet, testnet or dev", rec[2])
	}
	var err error
	if n.ChainID, err = strconv.ParseInt(rec[3], 10, 64); err != nil || n.ChainID <= 0 {
		return n, fmt.Errorf("chain_id %q: want a positive integer", rec[3])
	}
	if n.GenesisHash == "" && n.Kind != Dev {
		return n, errors.New("genesis_hash: required except on dev chains")
	}
	if n.GenesisHash != "" && !genesisRE.MatchString(n.GenesisHash) {
		return n, fmt.Errorf("genesis_hash %q: want 0x and 64 hex digits", rec[4])
	}
	if n.NativeSymbol == "" {
		return n, errors.New("native_symbol: empty")
	}
	dec, err := strconv.ParseUint(rec[6], 10, 8)
	if err != nil {
		return n, fmt.Errorf("native_decimals %q: want 0 to 255", rec[6])
	}
	n.NativeDecimals = uint8(dec)
	if n.ReorgBuffer, err = strconv.ParseUint(rec[7], 10, 64); err != nil {
		return n, fmt.Errorf("reorg_buffer %q: want a block count", rec[7])
	}
	ms, err := strconv.ParseUint(rec[8], 10, 32)
	if err != nil {
		return n, fmt.Errorf("block_time_ms %q: want milliseconds", rec[8])
	}
	n.BlockTime = time.Duration(ms) * time.Millisecond
	if n.Explorer != "" && !strings.HasPrefix(n.Explorer, "https://") {
		return n, fmt.Errorf("explorer %q: want an https:// URL", rec[9])
	}
	if n.LogRangeCap, err = strconv.ParseUint(rec[10], 10, 64); err != nil {
		return n, fmt.Errorf("log_range_cap %q: want a block count", rec[10])
	}
	for _, s := range []Support{n.TraceFilter, n.DebugTrace} {
		switch s {
		case Yes, No, Some:
		default:
			return n, fmt.Errorf("trace_filter/debug_trace %q: want yes, no or some", s)
		}
	}
	eid, err := strconv.ParseUint(rec[13], 10, 32)
	if err != nil {
		return n, fmt.Errorf("layerzero_eid %q: want an endpoint id or 0", rec[13])
	}
	n.LayerZeroEID = uint32(eid)
	for _, u := range strings.Split(rec[15], "|") {
		if !strings.HasPrefix(u, "https://") || strings.ContainsAny(u, " \t") {
			return n, fmt.Errorf("source %q: want |-separated https:// URLs", u)
		}
		n.Sources = append(n.Sources, u)
	}
	return n, nil
}
