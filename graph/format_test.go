package graph

import (
	"math/big"
	"testing"

	"github.com/flowtrace/flowtrace/tracer"
)

func TestFormatAmount(t *testing.T) {
	cases := []struct {
		v        string
		decimals uint8
		want     string
	}{
		{"0", 18, "0"},
		{"1", 18, "<0.0001"},
		{"50000000000000", 18, "0.0001"}, // 0.00005 rounds half up
		{"49999999999999", 18, "<0.0001"},
		{"1000000000000000000", 18, "1"},
		{"1234567800000000000000", 18, "1,234.5678"},
		{"1234567850000000000000", 18, "1,234.5679"},
		{"999999999999999999999", 18, "1,000"},
		{"10000000000000000000000000", 18, "10,000,000"},
		{"1000000000", 6, "1,000"},
		{"12345", 2, "123.45"},
		{"5", 0, "5"},
		{"1234567", 0, "1,234,567"},
		{"123", 1, "12.3"},
		{"-1500000000000000000", 18, "-1.5"},
	}
	for _, c := range cases {
		v, _ := new(big.Int).SetString(c.v, 10)
		if got := FormatAmount(v, c.decimals); got != c.want {
			t.Errorf("FormatAmount(%s, %d) = %q, want %q", c.v, c.decimals, got, c.want)
		}
	}
	if got := FormatAmount(nil, 18); got != "0" {
		t.Errorf("FormatAmount(nil) = %q", got)
	}
}

func TestShare(t *testing.T) {
	cases := []struct {
		part, whole int64
		want        string
	}{
		{1, 3, "33.33%"}, {2, 3, "66.67%"}, {1, 1, "100.00%"}, {0, 5, "0.00%"}, {1, 0, "0.00%"},
		{1, 20000, "0.01%"}, {1, 20001, "0.00%"}, {4, 15, "26.67%"}, {3, 2, "150.00%"},
	}
	for _, c := range cases {
		if got := Share(big.NewInt(c.part), big.NewInt(c.whole)); got != c.want {
			t.Errorf("Share(%d, %d) = %q, want %q", c.part, c.whole, got, c.want)
		}
	}
	if got := Share(nil, big.NewInt(1)); got != "0.00%" {
		t.Errorf("Share(nil) = %q", got)
	}
}

func TestShortAddress(t *testing.T) {
	for in, want := range map[tracer.Address]string{
		"0x1234567890abcdef1234567890abcdef12345678": "0x1234…5678",
		"0x12":          "0x12",
		"bc1qxyzxyzxyz": "bc1qxy…zxyz",
	} {
		if got := ShortAddress(in); got != want {
			t.Errorf("ShortAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDOTText(t *testing.T) {
	if got := dotText("a\x00b\tc\u2028d\xffe\nf"); got != "a b c d\uFFFDe\nf" {
		t.Errorf("dotText = %q", got)
	}
	if got := clip("a\n b   c", 10); got != "a b c" {
		t.Errorf("clip = %q", got)
	}
	if got := clip("abcdefgh", 5); got != "abcd…" {
		t.Errorf("clip = %q", got)
	}
}
