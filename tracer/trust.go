package tracer

// Trust says whether a transfer can carry value, decided once per transfer.
// Only TrustGenuine transfers carry or receive stolen value; every other
// class is listed under the trace's skipped transfers with its reason.
type Trust string

// Trust classes.
const (
	TrustGenuine       Trust = "genuine"       // real value of a real asset
	TrustSpoofed       Trust = "spoofed"       // an unrecognised contract's event whose claimed sender neither signed nor called in
	TrustImpersonating Trust = "impersonating" // a token copying a recognised token's symbol or name from another contract
	TrustZeroValue     Trust = "zero_value"    // nothing moved (address poisoning)
	TrustNFT           Trust = "nft"           // an ERC-721 transfer, not followed as value
	TrustFailed        Trust = "failed"        // the transaction or call reverted
)

// TokenRegistry recognises genuine token contracts (a bundled list of major
// tokens per chain, plus the user's label files).
type TokenRegistry interface {
	// Recognised reports whether token is a known genuine token on chain.
	Recognised(chain string, token Address) bool
	// Impersonates returns the recognised token whose symbol or name meta
	// copies, when token is not that token itself.
	Impersonates(chain string, token Address, meta Token) (Address, bool)
}

// trust classifies a transfer read by the walk (see Classify).
func (w *walker) trust(t Transfer) Trust {
	return Classify(t, w.opts.Chain, w.opts.Tokens,
		func(a Address) (Token, bool) { tok, ok := w.tokens[a]; return tok, ok },
		func(a Address) bool { n, ok := w.nodes[a]; return ok && n.IsContract })
}

// Classify is the trust rule for any caller (the walk, the transfers
// command): NFTs and zero values first; native value and recognised tokens
// are genuine; a token whose metadata (from meta, when described) copies a
// recognised token is impersonating; any other token event is genuine only
// when its claimed sender signed the transaction or is a contract (which
// acts only by calling, so it called into the token). reg may be nil.
func Classify(t Transfer, chain string, reg TokenRegistry, meta func(Address) (Token, bool), isContract func(Address) bool) Trust {
	switch {
	case t.Kind == KindERC721:
		return TrustNFT
	case t.Amount == nil || t.Amount.Sign() <= 0:
		return TrustZeroValue
	case t.Asset.Native():
		return TrustGenuine
	}
	tok := Address(t.Asset)
	if reg != nil {
		if reg.Recognised(chain, tok) {
			return TrustGenuine
		}
		if m, ok := meta(tok); ok {
			if _, imp := reg.Impersonates(chain, tok, m); imp {
				return TrustImpersonating
			}
		}
	}
	if t.TxFrom == t.From || isContract(t.From) {
		return TrustGenuine
	}
	return TrustSpoofed
}

// trustReason is the skip reason of a transfer that is not genuine.
func (w *walker) trustReason(t Transfer, tr Trust) string {
	switch tr {
	case TrustNFT:
		return "NFT transfer (not followed as value)"
	case TrustZeroValue:
		return "zero-value transfer (address poisoning)"
	case TrustImpersonating:
		s := "token " + string(t.Asset) + " impersonates"
		if reg := w.opts.Tokens; reg != nil {
			if real, ok := reg.Impersonates(w.opts.Chain, Address(t.Asset), w.tokens[Address(t.Asset)]); ok {
				s += " " + string(real)
			}
		}
		return s + " (impersonating token, not stolen value)"
	case TrustSpoofed:
		return "token event whose claimed sender did not sign the transaction (spoofed)"
	case TrustFailed:
		return "failed transaction (nothing moved)"
	}
	return ""
}
