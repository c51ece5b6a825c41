package evm

import (
	"bytes"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/flowtrace/flowtrace/tracer"
)

// This file is the transform half of the adapter: pure decoding of node
// answers into tracer transfers, no I/O.

// transferTopic is topic0 of Transfer(address,address,uint256), shared by
// ERC-20 and ERC-721.
var transferTopic = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))

// maxLogIndex bounds a log's index in its block: a larger one (from a
// hostile or broken node) would overflow the order key.
const maxLogIndex = 1 << 24

// logSeqBase puts token events after the value transfers (call frames) of
// their transaction: Seq = logSeqBase + log index.
const logSeqBase = 1_000_000

// logTransfer decodes one Transfer event. ERC-20 events have 3 topics and a
// 32-byte amount; ERC-721 events have 4 topics (the token id indexed) and
// count as an amount of 1. Anything else is not a transfer we know.
func logTransfer(chain string, l types.Log) (tracer.Transfer, bool) {
	if l.Removed || len(l.Topics) < 3 || l.Topics[0] != transferTopic || l.Index > maxLogIndex {
		return tracer.Transfer{}, false
	}
	t := eventTransfer(chain, l)
	t.From = addr(common.BytesToAddress(l.Topics[1].Bytes()))
	t.To = addr(common.BytesToAddress(l.Topics[2].Bytes()))
	switch {
	case len(l.Topics) == 3 && len(l.Data) == 32:
		t.Kind = tracer.KindERC20
		t.Amount = new(big.Int).SetBytes(l.Data)
	case len(l.Topics) == 4 && len(l.Data) == 0:
		t.Kind = tracer.KindERC721
		t.Amount = big.NewInt(1)
		t.Annotations = map[string]string{"token_id": l.Topics[3].Big().String()}
	default:
		return tracer.Transfer{}, false
	}
	return t, true
}

// eventTransfer is the part of a transfer that l says as any event does:
// where it stands in the chain, and the contract that emitted it as the asset.
func eventTransfer(chain string, l types.Log) tracer.Transfer {
	return tracer.Transfer{
		Chain:       chain,
		TxHash:      l.TxHash.Hex(),
		BlockNumber: l.BlockNumber,
		TxIndex:     l.TxIndex,
		Seq:         logSeqBase + int(l.Index),
		LogIndex:    int(l.Index),
		Asset:       tracer.Asset(l.Address.Hex()),
	}
}

// Topics of a wrapped native coin's events (WETH9, see wrap.go).
var (
	depositTopic    = crypto.Keccak256Hash([]byte("Deposit(address,uint256)"))
	withdrawalTopic = crypto.Keccak256Hash([]byte("Withdrawal(address,uint256)"))
)

// wrapTransfer decodes a wrapped native coin's Deposit(dst, wad) as wad of
// the token sent by the contract to dst, and Withdrawal(src, wad) as wad
// sent by src to the contract (annotated "wrap": deposit or withdrawal). The
// caller checks that l comes from a wrapped-native contract: other
// contracts' events of the same signature (Tornado's Deposit has other
// fields) are not this.
func wrapTransfer(chain string, l types.Log) (tracer.Transfer, bool) {
	if l.Removed || len(l.Topics) != 2 || len(l.Data) != 32 || l.Index > maxLogIndex {
		return tracer.Transfer{}, false
	}
	party := addr(common.BytesToAddress(l.Topics[1].Bytes()))
	t := eventTransfer(chain, l)
	t.Kind, t.Amount = tracer.KindERC20, new(big.Int).SetBytes(l.Data)
	switch l.Topics[0] {
	case depositTopic:
		t.From, t.To = addr(l.Address), party
		t.Annotations = map[string]string{"wrap": "deposit"}
	case withdrawalTopic:
		t.From, t.To = party, addr(l.Address)
		t.Annotations = map[string]string{"wrap": "withdrawal"}
	default:
		return tracer.Transfer{}, false
	}
	return t, true
}

// logsToTransfers decodes the Transfer events among logs.
func logsToTransfers(chain string, logs []types.Log) []tracer.Transfer {
	var out []tracer.Transfer
	for _, l := range logs {
		if t, ok := logTransfer(chain, l); ok {
			out = append(out, t)
		}
	}
	return out
}

// callFrame is the part of a callTracer frame the adapter reads.
type callFrame struct {
	Type  string          `json:"type"`
	From  common.Address  `json:"from"`
	To    *common.Address `json:"to"`
	Value *hexutil.Big    `json:"value"`
	Error string          `json:"error"`
	Calls []callFrame     `json:"calls"`
}

// txTrace is one element of debug_traceBlockByNumber's answer.
type txTrace struct {
	TxHash common.Hash `json:"txHash"`
	Result *callFrame  `json:"result"`
	Error  string      `json:"error"`
}

