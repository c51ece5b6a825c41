// Package utxo is the chain-neutral model of a UTXO transaction (Bitcoin and
// its kin) and the pure logic flowtrace runs on it: how taint passes from a
// transaction's inputs to its outputs, which output is likely change, and
// which transactions are CoinJoins.
//
// It knows nothing about JSON-RPC, btcd or the walk: chains/bitcoin converts
// node answers into Tx at its boundary.
package utxo

// Outpoint names one output of an earlier transaction.
type Outpoint struct {
	TxID string // hex, as the node prints it (byte-reversed)
	Vout uint32
}

// Input spends an earlier output.
type Input struct {
	Prev     Outpoint
	Address  string // the spent output's address; "" when the script has none
	Value    int64  // satoshis of the spent output
	Coinbase bool   // a coinbase input spends nothing
}

// Output is a newly created coin.
type Output struct {
	Index      uint32
	Address    string // "" for OP_RETURN and non-standard scripts
	Value      int64  // satoshis
	ScriptType string // as Bitcoin Core names it: pubkeyhash, scripthash, witness_v0_keyhash, witness_v0_scripthash, witness_v1_taproot, nulldata, ...
	OpReturn   []byte // the pushed data of a nulldata (OP_RETURN) output
}

// Tx is one transaction in a block.
type Tx struct {
	TxID    string
	Block   uint64 // height
	Time    int64  // block time, unix seconds
	Index   int    // position in the block
	Inputs  []Input
	Outputs []Output
}

// Fee is what the inputs pay beyond the outputs (0 for a coinbase).
func (t Tx) Fee() int64 {
	var in, out int64
	for _, i := range t.Inputs {
		if i.Coinbase {
			return 0
		}
		in += i.Value
	}
	for _, o := range t.Outputs {
		out += o.Value
	}
	return in - out
}
