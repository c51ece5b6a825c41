package bridges

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/flowtrace/flowtrace/chains/networks"
	"github.com/flowtrace/flowtrace/tracer"
)

// Annotation keys this package adds beside tracer's (tracer.AnnBridge,
// AnnDestChain, AnnDestAddress, AnnDestAsset); values are plain text.
const (
	AnnSide        = "bridge_side"               // deposit or fill
	AnnDepositID   = "bridge_deposit_id"         // Across deposit id (decimal)
	AnnGUID        = "bridge_guid"               // LayerZero message guid (hex)
	AnnNonce       = "bridge_nonce"              // LayerZero packet nonce on its path
	AnnDestAmount  = "bridge_dest_amount"        // what the deposit asks to be paid out, base units of AnnDestAsset
	AnnOriginChain = "bridge_origin_chain"       // on a fill: the chain the deposit was made on
	AnnPair        = "bridge_pair"               // paired, pending or not_found
	AnnFillChain   = "bridge_fill_chain"         // the paired fill's chain
	AnnFillTx      = "bridge_fill_tx"            // the paired fill's transaction
	AnnReceived    = "bridge_received"           // what the fill paid, base units
	AnnConfidence  = tracer.AnnPairingConfidence // of the pairing, 0 to 1
	AnnDoubts      = tracer.AnnPairingDoubts     // what lowered it, "; "-separated
	// The rest of a deposit event, so that DepositEvent can read it back
	// from the transfer (a hop cache keeps annotations, not logs).
	AnnEvent        = "bridge_event"         // the event's name, e.g. "FundsDeposited"
	AnnEmitter      = "bridge_emitter"       // the contract that emitted it
	AnnLogIndex     = "bridge_log_index"     // its log index
	AnnDepositor    = "bridge_depositor"     // who deposited
	AnnInputToken   = "bridge_input_token"   // Across: the token deposited
	AnnInputAmount  = "bridge_input_amount"  // what was deposited, base units
	AnnFillDeadline = "bridge_fill_deadline" // Across: unix seconds after which it is refunded
)

// Annotations are the chain-neutral annotations of e for the transfer into
// (deposit) or out of (fill) the bridge contract in e's transaction.
func Annotations(e Event) map[string]string {
	ann := map[string]string{tracer.AnnBridge: string(e.Protocol), AnnSide: string(e.Side)}
	set := func(k, v string) {
		if v != "" {
			ann[k] = v
		}
	}
	switch e.Protocol {
	case Across:
		set(AnnDepositID, e.DepositID.String())
		if e.Side == Deposit {
			set(tracer.AnnDestChain, chainByID(e.DestChainID))
		} else {
			set(AnnOriginChain, chainByID(e.OriginChainID))
		}
		set(tracer.AnnDestAsset, e.OutputToken)
	case LayerZero:
		set(AnnGUID, e.GUID)
		set(AnnNonce, strconv.FormatUint(e.Nonce, 10))
		if e.Side == Deposit {
			set(tracer.AnnDestChain, chainByEID(e.DstEID))
		} else {
			set(AnnOriginChain, chainByEID(e.SrcEID))
		}
		set(tracer.AnnDestAddress, e.Receiver)
	case Stargate:
		set(AnnGUID, e.GUID)
		if e.Side == Deposit {
			set(tracer.AnnDestChain, chainByEID(e.DstEID))
		} else {
			set(AnnOriginChain, chainByEID(e.SrcEID))
		}
	}
	set(tracer.AnnDestAddress, e.Recipient)
	if e.OutputAmount != nil {
		set(AnnDestAmount, e.OutputAmount.String())
	}
	set(AnnEvent, e.Name)
	set(AnnEmitter, e.Contract)
	ann[AnnLogIndex] = strconv.FormatUint(uint64(e.LogIndex), 10)
	set(AnnDepositor, e.Depositor)
	set(AnnInputToken, e.InputToken)
	if e.InputAmount != nil {
		set(AnnInputAmount, e.InputAmount.String())
	}
	if e.FillDeadline > 0 {
		set(AnnFillDeadline, strconv.FormatInt(e.FillDeadline, 10))
	}
	return ann
}