// scannedBlock is the compact record of one traced block: every value
// movement in it, enough to answer any later query (either direction, any
// frontier) without asking the node again.
type scannedBlock struct {
	number uint64
	txHash []common.Hash    // by transaction index
	txFrom []common.Address // signer, by transaction index
	moves  []move
}

// move is one value transfer of a scanned block.
type move struct {
	from, to common.Address
	value    uint256.Int
	tx       uint32 // transaction index
	seq      uint32 // depth-first order of the frame in its transaction
	path     []int  // call path; nil for the top frame
}

// blockFromTraces turns a callTracer block trace into a scannedBlock. Failed
// frames (with an error) and everything under them are skipped, zero values
// dropped. Only CALL, CREATE, CREATE2 and SELFDESTRUCT move value:
// DELEGATECALL and CALLCODE report their context's value without moving it.
func blockFromTraces(number uint64, traces []txTrace) (*scannedBlock, error) {
	b := &scannedBlock{
		number: number,
		txHash: make([]common.Hash, len(traces)),
		txFrom: make([]common.Address, len(traces)),
	}
	for i, tr := range traces {
		if tr.Error != "" || tr.Result == nil {
			return nil, fmt.Errorf("block %d tx %d: trace failed: %s", number, i, tr.Error)
		}
		b.txHash[i] = tr.TxHash
		b.txFrom[i] = tr.Result.From
		seq := uint32(0)
		// Every frame takes a Seq, failed ones too, so Seq is the
		// frame's depth-first index in the transaction.
		var walk func(f *callFrame, path []int, failed bool)
		walk = func(f *callFrame, path []int, failed bool) {
			mySeq := seq
			seq++
			failed = failed || f.Error != ""
			if !failed && f.To != nil && f.Value != nil && f.Value.ToInt().Sign() > 0 && movesValue(f.Type) {
				m := move{from: f.From, to: *f.To, tx: uint32(i), seq: mySeq}
				if len(path) > 0 {
					m.path = slices.Clone(path)
				}
				if overflow := m.value.SetFromBig(f.Value.ToInt()); !overflow {
					b.moves = append(b.moves, m)
				}
			}
			for k := range f.Calls {
				walk(&f.Calls[k], append(path, k), failed)
			}
		}
		walk(tr.Result, nil, false)
	}
	return b, nil
}

func movesValue(callType string) bool {
	switch strings.ToUpper(callType) {
	case "CALL", "CREATE", "CREATE2", "SELFDESTRUCT":
		return true
	}
	return false
}

// transfers lists the block's moves sent (Outgoing) or received (Incoming)
// by an address of set.
func (b *scannedBlock) transfers(chain string, dir tracer.Direction, set map[common.Address]bool) []tracer.Transfer {
	var out []tracer.Transfer
	for i := range b.moves {
		m := &b.moves[i]
		side := m.from
		if dir == tracer.Incoming {
			side = m.to
		}
		if !set[side] {
			continue
		}
		t := tracer.Transfer{
			Chain:        chain,
			TxHash:       b.txHash[m.tx].Hex(),
			BlockNumber:  b.number,
			TxIndex:      uint(m.tx),
			Seq:          int(m.seq),
			LogIndex:     -1,
			TraceAddress: slices.Clone(m.path),
			Kind:         tracer.KindInternal,
			From:         addr(m.from),
			To:           addr(m.to),
			Asset:        tracer.NativeAsset,
			Amount:       m.value.ToBig(),
			TxFrom:       addr(b.txFrom[m.tx]),
		}
		if t.TraceAddress == nil {
			t.TraceAddress = []int{}
			t.Kind = tracer.KindNative
		}
		out = append(out, t)
	}
	return out
}

// parityTrace is one element of trace_filter's answer (OpenEthereum format,
// served by Erigon, Reth, Nethermind and providers).
type parityTrace struct {
	Action struct {
		CallType      string          `json:"callType"`
		From          *common.Address `json:"from"`
		To            *common.Address `json:"to"`
		Value         *hexutil.Big    `json:"value"`
		Address       *common.Address `json:"address"`       // suicide: the destroyed contract
		RefundAddress *common.Address `json:"refundAddress"` // suicide: the beneficiary
		Balance       *hexutil.Big    `json:"balance"`       // suicide: the value moved
	} `json:"action"`
	Result *struct {
		Address *common.Address `json:"address"` // create: the new contract
	} `json:"result"`
	BlockNumber         uint64       `json:"blockNumber"`
	TransactionHash     *common.Hash `json:"transactionHash"`
	TransactionPosition *uint        `json:"transactionPosition"`
	TraceAddress        []int        `json:"traceAddress"`
	Type                string       `json:"type"`
	Error               string       `json:"error"`
}

