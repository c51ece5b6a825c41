package bridges

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Protocol names a bridge.
type Protocol string

// Decoded protocols.
const (
	Across    Protocol = "across"
	Stargate  Protocol = "stargate"  // Stargate V2 pools and other LayerZero OFTs
	LayerZero Protocol = "layerzero" // LayerZero V2 endpoint packets (any OApp)
)

// Side says which leg of a bridge transfer an event is.
type Side string

// Sides of a bridge transfer.
const (
	Deposit Side = "deposit" // value handed to the bridge on the source chain
	Fill    Side = "fill"    // value paid out on the destination chain
)

// Event is one decoded bridge event. Addresses are EIP-55 hex when they are
// EVM addresses, else the 32-byte hex the event carries (a Solana account);
// amounts are base units of the token named beside them.
type Event struct {
	Protocol Protocol
	Side     Side
	Name     string // the event as the contract declares it, e.g. "FundsDeposited"
	Contract string // the emitting contract
	TxHash   string
	Block    uint64
	TxIndex  uint // the transaction's position in its block
	LogIndex uint
	Time     int64 // the block's time, unix seconds (0 when the node did not say)

	// Across: the deposit id is unique per origin chain's SpokePool.
	DepositID     *big.Int
	OriginChainID uint64 // fills name it; 0 on a deposit (the chain it was read on)
	DestChainID   uint64 // deposits name it; 0 on a fill
	FillDeadline  int64  // unix seconds after which the deposit is refunded, not filled; 0 = none

	// Stargate / LayerZero: the guid is unique per message.
	GUID   string // 0x-prefixed hex
	SrcEID uint32 // on a receipt: the source chain's LayerZero endpoint id
	DstEID uint32 // on a send: the destination chain's

	// LayerZero packets: the nonce is unique per path (source eid, sender,
	// destination eid, receiver). A delivery names no destination eid: it
	// is the chain it was read on.
	Nonce    uint64
	Sender   string // the sending OApp (bytes32 form as Bytes32Address prints it)
	Receiver string // the receiving OApp

	Depositor    string
	Recipient    string // who is paid on the destination chain (on a fill: who was paid)
	InputToken   string // Across: the token deposited
	InputAmount  *big.Int
	OutputToken  string   // Across: the token paid out ("" = not named: the sending contract's token)
	OutputAmount *big.Int // what the recipient receives (Across: after a speed-up, the updated amount)
}

