package bitcoin

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/flowtrace/flowtrace/chains/bitcoin/utxo"
)

// The node's answers as they come (extract) and their pure conversion into
// utxo.Tx (transform). Bitcoin Core and btcd differ in places: btcd's
// getblock verbosity 2 lists the transactions under "rawtx" where Core uses
// "tx"; Core (verbosity 3) gives each input's spent output as "prevout",
// btcd's searchrawtransactions with vinextra=1 as "prevOut". Answers are
// decoded in one pass into these types (a block is megabytes).

// RawBlock is a getblock answer at verbosity 2 or 3 (Bitcoin Core has
// served verbosity 2 since 0.15; btcd serves it under "rawtx").
type RawBlock struct {
	Hash   string   `json:"hash"`
	Height int64    `json:"height"`
	Time   int64    `json:"time"`
	Prev   string   `json:"previousblockhash"`
	Tx     []*RawTx `json:"tx"`    // Bitcoin Core
	RawTx  []*RawTx `json:"rawtx"` // btcd

	// Txs is set by normalize: the transactions from whichever field.
	Txs []*RawTx `json:"-"`
}

// normalize fills Txs from whichever field the node used.
func (b *RawBlock) normalize() error {
	if b.Hash == "" {
		return fmt.Errorf("%w: a block without hash", errBadResponse)
	}
	switch {
	case len(b.Tx) > 0 && len(b.RawTx) > 0:
		return fmt.Errorf("%w: a block with both tx and rawtx", errBadResponse)
	case len(b.RawTx) > 0:
		b.Txs = b.RawTx
	default:
		b.Txs = b.Tx
	}
	b.Tx, b.RawTx = nil, nil
	if len(b.Txs) == 0 {
		return fmt.Errorf("%w: block %s without transactions", errBadResponse, b.Hash)
	}
	return nil
}

// blockTxIDs is a getblock answer at verbosity 1.
type blockTxIDs struct {
	Hash   string   `json:"hash"`
	Height int64    `json:"height"`
	Tx     []string `json:"tx"`
}

// RawTx is a verbose transaction (getrawtransaction, getblock, or
// searchrawtransactions).
type RawTx struct {
	TxID      string    `json:"txid"`
	BlockHash string    `json:"blockhash"`
	BlockTime int64     `json:"blocktime"`
	Vin       []RawVin  `json:"vin"`
	Vout      []RawVout `json:"vout"`
}

// RawVin is one input.
type RawVin struct {
	Coinbase string   `json:"coinbase"`
	TxID     string   `json:"txid"`
	Vout     uint32   `json:"vout"`
	PrevOut  *rawPrev `json:"prevOut"` // btcd vinextra=1
	Prevout  *rawPrev `json:"prevout"` // Bitcoin Core verbosity 3
}

type rawPrev struct {
	Value        json.Number `json:"value"`
	Addresses    []string    `json:"addresses"`    // btcd
	ScriptPubKey *rawScript  `json:"scriptPubKey"` // Core
}

// RawVout is one output.
type RawVout struct {
	Value        json.Number `json:"value"`
	N            uint32      `json:"n"`
	ScriptPubKey rawScript   `json:"scriptPubKey"`
}

type rawScript struct {
	Hex       string   `json:"hex"`
	Type      string   `json:"type"`
	Address   string   `json:"address"`   // Core >= 22, btcd
	Addresses []string `json:"addresses"` // older Core, btcd
}

func (s rawScript) address() string {
	if s.Address != "" {
		return s.Address
	}
	if len(s.Addresses) == 1 {
		return s.Addresses[0]
	}
	return ""
}

// Satoshis converts a BTC amount as the node prints it ("50", "0.0001",
// "1e-05") into satoshis, exactly for decimal forms.
func Satoshis(n json.Number) (int64, error) {
	s := string(n)
	if s == "" {
		return 0, errors.New("no amount")
	}
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || f > 21e6 {
			return 0, fmt.Errorf("amount %q is not a BTC value", s)
		}
		return int64(math.Round(f * 1e8)), nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 8 || strings.HasPrefix(whole, "-") || whole == "" {
		return 0, fmt.Errorf("amount %q is not a BTC value", s)
	}
	frac += strings.Repeat("0", 8-len(frac))
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 21e6 {
		return 0, fmt.Errorf("amount %q is not a BTC value", s)
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q is not a BTC value", s)
	}
	return w*1e8 + f, nil
}

