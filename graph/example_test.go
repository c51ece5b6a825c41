package graph_test

import (
	"fmt"
	"math/big"
	"os"

	"github.com/flowtrace/flowtrace/graph"
	"github.com/flowtrace/flowtrace/tracer"
)

func Example() {
	seed, mule := tracer.Address("0x0000000000000000000000000000000000005eed"), tracer.Address("0x000000000000000000000000000000000000000a")
	oneETH, _ := new(big.Int).SetString("1000000000000000000", 10)
	trace := &tracer.Trace{
		Chain: "ethereum",
		Seeds: []tracer.Address{seed},
		Nodes: []tracer.Node{
			{Address: seed, Category: tracer.CategorySeed},
			{Address: mule, Category: tracer.CategoryEOA, Depth: 1, Held: map[tracer.Asset]*big.Int{tracer.NativeAsset: oneETH}},
		},
		Transfers: []tracer.TracedTransfer{{
			Transfer: tracer.Transfer{Chain: "ethereum", TxHash: "0xabc", BlockNumber: 7, LogIndex: -1,
				Kind: tracer.KindNative, From: seed, To: mule, Asset: tracer.NativeAsset, Amount: oneETH},
			Tainted: oneETH,
		}},
	}
	flow, err := graph.Build(trace, graph.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	e := flow.Edges()[0]
	fmt.Println(graph.ShortAddress(e.From.Address), "->", graph.ShortAddress(e.To.Address),
		graph.FormatAmount(e.Tainted, 18), flow.Symbol(e.Asset))
	if err := graph.WriteCSV(os.Stdout, flow); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 0x0000…5eed -> 0x0000…000a 1 ETH
	// tx_hash,block_number,position,kind,from,to,asset,symbol,amount,tainted_amount,from_depth,to_category,chain
	// 0xabc,7,call:,native,0x0000000000000000000000000000000000005eed,0x000000000000000000000000000000000000000a,native,ETH,1000000000000000000,1000000000000000000,0,eoa,ethereum
}
