package bitcoin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/flowtrace/flowtrace/tracer"
)

// SpendMethod is how the spends of an address's outputs are found.
type SpendMethod string

const (
	// SpendsByAddrIndex asks btcd's address index (searchrawtransactions).
	SpendsByAddrIndex SpendMethod = "searchrawtransactions"
	// SpendsByBlockScan reads the window's blocks forward once.
	SpendsByBlockScan SpendMethod = "block scan"
)

// Probe is what a node offers.
type Probe struct {
	Chain  string           // as the node names it
	Params *chaincfg.Params // the matching btcd parameters
	Height int64
	Pruned bool
	// PruneHeight is the lowest height whose block the node still keeps
	// (when Pruned).
	PruneHeight int64
	TxIndex     bool // getrawtransaction answers for confirmed transactions
	AddrIndex   bool // searchrawtransactions answers (btcd --addrindex)
	Batch       bool // the node takes JSON-RPC batch arrays
	Spends      SpendMethod
	// Why says in one line why Spends was chosen.
	Why string
}

// ChainParams maps a chain name as getblockchaininfo prints it (Bitcoin
// Core: main, test, testnet4, signet, regtest; btcd: mainnet, testnet3,
// simnet, ...) to btcd's parameters.
func ChainParams(name string) (*chaincfg.Params, bool) {
	switch name {
	case "main", "mainnet":
		return &chaincfg.MainNetParams, true
	case "test", "testnet", "testnet3":
		return &chaincfg.TestNet3Params, true
	case "testnet4":
		return &chaincfg.TestNet4Params, true
	case "signet":
		return &chaincfg.SigNetParams, true
	case "regtest":
		return &chaincfg.RegressionNetParams, true
	case "simnet":
		return &chaincfg.SimNetParams, true
	}
	return nil, false
}

// ProbeNode asks the node which chain it serves and what it indexes:
// getblockchaininfo, a two-call batch, getblockhash / getblock of its tip,
// getrawtransaction of the tip's coinbase (the transaction index) and
// searchrawtransactions of the coinbase's address (btcd's address index).
func (c *Client) ProbeNode(ctx context.Context) (*Probe, error) {
	ci, err := c.BlockchainInfo(ctx)
	if err != nil {
		return nil, err
	}
	params, ok := ChainParams(ci.Chain)
	if !ok {
		return nil, fmt.Errorf("bitcoin: getblockchaininfo: unknown chain %q (want main, test, testnet4, signet, regtest or simnet)", ci.Chain)
	}
	p := &Probe{Chain: ci.Chain, Params: params, Height: ci.Blocks, Pruned: ci.Pruned, PruneHeight: ci.PruneHeight}

	// A batch of two: a node that refuses it turns batching off for good.
	var h1, h2 string
	calls := []*call{
		{Method: "getblockhash", Params: []any{ci.Blocks}, Result: &h1},
		{Method: "getblockhash", Params: []any{ci.Blocks}, Result: &h2},
	}
	if err := c.batch(ctx, calls); err != nil {
		return nil, fmt.Errorf("bitcoin: getblockhash %d: %w", ci.Blocks, err)
	}
	for _, cl := range calls {
		if cl.Err != nil {
			return nil, fmt.Errorf("bitcoin: getblockhash %d: %w", ci.Blocks, cl.Err)
		}
	}
	p.Batch = c.Batching()

	var tip *blockTxIDs
	if err := c.one(ctx, &tip, "getblock", h1, 1); err != nil || tip == nil || len(tip.Tx) == 0 {
		return nil, fmt.Errorf("bitcoin: getblock %s: %w", h1, errors.Join(err, nullAnswer(err == nil)))
	}
	coinbase := tip.Tx[0]
	var ctx0 *RawTx
	err = c.one(ctx, &ctx0, "getrawtransaction", coinbase, 1)
	switch {
	case err == nil && ctx0 != nil:
		p.TxIndex = true
	case errors.Is(err, tracer.ErrNotFound), errors.Is(err, tracer.ErrUnsupported):
		// Bitcoin Core without -txindex: "No such mempool transaction.
		// Use -txindex ..." (code -5).
	default:
		return nil, fmt.Errorf("bitcoin: getrawtransaction %s: %w", coinbase, errors.Join(err, nullAnswer(ctx0 == nil && err == nil)))
	}

	addr := ""
	if ctx0 != nil {
		for _, o := range ctx0.Vout {
			if a := o.ScriptPubKey.address(); a != "" {
				addr = a
				break
			}
		}
	}
	if addr != "" {
		_, err := c.SearchRawTransactions(ctx, addr, 0, 1)
		switch {
		case err == nil:
			p.AddrIndex = true
		case errors.Is(err, ErrNoAddrIndex), errors.Is(err, tracer.ErrUnsupported):
		default:
			return nil, err
		}
	}
	switch {
	case p.AddrIndex && p.TxIndex:
		p.Spends = SpendsByAddrIndex
		p.Why = "the node keeps an address index (btcd --addrindex): each address's transactions are asked directly"
	case p.TxIndex:
		p.Spends = SpendsByBlockScan
		p.Why = "the node keeps no address index (btcd --addrindex): the window's blocks are read forward once"
	default:
		p.Spends = SpendsByBlockScan
		p.Why = "the node keeps no transaction index: the window's blocks are read forward once, and inputs spent from before the window cannot be valued (-txindex)"
	}
	return p, nil
}

func nullAnswer(null bool) error {
	if null {
		return fmt.Errorf("%w: null answer", tracer.ErrNotFound)
	}
	return nil
}

// CheckWindow tells whether the node can serve a trace from block from on:
// it must keep those blocks (not pruned below from) and a transaction index
// (to value the inputs of the window's transactions). The error names the
// flag or node that works.
func (p *Probe) CheckWindow(from int64) error {
	var problems []string
	if p.Pruned && from < p.PruneHeight {
		problems = append(problems, fmt.Sprintf("the node is pruned: it keeps blocks from %d on, the window starts at %d; use an unpruned node (no -prune)", p.PruneHeight, from))
	}
	if !p.TxIndex {
		problems = append(problems, ErrNoTxIndex.Error())
	}
	if from > p.Height {
		problems = append(problems, fmt.Sprintf("the window starts at block %d, after the node's tip %d", from, p.Height))
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("bitcoin: " + strings.Join(problems, "; "))
}
