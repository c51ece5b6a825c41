package tracer

import (
	"slices"
	"strings"
)

// credit books what the seeds received: the stolen value, and (with
// Options.TheftTxs) the other genuine inflows as known clean value. Every
// other inflow read is listed as skipped with its reason.
func (w *walker) credit(in []Transfer) {
	theft := map[string]bool{}
	for _, h := range w.opts.TheftTxs {
		theft[strings.ToLower(h)] = false
	}
	for _, t := range in {
		w.read[t.ID()] = true
		if _, isSeed := w.nodes[t.To]; !isSeed {
			w.skip(t, "not received by a seed (the source answered more than asked)")
			continue
		}
		if t.From == t.To {
			w.skip(t, "self-transfer (moves nothing)")
			continue
		}
		if tr := w.trust(t); tr == TrustNFT || tr == TrustZeroValue || tr == TrustImpersonating || tr == TrustFailed {
			w.skip(t, "not credited to the seed: "+w.trustReason(t, tr))
			continue
		}
		if !w.followable(t) {
			w.skip(t, "not credited to the seed: token "+string(t.Asset)+" has no token metadata")
			continue
		}
		if len(theft) > 0 {
			h := strings.ToLower(t.TxHash)
			if _, ok := theft[h]; ok {
				theft[h] = true
				w.ledger.addCredit(t, true)
				w.ledger.theft[t.ID()] = true
			} else {
				w.ledger.addCredit(t, false)
				w.skip(t, "not credited as stolen: not one of the theft transactions (counted in the seed's balance)")
			}
			continue
		}
		if w.unsolicited(t) {
			w.skip(t, "not credited to the seed: unrecognised token minted or sent to it in a transaction neither it nor the sender signed (airdrop or spoofed; name the theft with --theft-tx to credit it)")
			continue
		}
		w.ledger.addCredit(t, true)
	}
	w.basis = w.stolenBasis(theft)
}

// unsolicited reports whether an inflow of a seed is a token the registry
// does not recognise that the seed did not ask for: minted to it, or sent in
// a transaction neither the seed nor the claimed sender signed (an airdrop,
// a spoofed event). A victim's own transfer (the sender signed) and a pull
// by the seed (the seed signed) count. Without a registry every token is
// credited as before.
func (w *walker) unsolicited(t Transfer) bool {
	if t.Asset == NativeAsset || w.opts.Tokens == nil || w.opts.Tokens.Recognised(w.opts.Chain, Address(t.Asset)) {
		return false
	}
	if t.TxFrom == t.To {
		return false
	}
	return t.From == ZeroAddress || t.TxFrom != t.From
}

// stolenBasis says how the stolen value was derived.
func (w *walker) stolenBasis(theft map[string]bool) string {
	if len(theft) == 0 {
		s := "everything of value the seeds received in the window"
		if w.opts.Tokens != nil {
			s += " (the native coin, recognised tokens, and other tokens their sender or the seed signed for; impersonating, airdropped and spoofed tokens excluded)"
		}
		return s
	}
	var hashes, empty []string
	for h, used := range theft {
		hashes = append(hashes, h)
		if !used {
			empty = append(empty, h)
		}
	}
	slices.Sort(hashes)
	slices.Sort(empty)
	s := "what the theft transactions " + strings.Join(hashes, ", ") + " moved to the seeds"
	if len(empty) > 0 {
		s += "; " + strings.Join(empty, ", ") + " moved nothing to them in the window"
	}
	return s
}
