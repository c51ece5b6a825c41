package utxo

import "strings"

// Script types as Bitcoin Core names them (scriptPubKey.type).
const (
	PubKeyHash          = "pubkeyhash"
	ScriptHash          = "scripthash"
	WitnessV0KeyHash    = "witness_v0_keyhash"
	WitnessV0ScriptHash = "witness_v0_scripthash"
	WitnessV1Taproot    = "witness_v1_taproot"
	NullData            = "nulldata"
)

// AddressType is the script type an address pays to, read from its form
// alone (no checksum is verified: chains/bitcoin validates addresses):
// base58 1.../m.../n... pay to a key hash and 3.../2... to a script hash;
// a bech32 address's witness version and length tell v0 key hash (20 bytes)
// from v0 script hash and v1 taproot (32 bytes). "" when unknown.
func AddressType(addr string) string {
	if sep := strings.LastIndexByte(addr, '1'); sep > 0 && (prefixFold(addr, "bc1") || prefixFold(addr, "tb1") || prefixFold(addr, "bcrt1")) {
		data := addr[sep+1:] // witness version, program, 6 checksum characters
		if data == "" {
			return ""
		}
		switch v := data[0] | 0x20; { // lower case
		case len(data) == 1+32+6 && v == 'q':
			return WitnessV0KeyHash
		case len(data) == 1+52+6 && v == 'q':
			return WitnessV0ScriptHash
		case len(data) == 1+52+6 && v == 'p':
			return WitnessV1Taproot
		}
		return ""
	}
	if addr == "" {
		return ""
	}
	switch addr[0] {
	case '1', 'm', 'n':
		return PubKeyHash
	case '3', '2':
		return ScriptHash
	}
	return ""
}

func prefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// inputType is the script type of the output an input spends.
func inputType(in Input) string { return AddressType(in.Address) }

// outputType is an output's script type: the node's, else its address's.
func outputType(o Output) string {
	if o.ScriptType != "" {
		return o.ScriptType
	}
	return AddressType(o.Address)
}
