package networks_test

import (
	"fmt"
	"time"

	"github.com/flowtrace/flowtrace/chains/networks"
)

func ExampleLookup() {
	n, _ := networks.Lookup("arbitrum-one")
	fmt.Println(n.Name, n.ChainID, n.NativeSymbol, n.ReorgBuffer, n.Blocks(time.Hour), n.TxURL("0xabc"))
	// Output: arbitrum 42161 ETH 64 14400 https://arbiscan.io/tx/0xabc
}
