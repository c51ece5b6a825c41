package evm

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/thorchain"
	"github.com/flowtrace/flowtrace/tracer"
)

// Events of cross-chain routers and mixers that flowtrace decodes into
// chain-neutral Transfer.Annotations (tracer.Ann*).
var (
	// thorDepositTopic: THORChain (and MAYAChain) router
	// Deposit(address indexed to, address indexed asset, uint256 amount, string memo).
	thorDepositTopic = crypto.Keccak256Hash([]byte("Deposit(address,address,uint256,string)"))
	// tornadoDepositTopic: Tornado Cash pool Deposit(bytes32 indexed commitment, uint32 leafIndex, uint256 timestamp).
	tornadoDepositTopic = crypto.Keccak256Hash([]byte("Deposit(bytes32,uint32,uint256)"))
	// tornadoWithdrawalTopic: Tornado Cash pool
	// Withdrawal(address to, bytes32 nullifierHash, address indexed relayer, uint256 fee).
	tornadoWithdrawalTopic = crypto.Keccak256Hash([]byte("Withdrawal(address,bytes32,address,uint256)"))
)

// DecodeEvents makes Transfers also read the router and mixer events of the
// recipients of outgoing transfers (one more eth_getLogs per OR-list) and
// annotate the transfers with what they say. Call it before tracing.
func (s *Source) DecodeEvents() { s.events = true }

// eventLogs reads, for the recipients of out, the router, mixer and bridge events in
// the window (one eth_getLogs per OR-list of recipients), for
// annotateFromLogs. It only reads out.
func (s *Source) eventLogs(ctx context.Context, out []tracer.Transfer, w tracer.BlockRange) ([]types.Log, error) {
	seen := map[common.Address]bool{}
	var recips []common.Address
	for i := range out { // fields, not copies: fillTxFrom sets TxFrom meanwhile
		to, kind := out[i].To, out[i].Kind
		a := common.HexToAddress(string(to))
		if !seen[a] && kind != tracer.KindERC721 {
			seen[a] = true
			recips = append(recips, a)
		}
	}
	if len(recips) == 0 {
		return nil, nil
	}
	slices.SortFunc(recips, func(a, b common.Address) int { return strings.Compare(a.Hex(), b.Hex()) })
	var qs []rangeQuery
	for _, c := range chunks(recips, s.addressesPerQuery) {
		qs = append(qs, rangeQuery{addrs: c, from: w.From, to: w.To})
	}
	var logs []types.Log
	err := s.splitRanges(ctx, "eth_getLogs", qs,
		func(q rangeQuery) rpc.BatchElem {
			return rpc.BatchElem{Method: "eth_getLogs", Args: []any{map[string]any{
				"fromBlock": hexutil.Uint64(q.from), "toBlock": hexutil.Uint64(q.to), "address": q.addrs,
				"topics": []any{s.eventTopics()},
			}}, Result: new([]types.Log)}
		},
		func(q rangeQuery, e rpc.BatchElem) error {
			got := *e.Result.(*[]types.Log)
			for _, l := range got {
				if l.BlockNumber < q.from || l.BlockNumber > q.to || !slices.Contains(q.addrs, l.Address) {
					return fmt.Errorf("%w: an event log in tx %s that does not match the filter", errInconsistent, l.TxHash.Hex())
				}
			}
			logs = append(logs, got...)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return logs, nil
}

// annotateFromLogs puts the decoded router, mixer and bridge events on the transfers
// of the same transaction into the emitting contract (pure decoding).
func annotateFromLogs(out []tracer.Transfer, logs []types.Log) {
	type key struct {
		tx string
		to common.Address
	}
	found := map[key]map[string]string{}
	var withdrawals []types.Log
	for _, l := range logs {
		if l.Removed || len(l.Topics) == 0 {
			continue
		}
		var ann map[string]string
		switch l.Topics[0] {
		case thorDepositTopic:
			ann = thorDeposit(l)
		case tornadoDepositTopic:
			if len(l.Topics) == 2 {
				ann = map[string]string{tracer.AnnMixer: "tornado", tracer.AnnCommitment: l.Topics[1].Hex()}
			}
		case tornadoWithdrawalTopic:
			withdrawals = append(withdrawals, l)
		default:
			ann = bridgeDeposit(l)
		}
		if ann != nil {
			found[key{l.TxHash.Hex(), l.Address}] = ann
		}
	}
	for i := range out {
		t := &out[i]
		ann := found[key{t.TxHash, common.HexToAddress(string(t.To))}]
		if ann == nil {
			continue
		}
		if t.Annotations == nil {
			t.Annotations = map[string]string{}
		}
		for k, v := range ann {
			t.Annotations[k] = v
		}
		if ann[tracer.AnnMixer] != "" {
			if leads := laterWithdrawals(withdrawals, common.HexToAddress(string(t.To)), t.BlockNumber); leads != "" {
				t.Annotations[tracer.AnnWithdrawals] = leads
			}
		}
	}
}

// thorDeposit decodes a router Deposit event: the memo, and where a swap memo
// sends the value.
func thorDeposit(l types.Log) map[string]string {
	memo, ok := decodeString(l.Data, 32)
	if !ok || len(l.Topics) != 3 {
		return nil
	}
	ann := map[string]string{tracer.AnnBridge: "thorchain", tracer.AnnMemo: memo}
	m, err := thorchain.ParseMemo(memo)
	if err != nil || m.Action != thorchain.ActionSwap {
		return ann
	}
	ann[tracer.AnnDestChain] = m.Asset.DestinationChain()
	ann[tracer.AnnDestAsset] = m.Asset.String()
	if m.Destination != "" {
		ann[tracer.AnnDestAddress] = m.Destination
	}
	if m.Refund != "" {
		ann[tracer.AnnRefundAddress] = m.Refund
	}
	if m.Limit != nil {
		ann[tracer.AnnDestLimit] = m.Limit.String()
		ann[tracer.AnnDestDecimals] = "8"
	}
	return ann
}

// laterWithdrawals lists pool's withdrawals from block on, as
// "block/tx/recipient" entries.
func laterWithdrawals(ws []types.Log, pool common.Address, block uint64) string {
	var out []string
	for _, w := range ws {
		if w.Address != pool || w.BlockNumber < block || len(w.Data) < 32 {
			continue
		}
		to := common.BytesToAddress(w.Data[:32])
		out = append(out, strconv.FormatUint(w.BlockNumber, 10)+"/"+w.TxHash.Hex()+"/"+to.Hex())
	}
	return strings.Join(out, " ")
}

// decodeString reads an ABI-encoded dynamic string whose offset word is at
// data[head:head+32].
func decodeString(data []byte, head int) (string, bool) {
	if len(data) < head+32 {
		return "", false
	}
	off := new(big.Int).SetBytes(data[head : head+32])
	if !off.IsUint64() || off.Uint64() > uint64(len(data)) || off.Uint64()+32 > uint64(len(data)) {
		return "", false
	}
	o := int(off.Uint64())
	n := new(big.Int).SetBytes(data[o : o+32])
	if !n.IsUint64() || n.Uint64() > uint64(len(data)-o-32) {
		return "", false
	}
	return string(data[o+32 : o+32+int(n.Uint64())]), true
}