// Event signatures, from the protocols' sources:
//   - Across V3 (address / uint32 fields, 2024) and the unified bytes32 events
//     of Across V3.5+ (2025): across-protocol/contracts,
//     contracts/interfaces/V3SpokePoolInterface.sol
//     (https://github.com/across-protocol/contracts/blob/master/contracts/interfaces/V3SpokePoolInterface.sol).
//   - OFTSent / OFTReceived: LayerZero-Labs/LayerZero-v2, packages/layerzero-v2/evm/oapp/contracts/oft/interfaces/IOFT.sol
//     (https://github.com/LayerZero-Labs/LayerZero-v2/blob/main/packages/layerzero-v2/evm/oapp/contracts/oft/interfaces/IOFT.sol),
//     emitted by Stargate V2 pools and OFTs.
//   - PacketSent / PacketDelivered: LayerZero-Labs/LayerZero-v2,
//     packages/layerzero-v2/evm/protocol/contracts/interfaces/ILayerZeroEndpointV2.sol; the packet
//     layout is PacketV1Codec.sol beside it.
const eventsABI = `[
 {"type":"event","name":"V3FundsDeposited","anonymous":false,"inputs":[
  {"name":"inputToken","type":"address","indexed":false},
  {"name":"outputToken","type":"address","indexed":false},
  {"name":"inputAmount","type":"uint256","indexed":false},
  {"name":"outputAmount","type":"uint256","indexed":false},
  {"name":"destinationChainId","type":"uint256","indexed":true},
  {"name":"depositId","type":"uint32","indexed":true},
  {"name":"quoteTimestamp","type":"uint32","indexed":false},
  {"name":"fillDeadline","type":"uint32","indexed":false},
  {"name":"exclusivityDeadline","type":"uint32","indexed":false},
  {"name":"depositor","type":"address","indexed":true},
  {"name":"recipient","type":"address","indexed":false},
  {"name":"exclusiveRelayer","type":"address","indexed":false},
  {"name":"message","type":"bytes","indexed":false}]},
 {"type":"event","name":"FundsDeposited","anonymous":false,"inputs":[
  {"name":"inputToken","type":"bytes32","indexed":false},
  {"name":"outputToken","type":"bytes32","indexed":false},
  {"name":"inputAmount","type":"uint256","indexed":false},
  {"name":"outputAmount","type":"uint256","indexed":false},
  {"name":"destinationChainId","type":"uint256","indexed":true},
  {"name":"depositId","type":"uint256","indexed":true},
  {"name":"quoteTimestamp","type":"uint32","indexed":false},
  {"name":"fillDeadline","type":"uint32","indexed":false},
  {"name":"exclusivityDeadline","type":"uint32","indexed":false},
  {"name":"depositor","type":"bytes32","indexed":true},
  {"name":"recipient","type":"bytes32","indexed":false},
  {"name":"exclusiveRelayer","type":"bytes32","indexed":false},
  {"name":"message","type":"bytes","indexed":false}]},
 {"type":"event","name":"FilledV3Relay","anonymous":false,"inputs":[
  {"name":"inputToken","type":"address","indexed":false},
  {"name":"outputToken","type":"address","indexed":false},
  {"name":"inputAmount","type":"uint256","indexed":false},
  {"name":"outputAmount","type":"uint256","indexed":false},
  {"name":"repaymentChainId","type":"uint256","indexed":false},
  {"name":"originChainId","type":"uint256","indexed":true},
  {"name":"depositId","type":"uint32","indexed":true},
  {"name":"fillDeadline","type":"uint32","indexed":false},
  {"name":"exclusivityDeadline","type":"uint32","indexed":false},
  {"name":"exclusiveRelayer","type":"address","indexed":false},
  {"name":"relayer","type":"address","indexed":true},
  {"name":"depositor","type":"address","indexed":false},
  {"name":"recipient","type":"address","indexed":false},
  {"name":"message","type":"bytes","indexed":false},
  {"name":"relayExecutionInfo","type":"tuple","indexed":false,"components":[
   {"name":"updatedRecipient","type":"address"},
   {"name":"updatedMessage","type":"bytes"},
   {"name":"updatedOutputAmount","type":"uint256"},
   {"name":"fillType","type":"uint8"}]}]},
 {"type":"event","name":"FilledRelay","anonymous":false,"inputs":[
  {"name":"inputToken","type":"bytes32","indexed":false},
  {"name":"outputToken","type":"bytes32","indexed":false},
  {"name":"inputAmount","type":"uint256","indexed":false},
  {"name":"outputAmount","type":"uint256","indexed":false},
  {"name":"repaymentChainId","type":"uint256","indexed":false},
  {"name":"originChainId","type":"uint256","indexed":true},
  {"name":"depositId","type":"uint256","indexed":true},
  {"name":"fillDeadline","type":"uint32","indexed":false},
  {"name":"exclusivityDeadline","type":"uint32","indexed":false},
  {"name":"exclusiveRelayer","type":"bytes32","indexed":false},
  {"name":"relayer","type":"bytes32","indexed":true},
  {"name":"depositor","type":"bytes32","indexed":false},
  {"name":"recipient","type":"bytes32","indexed":false},
  {"name":"messageHash","type":"bytes32","indexed":false},
  {"name":"relayExecutionInfo","type":"tuple","indexed":false,"components":[
   {"name":"updatedRecipient","type":"bytes32"},
   {"name":"updatedMessageHash","type":"bytes32"},
   {"name":"updatedOutputAmount","type":"uint256"},
   {"name":"fillType","type":"uint8"}]}]},
 {"type":"event","name":"OFTSent","anonymous":false,"inputs":[
  {"name":"guid","type":"bytes32","indexed":true},
  {"name":"dstEid","type":"uint32","indexed":false},
  {"name":"fromAddress","type":"address","indexed":true},
  {"name":"amountSentLD","type":"uint256","indexed":false},
  {"name":"amountReceivedLD","type":"uint256","indexed":false}]},
 {"type":"event","name":"OFTReceived","anonymous":false,"inputs":[
  {"name":"guid","type":"bytes32","indexed":true},
  {"name":"srcEid","type":"uint32","indexed":false},
  {"name":"toAddress","type":"address","indexed":true},
  {"name":"amountReceivedLD","type":"uint256","indexed":false}]},
 {"type":"event","name":"PacketSent","anonymous":false,"inputs":[
  {"name":"encodedPayload","type":"bytes","indexed":false},
  {"name":"options","type":"bytes","indexed":false},
  {"name":"sendLibrary","type":"address","indexed":false}]},
 {"type":"event","name":"PacketDelivered","anonymous":false,"inputs":[
  {"name":"origin","type":"tuple","indexed":false,"components":[
   {"name":"srcEid","type":"uint32"},
   {"name":"sender","type":"bytes32"},
   {"name":"nonce","type":"uint64"}]},
  {"name":"receiver","type":"address","indexed":false}]}
]`