// DepositEvent reads back the Across or Stargate deposit event that
// Annotations wrote on a transfer, less what the transfer itself carries
// (TxHash, Block, TxIndex, Time), which the caller sets.
func DepositEvent(ann map[string]string) (Event, error) {
	e := Event{Protocol: Protocol(ann[tracer.AnnBridge]), Side: Side(ann[AnnSide]), Name: ann[AnnEvent], Contract: ann[AnnEmitter],
		Depositor: ann[AnnDepositor], Recipient: ann[tracer.AnnDestAddress], InputToken: ann[AnnInputToken], OutputToken: ann[tracer.AnnDestAsset]}
	if e.Side != Deposit || (e.Protocol != Across && e.Protocol != Stargate) {
		return Event{}, fmt.Errorf("bridges: annotations of %q %q: not an Across or Stargate deposit", e.Protocol, e.Side)
	}
	var err error
	num := func(k string) *big.Int {
		v, ok := new(big.Int).SetString(ann[k], 10)
		if !ok && ann[k] != "" && err == nil {
			err = fmt.Errorf("bridges: annotation %s %q is not a number", k, ann[k])
		}
		if !ok {
			return nil
		}
		return v
	}
	e.InputAmount, e.OutputAmount = num(AnnInputAmount), num(AnnDestAmount)
	if n := num(AnnLogIndex); n != nil && n.IsUint64() {
		e.LogIndex = uint(n.Uint64())
	}
	if n := num(AnnFillDeadline); n != nil && n.IsInt64() {
		e.FillDeadline = n.Int64()
	}
	dest := ann[tracer.AnnDestChain]
	switch e.Protocol {
	case Across:
		e.DepositID = num(AnnDepositID)
		if n, ok := networks.Lookup(dest); ok {
			e.DestChainID = uint64(n.ChainID)
		} else if id, found := strings.CutPrefix(dest, "eip155:"); found {
			e.DestChainID, _ = strconv.ParseUint(id, 10, 64)
		}
		if e.DepositID == nil && err == nil {
			err = errors.New("bridges: an Across deposit without its deposit id")
		}
	case Stargate:
		e.GUID = ann[AnnGUID]
		if n, ok := networks.Lookup(dest); ok {
			e.DstEID = n.LayerZeroEID
		} else if eid, found := strings.CutPrefix(dest, "lz:"); found {
			v, _ := strconv.ParseUint(eid, 10, 32)
			e.DstEID = uint32(v)
		}
		if e.GUID == "" && err == nil {
			err = errors.New("bridges: a Stargate send without its guid")
		}
	}
	return e, err
}

// PairAnnotations are the annotations a paired (or unpaired) deposit adds
// to the transfer into the bridge: both legs are the evidence.
func PairAnnotations(p Pair) map[string]string {
	ann := map[string]string{AnnPair: string(p.Status)}
	if p.Fill == nil {
		return ann
	}
	ann[AnnFillChain] = p.Fill.Chain
	ann[AnnFillTx] = p.Fill.Event.TxHash
	if p.Received != nil {
		ann[AnnReceived] = p.Received.String()
	}
	ann[AnnConfidence] = strconv.FormatFloat(p.Confidence, 'f', 2, 64)
	if len(p.Doubts) > 0 {
		ann[AnnDoubts] = strings.Join(p.Doubts, "; ")
	}
	return ann
}

// chainByID names a chain id: the chains/networks name, else "eip155:ID".
func chainByID(id uint64) string {
	if id == 0 {
		return ""
	}
	if n, ok := networks.ByChainID(new(big.Int).SetUint64(id)); ok {
		return n.Name
	}
	return "eip155:" + strconv.FormatUint(id, 10)
}

// chainByEID names a LayerZero endpoint id: the chains/networks name, else
// "lz:EID".
func chainByEID(eid uint32) string {
	if eid == 0 {
		return ""
	}
	if n, ok := networks.ByLayerZeroEID(eid); ok {
		return n.Name
	}
	return "lz:" + strconv.FormatUint(uint64(eid), 10)
}
