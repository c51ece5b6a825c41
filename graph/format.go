package graph

import (
	"math/big"
	"strings"

	"github.com/flowtrace/flowtrace/tracer"
)

// humanDecimals is how many fractional digits FormatAmount keeps.
const humanDecimals = 4

// FormatAmount writes a base-unit amount in whole units for people: rounded
// half up to 4 decimals, trailing zeros dropped, thousands separated by
// commas ("10,000", "0.1235"). A positive amount that rounds to zero is
// "<0.0001" (or "<1" ... for fewer decimals).
func FormatAmount(v *big.Int, decimals uint8) string {
	if v == nil {
		return "0"
	}
	keep := min(int(decimals), humanDecimals)
	// Round to keep decimals: q = round(|v| / 10^(decimals-keep)).
	q := new(big.Int).Abs(v)
	if drop := int(decimals) - keep; drop > 0 {
		div := pow10[drop]
		var r big.Int
		q.QuoRem(q, div, &r)
		if r.Lsh(&r, 1).Cmp(div) >= 0 {
			q.Add(q, bigOne)
		}
	}
	if q.Sign() == 0 && v.Sign() != 0 {
		return "<0." + strings.Repeat("0", keep-1) + "1"
	}
	digits := q.String()
	if len(digits) <= keep {
		digits = strings.Repeat("0", keep-len(digits)+1) + digits
	}
	whole, frac := digits[:len(digits)-keep], strings.TrimRight(digits[len(digits)-keep:], "0")
	s := groupThousands(whole)
	if frac != "" {
		s += "." + frac
	}
	if v.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// pow10 holds 10^i for every number of decimals a token can have; read only.
var pow10 = func() (p [256]*big.Int) {
	ten := big.NewInt(10)
	p[0] = big.NewInt(1)
	for i := 1; i < len(p); i++ {
		p[i] = new(big.Int).Mul(p[i-1], ten)
	}
	return p
}()

var bigOne = big.NewInt(1)

func groupThousands(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// Share is part/whole as a percentage with two decimals, rounded half up
// ("12.34%"); "0.00%" when whole is zero.
func Share(part, whole *big.Int) string {
	if part == nil || whole == nil || whole.Sign() == 0 {
		return "0.00%"
	}
	p, w := new(big.Int).Abs(part), new(big.Int).Abs(whole)
	// Hundredths of a percent: round(p * 10000 / w).
	n, r := new(big.Int).QuoRem(p.Mul(p, big.NewInt(10000)), w, new(big.Int))
	if r.Lsh(r, 1).Cmp(w) >= 0 {
		n.Add(n, big.NewInt(1))
	}
	s := n.String()
	if len(s) < 3 {
		s = strings.Repeat("0", 3-len(s)) + s
	}
	if part.Sign()*whole.Sign() < 0 && n.Sign() != 0 {
		s = "-" + s
	}
	return s[:len(s)-2] + "." + s[len(s)-2:] + "%"
}

// ShortAddress abbreviates a long address as its first 6 and last 4
// characters ("0x1234…abcd"); short ones are returned whole.
func ShortAddress(a tracer.Address) string {
	s := string(a)
	r := []rune(s)
	if len(r) <= 12 {
		return s
	}
	return string(r[:6]) + "…" + string(r[len(r)-4:])
}
