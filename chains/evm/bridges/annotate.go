package bridges

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/flowtrace/flowtrace/chains/networks"
	"github.com/flowtrace/flowtrace/tracer"
)

// Annotation keys this package adds beside tracer's (tracer.AnnBridge,
// AnnDestChain, AnnDestAddress, AnnDestAsset); values are plain text.
const (
	AnnSide        = "bridge_side"         // deposit or fill
	AnnDepositID   = "bridge_deposit_id"   // Across deposit id (decimal)
	AnnGUID        = "bridge_guid"         // LayerZero message guid (hex)
	AnnNonce       = "bridge_nonce"        // LayerZero packet nonce on its path
	AnnDestAmount  = "bridge_dest_amount"  // what the deposit asks to be paid out, base units of AnnDestAsset
	AnnOriginChain = "bridge_origin_chain" // on a fill: the chain the deposit was made on
	AnnPair        = "bridge_pair"         // paired, pending or not_found
	AnnFillChain   = "bridge_fill_chain"   // the paired fill's chain
	AnnFillTx      = "bridge_fill_tx"      // the paired fill's transaction
	AnnReceived    = "bridge_received"     // what the fill paid, base units
	AnnConfidence  = "bridge_confidence"   // of the pairing, 0 to 1
	AnnDoubts      = "bridge_doubts"       // what lowered it, "; "-separated
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
	return ann
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
