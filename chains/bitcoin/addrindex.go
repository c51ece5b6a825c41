package bitcoin

import (
	"context"
	"fmt"

	"github.com/flowtrace/flowtrace/chains/bitcoin/utxo"
)

// addrPage is the transactions asked per searchrawtransactions call.
const addrPage = 100

// AddressTxs lists the confirmed transactions that pay or spend from addr
// with a btcd address index (searchrawtransactions, vinextra=1 so every
// input carries its spent address and value), oldest first, each with its
// block height and time (getblockheader, batched). Mempool transactions are
// left out.
func (c *Client) AddressTxs(ctx context.Context, addr string) ([]utxo.Tx, error) {
	var raws []*RawTx
	for skip := 0; ; skip += addrPage {
		page, err := c.SearchRawTransactions(ctx, addr, skip, addrPage)
		if err != nil {
			return nil, err
		}
		raws = append(raws, page...)
		if len(page) < addrPage {
			break
		}
	}
	var hashes []string
	seen := map[string]bool{}
	for _, r := range raws {
		if r.BlockHash != "" && !seen[r.BlockHash] {
			seen[r.BlockHash] = true
			hashes = append(hashes, r.BlockHash)
		}
	}
	type header struct {
		Height int64 `json:"height"`
		Time   int64 `json:"time"`
	}
	hdrs := make([]header, len(hashes))
	calls := make([]*call, len(hashes))
	for i, h := range hashes {
		calls[i] = &call{Method: "getblockheader", Params: []any{h, true}, Result: &hdrs[i]}
	}
	if err := c.batch(ctx, calls); err != nil {
		return nil, fmt.Errorf("bitcoin: getblockheader: %w", err)
	}
	byHash := map[string]header{}
	for i, cl := range calls {
		if cl.Err != nil {
			return nil, fmt.Errorf("bitcoin: getblockheader %s: %w", hashes[i], cl.Err)
		}
		byHash[hashes[i]] = hdrs[i]
	}
	var out []utxo.Tx
	for _, r := range raws {
		if r.BlockHash == "" {
			continue // in the mempool
		}
		h := byHash[r.BlockHash]
		tx, missing, err := ToTx(r, uint64(h.Height), h.Time, -1)
		if err != nil {
			return nil, fmt.Errorf("bitcoin: searchrawtransactions %s: %w", addr, err)
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("bitcoin: searchrawtransactions %s: tx %s input %d has no spent output (vinextra): is this btcd?", addr, tx.TxID, missing[0])
		}
		out = append(out, tx)
	}
	return out, nil
}
