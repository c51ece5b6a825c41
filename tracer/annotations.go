package tracer

// Annotation keys: chain adapters put decoded, chain-specific findings on a
// Transfer's Annotations under these names; the graph's pattern detectors
// read them. Values are plain text.
const (
	// AnnBridge names the cross-chain protocol a deposit went into ("thorchain", "mayachain").
	AnnBridge = "bridge"
	// AnnMemo is the deposit's memo as written.
	AnnMemo = "memo"
	// AnnDestChain, AnnDestAsset and AnnDestAddress say where the bridge pays
	// out: the flowtrace chain name, the asset in the protocol's notation and
	// the recipient address.
	AnnDestChain   = "dest_chain"
	AnnDestAsset   = "dest_asset"
	AnnDestAddress = "dest_address"
	// AnnDestLimit is the minimum output the memo asks for, in the
	// protocol's base units (1e8 for THORChain); absent when none.
	AnnDestLimit = "dest_limit"
	// AnnDestDecimals is the number of decimals of AnnDestLimit.
	AnnDestDecimals = "dest_decimals"
	// AnnRefundAddress is where a failed cross-chain swap is refunded.
	AnnRefundAddress = "refund_address"
	// AnnMixer names the mixer a deposit went into ("tornado").
	AnnMixer = "mixer"
	// AnnCommitment is the mixer deposit's commitment (hex).
	AnnCommitment = "commitment"
	// AnnWithdrawals lists the pool's withdrawals after the deposit inside
	// the window: "block/tx hash/recipient" entries separated by spaces.
	AnnWithdrawals = "mixer_withdrawals"
)
