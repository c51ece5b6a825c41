package utxo_test

import (
	"fmt"

	"github.com/flowtrace/flowtrace/chains/bitcoin/utxo"
)

// A payment of 0.3 BTC from an input of 1 BTC, 0.6 BTC of it stolen; the
// change goes back to the payer's address. With one input, FIFO takes
// each output's share of it pro rata, as haircut does.
func Example() {
	tx := utxo.Tx{
		TxID:   "example",
		Inputs: []utxo.Input{{Address: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", Value: 100_000_000}},
		Outputs: []utxo.Output{
			{Index: 0, Address: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", Value: 30_000_000},
			{Index: 1, Address: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", Value: 69_990_000},
		},
	}
	for _, m := range utxo.Models() {
		t, _ := utxo.Spread(m, tx, []int64{60_000_000})
		fmt.Println(m.Name(), t.Outputs, "fee", t.Fee)
	}
	c, _ := utxo.GuessChange(tx)
	fmt.Printf("change: output %d, confidence %.2f\n", c.Output, c.Confidence)
	// Output:
	// poison [30000000 30000000] fee 0
	// haircut [18000000 41994000] fee 6000
	// fifo [18000000 41994000] fee 6000
	// change: output 1, confidence 0.98
}