var (
	events = mustABI(eventsABI)
	// byTopic maps topic0 to the event it identifies.
	byTopic = func() map[common.Hash]abi.Event {
		m := map[common.Hash]abi.Event{}
		for _, e := range events.Events {
			m[e.ID] = e
		}
		return m
	}()
)

func mustABI(s string) abi.ABI {
	a, err := abi.JSON(strings.NewReader(s))
	if err != nil {
		panic(err) // a constant: any error shows in every test run
	}
	return a
}

// Topics lists the topic0 of every decoded event, for an eth_getLogs filter.
func Topics() []common.Hash {
	var out []common.Hash
	for _, name := range []string{"V3FundsDeposited", "FundsDeposited", "FilledV3Relay", "FilledRelay", "OFTSent", "OFTReceived", "PacketSent", "PacketDelivered"} {
		out = append(out, events.Events[name].ID)
	}
	return out
}

// DepositTopics lists the topic0 of the deposit events a bridge contract
// emits when value is handed to it (Across FundsDeposited and
// V3FundsDeposited, OFTSent), for an eth_getLogs filter on the contracts a
// traced address paid.
func DepositTopics() []common.Hash {
	return topicsOf("V3FundsDeposited", "FundsDeposited", "OFTSent")
}

// FillTopics lists the topic0 of p's fill events on a destination chain
// (Across FilledRelay and FilledV3Relay, OFTReceived); none for LayerZero
// packets, which carry no amount.
func FillTopics(p Protocol) []common.Hash {
	switch p {
	case Across:
		return topicsOf("FilledV3Relay", "FilledRelay")
	case Stargate:
		return topicsOf("OFTReceived")
	}
	return nil
}

func topicsOf(names ...string) []common.Hash {
	out := make([]common.Hash, len(names))
	for i, n := range names {
		out[i] = events.Events[n].ID
	}
	return out
}

