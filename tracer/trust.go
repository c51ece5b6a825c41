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