// ToTx converts a verbose transaction at position index of block height
// (time t) into a utxo.Tx. Inputs whose spent output the answer does not
// carry are left with Address "" and Value 0 and reported in missing (by
// input index): FillInputs completes them.
func ToTx(raw *RawTx, height uint64, t int64, index int) (tx utxo.Tx, missing []int, err error) {
	tx = utxo.Tx{TxID: raw.TxID, Block: height, Time: t, Index: index}
	if raw.TxID == "" {
		return tx, nil, fmt.Errorf("%w: a transaction without txid", errBadResponse)
	}
	for i, in := range raw.Vin {
		if in.Coinbase != "" {
			tx.Inputs = append(tx.Inputs, utxo.Input{Coinbase: true})
			continue
		}
		inp := utxo.Input{Prev: utxo.Outpoint{TxID: in.TxID, Vout: in.Vout}}
		prev := in.PrevOut
		if prev == nil {
			prev = in.Prevout
		}
		if prev == nil {
			missing = append(missing, i)
		} else {
			v, err := Satoshis(prev.Value)
			if err != nil {
				return tx, nil, fmt.Errorf("tx %s input %d: %w", raw.TxID, i, err)
			}
			inp.Value = v
			if prev.ScriptPubKey != nil {
				inp.Address = prev.ScriptPubKey.address()
			} else if len(prev.Addresses) == 1 {
				inp.Address = prev.Addresses[0]
			}
		}
		tx.Inputs = append(tx.Inputs, inp)
	}
	for i, out := range raw.Vout {
		v, err := Satoshis(out.Value)
		if err != nil {
			return tx, nil, fmt.Errorf("tx %s output %d: %w", raw.TxID, i, err)
		}
		o := utxo.Output{Index: out.N, Value: v, ScriptType: out.ScriptPubKey.Type}
		if out.ScriptPubKey.Type == "nulldata" {
			o.OpReturn, err = opReturnData(out.ScriptPubKey.Hex)
			if err != nil {
				return tx, nil, fmt.Errorf("tx %s output %d: %w", raw.TxID, i, err)
			}
		} else {
			o.Address = out.ScriptPubKey.address()
		}
		tx.Outputs = append(tx.Outputs, o)
	}
	return tx, missing, nil
}

// opReturnData is the data an OP_RETURN script pushes, concatenated.
func opReturnData(scriptHex string) ([]byte, error) {
	script, err := hex.DecodeString(scriptHex)
	if err != nil {
		return nil, fmt.Errorf("OP_RETURN script: %w", err)
	}
	if len(script) == 0 || script[0] != txscript.OP_RETURN {
		return nil, errors.New("nulldata script does not start with OP_RETURN")
	}
	pushes, err := txscript.PushedData(script[1:])
	if err != nil {
		return nil, fmt.Errorf("OP_RETURN script: %w", err)
	}
	data := []byte{}
	for _, p := range pushes {
		data = append(data, p...)
	}
	return data, nil
}

// FillInputs completes the inputs ToTx left without value and address from
// the transactions they spend, as lookup finds them by txid (nil: unknown).
// It returns the outpoints still missing.
func FillInputs(tx *utxo.Tx, missing []int, lookup func(txid string) *utxo.Tx) []utxo.Outpoint {
	var still []utxo.Outpoint
	for _, i := range missing {
		in := &tx.Inputs[i]
		p := lookup(in.Prev.TxID)
		if p == nil || int(in.Prev.Vout) >= len(p.Outputs) {
			still = append(still, in.Prev)
			continue
		}
		o := p.Outputs[in.Prev.Vout]
		in.Value, in.Address = o.Value, o.Address
	}
	return still
}
