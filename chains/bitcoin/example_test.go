package bitcoin_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/flowtrace/flowtrace/chains/bitcoin"
	"github.com/flowtrace/flowtrace/chains/rpcreplay"
)

// Probe a node, then read a window of blocks forward and list the
// THORChain-style OP_RETURN memos it carries (coinbases carry an OP_RETURN
// too: the witness commitment). The node here is a recorded btcd.
func Example() {
	rp, err := rpcreplay.LoadReplayer("testdata/regtest/rpc.replay")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := bitcoin.Dial("http://user:pass@127.0.0.1:18443/", bitcoin.Options{Transport: rp})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	p, err := c.ProbeNode(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: spends by %s\n", p.Chain, p.Spends)
	err = bitcoin.NewScanner(c, bitcoin.ScanOptions{BlocksPerBatch: 2}).Scan(ctx, uint64(p.Height-2), uint64(p.Height), func(b *bitcoin.Block) error {
		for _, tx := range b.Txs {
			for _, o := range tx.Outputs {
				if bytes.HasPrefix(o.OpReturn, []byte("OUT:")) {
					fmt.Printf("block %d: %.12s...\n", b.Height, o.OpReturn)
				}
			}
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// regtest: spends by searchrawtransactions
	// block 105: OUT:AB12AB12...
}
