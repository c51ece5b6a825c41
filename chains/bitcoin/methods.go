package bitcoin

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/flowtrace/flowtrace/tracer"
)

// The RPC calls (extract): each sends its method and returns the node's
// answer as decoded JSON, no interpretation beyond that (see decode.go).

// ChainInfo is the part of getblockchaininfo flowtrace reads.
type ChainInfo struct {
	Chain         string `json:"chain"`
	Blocks        int64  `json:"blocks"`
	Headers       int64  `json:"headers"`
	BestBlockHash string `json:"bestblockhash"`
	Pruned        bool   `json:"pruned"`
	PruneHeight   int64  `json:"pruneheight"`
}

// BlockchainInfo calls getblockchaininfo.
func (c *Client) BlockchainInfo(ctx context.Context) (*ChainInfo, error) {
	var ci ChainInfo
	if err := c.one(ctx, &ci, "getblockchaininfo"); err != nil {
		return nil, fmt.Errorf("bitcoin: getblockchaininfo: %w", err)
	}
	return &ci, nil
}

// BlockHashes calls getblockhash for each height, batched.
func (c *Client) BlockHashes(ctx context.Context, heights []int64) ([]string, error) {
	out := make([]string, len(heights))
	calls := make([]*call, len(heights))
	for i, h := range heights {
		calls[i] = &call{Method: "getblockhash", Params: []any{h}, Result: &out[i]}
	}
	if err := c.batch(ctx, calls); err != nil {
		return nil, fmt.Errorf("bitcoin: getblockhash: %w", err)
	}
	for i, cl := range calls {
		if cl.Err != nil {
			return nil, fmt.Errorf("bitcoin: getblockhash %d: %w", heights[i], cl.Err)
		}
	}
	return out, nil
}

// Blocks calls getblock with verbosity 3 for each hash, batched: Bitcoin
// Core 25+ then gives each input's spent output (prevout); older Core and
// btcd answer as for verbosity 2 (btcd under "rawtx"), and the scan fills
// the inputs.
func (c *Client) Blocks(ctx context.Context, hashes []string) ([]*RawBlock, error) {
	out := make([]*RawBlock, len(hashes))
	calls := make([]*call, len(hashes))
	for i, h := range hashes {
		calls[i] = &call{Method: "getblock", Params: []any{h, 3}, Result: &out[i]}
	}
	if err := c.batch(ctx, calls); err != nil {
		return nil, fmt.Errorf("bitcoin: getblock: %w", err)
	}
	for i, cl := range calls {
		if cl.Err == nil && out[i] == nil {
			cl.Err = fmt.Errorf("%w: null answer", tracer.ErrNotFound)
		}
		if cl.Err != nil {
			return nil, fmt.Errorf("bitcoin: getblock %s: %w", hashes[i], cl.Err)
		}
		if err := out[i].normalize(); err != nil {
			return nil, fmt.Errorf("bitcoin: getblock %s: %w", hashes[i], err)
		}
	}
	return out, nil
}

// RawTransactions calls getrawtransaction verbose for each txid, batched.
// A node without a transaction index answers only for mempool
// transactions: the error then names -txindex.
func (c *Client) RawTransactions(ctx context.Context, txids []string) ([]*RawTx, error) {
	out := make([]*RawTx, len(txids))
	calls := make([]*call, len(txids))
	for i, id := range txids {
		calls[i] = &call{Method: "getrawtransaction", Params: []any{id, 1}, Result: &out[i]}
	}
	if err := c.batch(ctx, calls); err != nil {
		return nil, fmt.Errorf("bitcoin: getrawtransaction: %w", err)
	}
	for i, cl := range calls {
		if cl.Err == nil && out[i] == nil {
			cl.Err = fmt.Errorf("%w: null answer", tracer.ErrNotFound)
		}
		if cl.Err != nil {
			return nil, fmt.Errorf("bitcoin: getrawtransaction %s: %w", txids[i], noTxIndexHint(cl.Err))
		}
	}
	return out, nil
}

// ErrNoTxIndex is a node that cannot look up confirmed transactions by id.
var ErrNoTxIndex = errors.New("the node keeps no transaction index: run Bitcoin Core with -txindex or btcd with --txindex")

// ErrNoAddrIndex is a node that cannot list an address's transactions.
var ErrNoAddrIndex = errors.New("the node keeps no address index: run btcd with --addrindex (Bitcoin Core has none; the block scan is used)")

func noTxIndexHint(err error) error {
	var re *RPCError
	if errors.As(err, &re) && re.Code == codeInvalidAddrKey && containsFold(re.Message, "txindex") {
		return fmt.Errorf("%w: %w", ErrNoTxIndex, err)
	}
	return err
}

// SearchRawTransactions calls btcd's searchrawtransactions for addr:
// verbose, skip, count, vinextra=1 (each input's funding address and value),
// oldest first.
func (c *Client) SearchRawTransactions(ctx context.Context, addr string, skip, count int) ([]*RawTx, error) {
	var out []*RawTx
	err := c.one(ctx, &out, "searchrawtransactions", addr, 1, skip, count, 1, false)
	if err != nil {
		var re *RPCError
		switch {
		case errors.As(err, &re) && re.Code == codeInvalidAddrKey && containsFold(re.Message, "no information available"):
			return nil, nil // btcd: an address with no transactions
		case errors.As(err, &re) && containsFold(re.Message, "addrindex"):
			err = fmt.Errorf("%w: %w", ErrNoAddrIndex, err)
		}
		return nil, fmt.Errorf("bitcoin: searchrawtransactions %s skip %s: %w", addr, strconv.Itoa(skip), err)
	}
	return out, nil
}

// BlockTimes returns the block time (unix seconds) of each height:
// getblockhash, then getblockheader, each batched.
func (c *Client) BlockTimes(ctx context.Context, heights []int64) ([]int64, error) {
	hashes, err := c.BlockHashes(ctx, heights)
	if err != nil {
		return nil, err
	}
	headers := make([]struct {
		Time int64 `json:"time"`
	}, len(hashes))
	calls := make([]*call, len(hashes))
	for i, h := range hashes {
		calls[i] = &call{Method: "getblockheader", Params: []any{h, true}, Result: &headers[i]}
	}
	if err := c.batch(ctx, calls); err != nil {
		return nil, fmt.Errorf("bitcoin: getblockheader: %w", err)
	}
	out := make([]int64, len(hashes))
	for i, cl := range calls {
		if cl.Err != nil {
			return nil, fmt.Errorf("bitcoin: getblockheader %s: %w", hashes[i], cl.Err)
		}
		out[i] = headers[i].Time
	}
	return out, nil
}
