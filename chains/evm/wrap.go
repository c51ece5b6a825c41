package evm

import (
	"context"
	"fmt"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"golang.org/x/sync/errgroup"

	"github.com/flowtrace/flowtrace/tracer"
)

// Wrapped native coins (WETH9 and kin). deposit() emits Deposit(dst, wad)
// and no Transfer event; withdraw(wad) emits Withdrawal(src, wad) and pays
// the coin back by an internal call. Read as token transfers (decode.go:
// wrapTransfer), a wrap is the native coin sent to the contract and the
// token sent back in the same transaction, an unwrap the token sent in and
// the coin sent back: the two legs of a trade at rate 1, which the walk's
// swap pairing books as such, so the stolen value keeps its taint across.
//
// Which events are read, for the addresses asked about:
//
//	Outgoing: Withdrawal(src) by any of them (token to the contract); and,
//	          for a wrapped-native contract among them, its Deposit events
//	          (token from the contract to the depositor)
//	Incoming: Deposit(dst) to any of them; and, for a wrapped-native
//	          contract among them, its Withdrawal events

// wrapTransfers reads the Deposit and Withdrawal events of s.wrapped that
// dir selects for addrs in w.
func (s *Source) wrapTransfers(ctx context.Context, dir tracer.Direction, addrs []common.Address, w tracer.BlockRange) ([]tracer.Transfer, error) {
	if len(s.wrapped) == 0 {
		return nil, nil
	}
	byParty, byContract := withdrawalTopic, depositTopic // Outgoing
	if dir == tracer.Incoming {
		byParty, byContract = depositTopic, withdrawalTopic
	}
	var self []common.Address
	for _, a := range addrs {
		if slices.Contains(s.wrapped, a) {
			self = append(self, a)
		}
	}
	var party, contract []tracer.Transfer
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		party, err = s.wrapLogs(gctx, addrs, w, func(q rangeQuery) map[string]any {
			return wrapFilter(q, s.wrapped, []any{[]common.Hash{byParty}, topicList(q.addrs)})
		})
		return err
	})
	if len(self) > 0 {
		g.Go(func() (err error) {
			contract, err = s.wrapLogs(gctx, self, w, func(q rangeQuery) map[string]any {
				return wrapFilter(q, q.addrs, []any{[]common.Hash{byContract}})
			})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return append(party, contract...), nil
}

// wrapLogs asks eth_getLogs with the filters filter builds for addrs and
// decodes the answers.
func (s *Source) wrapLogs(ctx context.Context, addrs []common.Address, w tracer.BlockRange, filter func(rangeQuery) map[string]any) ([]tracer.Transfer, error) {
	return s.logTransfers(ctx, addrs, w, filter, func(q rangeQuery, logs []types.Log) ([]tracer.Transfer, error) {
		var got []tracer.Transfer
		for _, l := range logs {
			if l.BlockNumber < q.from || l.BlockNumber > q.to || !slices.Contains(s.wrapped, l.Address) {
				return nil, fmt.Errorf("%w: a wrap event of %s in block %d, outside what was asked", errInconsistent, l.Address.Hex(), l.BlockNumber)
			}
			if t, ok := wrapTransfer(s.chain, l); ok {
				got = append(got, t)
			}
		}
		return got, nil
	})
}

func wrapFilter(q rangeQuery, contracts []common.Address, topics []any) map[string]any {
	return map[string]any{
		"fromBlock": hexutil.Uint64(q.from),
		"toBlock":   hexutil.Uint64(q.to),
		"address":   contracts,
		"topics":    topics,
	}
}

func topicList(addrs []common.Address) []common.Hash {
	out := make([]common.Hash, len(addrs))
	for i, a := range addrs {
		out[i] = common.BytesToHash(a.Bytes())
	}
	return out
}
