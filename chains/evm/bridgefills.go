package evm

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/flowtrace/flowtrace/chains/evm/bridges"
	"github.com/flowtrace/flowtrace/tracer"
)

// DecodeBridges makes Transfers also read the bridge deposit events
// (Across FundsDeposited / V3FundsDeposited, Stargate and OFT OFTSent)
// emitted by the recipients of outgoing transfers, in the same eth_getLogs
// as DecodeEvents' router and mixer events, and annotate the deposit
// transfers with them (bridges.Annotations). Call it before tracing.
func (s *Source) DecodeBridges() { s.bridgeEvents = true }

// DecodesBridges reports whether DecodeBridges was called: its transfers
// carry bridge annotations that a Source without it does not give.
func (s *Source) DecodesBridges() bool { return s.bridgeEvents }

// eventTopics are the topic0 values eventLogs asks for.
func (s *Source) eventTopics() []common.Hash {
	var ts []common.Hash
	if s.events {
		ts = append(ts, thorDepositTopic, tornadoDepositTopic, tornadoWithdrawalTopic)
	}
	if s.bridgeEvents {
		ts = append(ts, bridges.DepositTopics()...)
	}
	return ts
}

// bridgeDeposit decodes l when it is an Across or Stargate deposit event.
func bridgeDeposit(l types.Log) map[string]string {
	ev, ok, err := bridges.Decode(l)
	if !ok || err != nil || ev.Side != bridges.Deposit || ev.Protocol == bridges.LayerZero {
		return nil // another event, or a contract borrowing the topic
	}
	return bridges.Annotations(ev)
}

// FillQuery names bridge deposits whose fills are searched for on the
// Source's chain.
type FillQuery struct {
	Protocol bridges.Protocol // bridges.Across or bridges.Stargate
	Window   tracer.BlockRange
	// Across: the deposits' origin chain ids and deposit ids (the fill
	// events' indexed originChainId and depositId).
	Origins    []uint64
	DepositIDs []*big.Int
	// Stargate and OFTs: the sends' guids (OFTReceived's indexed guid).
	GUIDs []string
}

// BridgeFills reads the fill events that answer the deposits q names, in
// q.Window, decoded: one eth_getLogs filtered by the events' indexed
// deposit keys (any contract: the pairing judges the emitter), split as the
// node requires, with an OR-list of at most Options.AddressesPerQuery keys.
// Logs that borrow a fill topic but do not decode are left out.
func (s *Source) BridgeFills(ctx context.Context, q FillQuery) ([]bridges.Event, error) {
	if q.Window.To < q.Window.From {
		return nil, fmt.Errorf("evm: empty window [%d,%d]", q.Window.From, q.Window.To)
	}
	var filters [][]any
	switch q.Protocol {
	case bridges.Across:
		origins := make([]common.Hash, len(q.Origins))
		for i, o := range q.Origins {
			origins[i] = common.BigToHash(new(big.Int).SetUint64(o))
		}
		ids := make([]common.Hash, len(q.DepositIDs))
		for i, id := range q.DepositIDs {
			ids[i] = common.BigToHash(id)
		}
		for _, c := range chunks(ids, s.addressesPerQuery) {
			filters = append(filters, []any{bridges.FillTopics(bridges.Across), origins, c})
		}
	case bridges.Stargate:
		guids := make([]common.Hash, len(q.GUIDs))
		for i, g := range q.GUIDs {
			guids[i] = common.HexToHash(g)
		}
		for _, c := range chunks(guids, s.addressesPerQuery) {
			filters = append(filters, []any{bridges.FillTopics(bridges.Stargate), c})
		}
	default:
		return nil, fmt.Errorf("evm: no fill events for bridge %q", q.Protocol)
	}
	var out []bridges.Event
	for _, topics := range filters {
		want := fillKeys(topics)
		err := s.splitRanges(ctx, "eth_getLogs", []rangeQuery{{from: q.Window.From, to: q.Window.To}},
			func(r rangeQuery) rpc.BatchElem {
				return rpc.BatchElem{Method: "eth_getLogs", Args: []any{map[string]any{
					"fromBlock": hexutil.Uint64(r.from), "toBlock": hexutil.Uint64(r.to), "topics": topics,
				}}, Result: new([]types.Log)}
			},
			func(r rangeQuery, e rpc.BatchElem) error {
				got := *e.Result.(*[]types.Log)
				for _, l := range got {
					if l.BlockNumber < r.from || l.BlockNumber > r.to || !want(l) {
						return fmt.Errorf("%w: a log in tx %s that does not match the fill filter", errInconsistent, l.TxHash.Hex())
					}
				}
				for _, l := range got {
					if ev, ok, err := bridges.Decode(l); ok && err == nil && ev.Side == bridges.Fill {
						out = append(out, ev)
					}
				}
				return nil
			})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b bridges.Event) int {
		return cmp.Or(cmp.Compare(a.Block, b.Block), cmp.Compare(a.LogIndex, b.LogIndex))
	})
	return out, nil
}

// fillKeys reports whether a log matches the topic filter asked (each
// position an OR-list).
func fillKeys(topics []any) func(types.Log) bool {
	return func(l types.Log) bool {
		if len(l.Topics) < len(topics) {
			return false
		}
		for i, alt := range topics {
			if !slices.Contains(alt.([]common.Hash), l.Topics[i]) {
				return false
			}
		}
		return true
	}
}