// tracesToTransfers decodes trace_filter traces. Failed traces and the
// traces under them (when they are in the answer too) are skipped, as are
// block rewards and zero values. Seq follows the call path in depth-first
// order (exact for paths up to 3 deep with indices below 99).
func tracesToTransfers(chain string, traces []parityTrace) []tracer.Transfer {
	failed := map[common.Hash][][]int{}
	for _, tr := range traces {
		if tr.Error != "" && tr.TransactionHash != nil {
			failed[*tr.TransactionHash] = append(failed[*tr.TransactionHash], tr.TraceAddress)
		}
	}
	var out []tracer.Transfer
	for _, tr := range traces {
		if tr.Error != "" || tr.TransactionHash == nil || tr.TransactionPosition == nil {
			continue
		}
		if underFailed(failed[*tr.TransactionHash], tr.TraceAddress) {
			continue
		}
		var from, to *common.Address
		var value *hexutil.Big
		switch tr.Type {
		case "call":
			if !strings.EqualFold(tr.Action.CallType, "call") {
				continue
			}
			from, to, value = tr.Action.From, tr.Action.To, tr.Action.Value
		case "create":
			if tr.Result != nil {
				from, to, value = tr.Action.From, tr.Result.Address, tr.Action.Value
			}
		case "suicide", "selfdestruct":
			from, to, value = tr.Action.Address, tr.Action.RefundAddress, tr.Action.Balance
		}
		if from == nil || to == nil || value == nil || value.ToInt().Sign() <= 0 {
			continue
		}
		t := tracer.Transfer{
			Chain:        chain,
			TxHash:       tr.TransactionHash.Hex(),
			BlockNumber:  tr.BlockNumber,
			TxIndex:      *tr.TransactionPosition,
			Seq:          pathSeq(tr.TraceAddress),
			LogIndex:     -1,
			TraceAddress: slices.Clone(tr.TraceAddress),
			Kind:         tracer.KindInternal,
			From:         addr(*from),
			To:           addr(*to),
			Asset:        tracer.NativeAsset,
			Amount:       new(big.Int).Set(value.ToInt()),
		}
		if len(tr.TraceAddress) == 0 {
			t.TraceAddress = []int{}
			t.Kind = tracer.KindNative
			t.TxFrom = t.From
		}
		out = append(out, t)
	}
	return out
}

func underFailed(failed [][]int, path []int) bool {
	for _, f := range failed {
		if len(f) <= len(path) && slices.Equal(f, path[:len(f)]) {
			return true
		}
	}
	return false
}

// pathSeq maps a call path to a number below logSeqBase that keeps
// depth-first order: [] < [0] < [0 0] < [0 0 1] < [0 1] < [1].
func pathSeq(path []int) int {
	seq, scale := 0, 10_000
	for i := 0; i < 3; i++ {
		d := 0
		if i < len(path) {
			d = min(path[i]+1, 99)
		}
		seq += d * scale
		scale /= 100
	}
	return seq
}

// decodeSymbol reads a symbol() answer: an ABI string, or a bytes32 as some
// old tokens (MKR, SAI) return. Control characters are dropped and long
// symbols cut.
func decodeSymbol(b []byte) (string, bool) {
	var raw []byte
	switch {
	case len(b) == 32:
		raw = bytes.TrimRight(b, "\x00")
	case len(b) >= 64:
		off := new(big.Int).SetBytes(b[:32])
		if !off.IsUint64() || off.Uint64() > uint64(len(b)-32) {
			return "", false
		}
		o := off.Uint64()
		n := new(big.Int).SetBytes(b[o : o+32])
		if !n.IsUint64() || n.Uint64() > uint64(len(b))-o-32 {
			return "", false
		}
		raw = b[o+32 : o+32+n.Uint64()]
	default:
		return "", false
	}
	if !utf8.Valid(raw) {
		return "", false
	}
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, string(raw))
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxSymbolRunes {
		s = string([]rune(s)[:maxSymbolRunes-1]) + "…"
	}
	return s, s != ""
}

// maxSymbolRunes caps a token symbol: the contract chooses it, and a
// megabyte-long symbol would end up in every output.
const maxSymbolRunes = 64

// decodeDecimals reads a decimals() answer (a uint8 padded to 32 bytes).
func decodeDecimals(b []byte) (uint8, bool) {
	if len(b) < 32 {
		return 0, false
	}
	n := new(big.Int).SetBytes(b[:32])
	if !n.IsUint64() || n.Uint64() > 255 {
		return 0, false
	}
	return uint8(n.Uint64()), true
}

// addr is the tracer form of an EVM address (EIP-55).
func addr(a common.Address) tracer.Address { return tracer.Address(a.Hex()) }