// Decode reads one log. ok is false for a log that is none of the bridge
// events (another topic, or removed); err is set when the topic is one but
// the log does not decode (wrong topic count, short or malformed data): a
// contract that merely borrows the topic.
func Decode(l types.Log) (ev Event, ok bool, err error) {
	if l.Removed || len(l.Topics) == 0 {
		return Event{}, false, nil
	}
	def, known := byTopic[l.Topics[0]]
	if !known {
		return Event{}, false, nil
	}
	var indexed abi.Arguments
	for _, in := range def.Inputs {
		if in.Indexed {
			indexed = append(indexed, in)
		}
	}
	if len(l.Topics) != 1+len(indexed) {
		return Event{}, true, fmt.Errorf("bridges: %s in tx %s: %d topics, want %d", def.Name, l.TxHash.Hex(), len(l.Topics), 1+len(indexed))
	}
	fields := map[string]any{}
	if err := abi.ParseTopicsIntoMap(fields, indexed, l.Topics[1:]); err != nil {
		return Event{}, true, fmt.Errorf("bridges: %s in tx %s: topics: %w", def.Name, l.TxHash.Hex(), err)
	}
	if err := def.Inputs.NonIndexed().UnpackIntoMap(fields, l.Data); err != nil {
		return Event{}, true, fmt.Errorf("bridges: %s in tx %s: data: %w", def.Name, l.TxHash.Hex(), err)
	}
	ev = Event{Name: def.Name, Contract: l.Address.Hex(), TxHash: l.TxHash.Hex(), Block: l.BlockNumber, TxIndex: l.TxIndex, LogIndex: l.Index, Time: int64(l.BlockTimestamp)}
	f := reader{fields: fields}
	switch def.Name {
	case "V3FundsDeposited", "FundsDeposited":
		ev.Protocol, ev.Side = Across, Deposit
		ev.DepositID = f.bigInt("depositId")
		ev.DestChainID = f.uint64("destinationChainId")
		ev.FillDeadline = int64(f.uint64("fillDeadline"))
		ev.Depositor, ev.Recipient = f.addr("depositor"), f.addr("recipient")
		ev.InputToken, ev.OutputToken = f.addr("inputToken"), f.addr("outputToken")
		ev.InputAmount, ev.OutputAmount = f.bigInt("inputAmount"), f.bigInt("outputAmount")
	case "FilledV3Relay", "FilledRelay":
		ev.Protocol, ev.Side = Across, Fill
		ev.DepositID = f.bigInt("depositId")
		ev.OriginChainID = f.uint64("originChainId")
		ev.FillDeadline = int64(f.uint64("fillDeadline"))
		ev.Depositor = f.addr("depositor")
		ev.InputToken, ev.OutputToken = f.addr("inputToken"), f.addr("outputToken")
		ev.InputAmount = f.bigInt("inputAmount")
		// The relayer pays the updated recipient the updated amount (equal to
		// the deposit's unless the depositor sped the deposit up).
		info := f.tuple("relayExecutionInfo")
		ev.Recipient, ev.OutputAmount = info.addr("updatedRecipient"), info.bigInt("updatedOutputAmount")
	case "OFTSent":
		ev.Protocol, ev.Side = Stargate, Deposit
		ev.GUID = f.hash("guid")
		ev.DstEID = uint32(f.uint64("dstEid"))
		ev.Depositor = f.addr("fromAddress")
		ev.InputAmount, ev.OutputAmount = f.bigInt("amountSentLD"), f.bigInt("amountReceivedLD")
	case "OFTReceived":
		ev.Protocol, ev.Side = Stargate, Fill
		ev.GUID = f.hash("guid")
		ev.SrcEID = uint32(f.uint64("srcEid"))
		ev.Recipient = f.addr("toAddress")
		ev.OutputAmount = f.bigInt("amountReceivedLD")
	case "PacketSent":
		ev.Protocol, ev.Side = LayerZero, Deposit
		if err := ev.readPacket(f.bytes("encodedPayload")); err != nil && f.err == nil {
			f.err = err
		}
	case "PacketDelivered":
		ev.Protocol, ev.Side = LayerZero, Fill
		o := f.tuple("origin")
		ev.SrcEID, ev.Sender, ev.Nonce = uint32(o.uint64("srcEid")), o.addr("sender"), o.uint64("nonce")
		ev.Receiver = f.addr("receiver")
		f.err = cmp.Or(f.err, o.err)
	}
	if f.err != nil {
		return Event{}, true, fmt.Errorf("bridges: %s in tx %s: %w", def.Name, l.TxHash.Hex(), f.err)
	}
	return ev, true, nil
}

