package bridges_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/flowtrace/flowtrace/chains/evm/bridges"
)

// Pair an Across deposit read on Ethereum with its fill read on Arbitrum
// (logs recorded from the dev node).
func ExampleMatcher() {
	b, err := os.ReadFile("testdata/bridge.logs.json")
	if err != nil {
		panic(err)
	}
	var logs []types.Log
	if err := json.Unmarshal(b, &logs); err != nil {
		panic(err)
	}
	dep, _, _ := bridges.Decode(logs[0])  // V3FundsDeposited, deposit 7 to Arbitrum
	fill, _, _ := bridges.Decode(logs[6]) // FilledV3Relay of deposit 7
	m, err := bridges.NewMatcher(0, bridges.Leg{Chain: "ethereum", Event: dep, Known: true})
	if err != nil {
		panic(err)
	}
	m.Offer(bridges.Leg{Chain: "arbitrum", Event: fill, Known: true})
	p := m.Results(fill.Time)[0]
	fmt.Println(p.Status, p.DestChain, p.Received, p.Confidence)
	// Output: paired arbitrum 990000000000000000 1
}
