package bitcoin

import (
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

func mustAddr[A address.Address](t testing.TB) func(A, error) string {
	return func(a A, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a.EncodeAddress()
	}
}

// flip changes the last character of s to another of the same alphabet.
func flip(s string) string {
	last := s[len(s)-1]
	repl := byte('q')
	if last == 'q' {
		repl = 'p'
	}
	return s[:len(s)-1] + string(repl)
}

func TestParseAddress(t *testing.T) {
	prog := make([]byte, 20)
	for i := range prog {
		prog[i] = byte(i * 7)
	}
	main := &chaincfg.MainNetParams
	reg := &chaincfg.RegressionNetParams
	wpkhMain := mustAddr[*address.AddressWitnessPubKeyHash](t)(address.NewAddressWitnessPubKeyHash(prog, main))
	wpkhReg := mustAddr[*address.AddressWitnessPubKeyHash](t)(address.NewAddressWitnessPubKeyHash(prog, reg))
	tr := mustAddr[*address.AddressTaproot](t)(address.NewAddressTaproot(append(prog, prog[:12]...), main)) // bech32m
	p2sh := mustAddr[*address.AddressScriptHash](t)(address.NewAddressScriptHashFromHash(prog, main))
	genesis := "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa" // the genesis block's coinbase address
	tests := []struct {
		in      string
		net     *chaincfg.Params
		want    string // canonical form, or "" when an error is wanted
		errWord string
	}{
		{genesis, main, genesis, ""},
		{" " + genesis + "\n", main, genesis, ""},
		{p2sh, main, p2sh, ""},
		{wpkhMain, main, wpkhMain, ""},
		{strings.ToUpper(wpkhMain), main, wpkhMain, ""},
		{tr, main, tr, ""},
		{wpkhReg, reg, wpkhReg, ""},
		{genesis, reg, "", "is a mainnet address, but the node serves regtest"},
		{wpkhReg, main, "", "is a regtest address, but the node serves mainnet"},
		{wpkhMain, reg, "", "is a mainnet address, but the node serves regtest"},
		{flip(genesis), main, "", "not a valid Bitcoin address"},
		{flip(wpkhMain), main, "", "not a valid bech32 address for bc"},
		{flip(tr), main, "", "not a valid bech32 address for bc"},
		{wpkhMain[:len(wpkhMain)-1], main, "", "not a valid bech32 address"},
		{"0x52908400098527886E0F7030069857D2E4169EE7", main, "", "is an Ethereum (EVM) address"},
		{"", main, "", "empty"},
		{"hello", main, "", "not a valid Bitcoin address"},
	}
	for _, tt := range tests {
		got, err := ParseAddress(tt.in, tt.net)
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseAddress(%q, %s) = %q, %v; want %q", tt.in, tt.net.Name, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.errWord) {
			t.Errorf("ParseAddress(%q, %s) = %q, %v; want an error saying %q", tt.in, tt.net.Name, got, err, tt.errWord)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseAddress(%q): message of several lines: %v", tt.in, err)
		}
	}
	if _, err := ParseAddress("0x52908400098527886E0F7030069857D2E4169EE7", main); !errors.Is(err, ErrNotBitcoin) {
		t.Errorf("an EVM address is not ErrNotBitcoin: %v", err)
	}
	if !LooksLikeAddress(wpkhReg) || !LooksLikeAddress(genesis) || LooksLikeAddress("0x52908400098527886E0F7030069857D2E4169EE7") {
		t.Error("LooksLikeAddress misjudges")
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "bcrt1q", "0x0000000000000000000000000000000000000000", "", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, net := range knownNets {
			got, err := ParseAddress(s, net)
			if err != nil {
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("message of several lines: %v", err)
				}
				continue
			}
			again, err := ParseAddress(got, net)
			if err != nil || again != got {
				t.Fatalf("canonical form %q of %q does not parse to itself: %q, %v", got, s, again, err)
			}
		}
	})
}