// reader reads unpacked ABI fields, keeping the first type error.
type reader struct {
	fields map[string]any
	err    error
}

func (r *reader) fail(name string, v any) {
	if r.err == nil {
		r.err = fmt.Errorf("field %s: unexpected %T", name, v)
	}
}

func (r *reader) bigInt(name string) *big.Int {
	switch v := r.fields[name].(type) {
	case *big.Int:
		return new(big.Int).Set(v)
	case uint64:
		return new(big.Int).SetUint64(v)
	case uint32:
		return new(big.Int).SetUint64(uint64(v))
	case uint8:
		return new(big.Int).SetUint64(uint64(v))
	default:
		r.fail(name, v)
		return new(big.Int)
	}
}

func (r *reader) uint64(name string) uint64 {
	n := r.bigInt(name)
	if !n.IsUint64() {
		if r.err == nil {
			r.err = fmt.Errorf("field %s: %s does not fit 64 bits", name, n)
		}
		return 0
	}
	return n.Uint64()
}

func (r *reader) bytes(name string) []byte {
	if v, ok := r.fields[name].([]byte); ok {
		return v
	}
	r.fail(name, r.fields[name])
	return nil
}

// readPacket reads a LayerZero V1-codec packet: version (1 byte), nonce
// (8), source eid (4), sender (32), destination eid (4), receiver (32),
// guid (32), then the message.
func (e *Event) readPacket(p []byte) error {
	const header = 1 + 8 + 4 + 32 + 4 + 32 + 32
	if len(p) < header || p[0] != 1 {
		return fmt.Errorf("packet of %d bytes, version %v: want version 1 and %d header bytes", len(p), p[:min(1, len(p))], header)
	}
	e.Nonce = binary.BigEndian.Uint64(p[1:9])
	e.SrcEID = binary.BigEndian.Uint32(p[9:13])
	e.Sender = Bytes32Address([32]byte(p[13:45]))
	e.DstEID = binary.BigEndian.Uint32(p[45:49])
	e.Receiver = Bytes32Address([32]byte(p[49:81]))
	e.GUID = common.BytesToHash(p[81:113]).Hex()
	return nil
}

func (r *reader) hash(name string) string {
	if v, ok := r.fields[name].([32]byte); ok {
		return common.Hash(v).Hex()
	}
	if v, ok := r.fields[name].(common.Hash); ok {
		return v.Hex()
	}
	r.fail(name, r.fields[name])
	return ""
}

// addr reads an address field, or a bytes32 one holding an address.
func (r *reader) addr(name string) string {
	switch v := r.fields[name].(type) {
	case common.Address:
		return v.Hex()
	case [32]byte:
		return Bytes32Address(v)
	case common.Hash:
		return Bytes32Address(v)
	default:
		r.fail(name, v)
		return ""
	}
}

// tuple reads a struct field through the anonymous struct abi unpacks it
// into.
func (r *reader) tuple(name string) *reader {
	sub := &reader{fields: map[string]any{}}
	v := r.fields[name]
	if err := structFields(v, sub.fields); err != nil {
		r.fail(name, v)
	}
	if r.err != nil {
		sub.err = r.err
	}
	return sub
}

// Bytes32Address is an address carried in 32 bytes (Across V3.5 events):
// EIP-55 hex when the first 12 bytes are zero, else the 32-byte hex (an
// account of a non-EVM chain).
func Bytes32Address(b [32]byte) string {
	for _, c := range b[:12] {
		if c != 0 {
			return common.Hash(b).Hex()
		}
	}
	return common.BytesToAddress(b[12:]).Hex()
}
