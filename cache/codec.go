package cache

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/flowtrace/flowtrace/tracer"
)

// Entry kinds: the second byte of every value.
const (
	kindTransfers byte = 't'
	kindAccount   byte = 'a'
	kindToken     byte = 'k'
	kindBlock     byte = 'b'
)

// errCorrupt marks a value that cannot be decoded: a miss, overwritten later.
var errCorrupt = errors.New("cache: corrupt or foreign-format entry")

// seal frames a payload: version, kind, payload, CRC-32 of all before it.
func seal(kind byte, payload []byte) []byte {
	out := make([]byte, 0, len(payload)+6)
	out = append(out, FormatVersion, kind)
	out = append(out, payload...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out))
}

// open checks a framed value and returns its payload.
func open(kind byte, v []byte) ([]byte, error) {
	if len(v) < 6 || v[0] != FormatVersion || v[1] != kind {
		return nil, errCorrupt
	}
	body, sum := v[:len(v)-4], binary.BigEndian.Uint32(v[len(v)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errCorrupt
	}
	return body[2:], nil
}

// transferEntry is what is cached per (chain, direction, address): every
// transfer of the address on that side within the covered blocks.
type transferEntry struct {
	covered   tracer.BlockRange
	transfers []tracer.Transfer
}

// Transfers are encoded with a table of the distinct strings (addresses,
// assets, hashes) they use; 0x-hex strings are stored as bytes plus, when
// they have upper-case digits (EIP-55), a case bit per digit. Chain is not
// stored: it is the key's chain.

func encodeTransfers(e transferEntry) []byte {
	var w writer
	w.uvarint(e.covered.From)
	w.uvarint(e.covered.To)
	table := map[string]uint64{}
	var strs []string
	ref := func(s string) {
		if _, ok := table[s]; !ok {
			table[s] = uint64(len(strs))
			strs = append(strs, s)
		}
	}
	for _, t := range e.transfers {
		ref(t.TxHash)
		ref(string(t.From))
		ref(string(t.To))
		ref(string(t.Asset))
		ref(string(t.TxFrom))
	}
	w.uvarint(uint64(len(strs)))
	for _, s := range strs {
		w.str(s)
	}
	w.uvarint(uint64(len(e.transfers)))
	for _, t := range e.transfers {
		w.uvarint(t.BlockNumber)
		w.uvarint(uint64(t.TxIndex))
		w.varint(int64(t.Seq))
		w.varint(int64(t.LogIndex))
		w.bytes([]byte(t.Kind))
		for _, s := range []string{t.TxHash, string(t.From), string(t.To), string(t.Asset), string(t.TxFrom)} {
			w.uvarint(table[s])
		}
		if t.Amount == nil {
			w.bytes(nil)
		} else {
			w.bytes(t.Amount.Bytes()) // transfers never carry negative amounts
		}
		if t.TraceAddress == nil {
			w.uvarint(0)
		} else {
			w.uvarint(uint64(len(t.TraceAddress)) + 1)
			for _, n := range t.TraceAddress {
				w.uvarint(uint64(n))
			}
		}
		keys := slices.Sorted(maps.Keys(t.Annotations))
		w.uvarint(uint64(len(keys)))
		for _, k := range keys {
			w.bytes([]byte(k))
			w.bytes([]byte(t.Annotations[k]))
		}
	}
	return seal(kindTransfers, w.b)
}

func decodeTransfers(chain string, v []byte) (transferEntry, error) {
	p, err := open(kindTransfers, v)
	if err != nil {
		return transferEntry{}, err
	}
	r := reader{b: p}
	var e transferEntry
	e.covered.From, e.covered.To = r.uvarint(), r.uvarint()
	strs := make([]string, r.count())
	for i := range strs {
		strs[i] = r.str()
	}
	str := func() string {
		i := r.uvarint()
		if i >= uint64(len(strs)) {
			r.err = errCorrupt
			return ""
		}
		return strs[i]
	}
	n := r.count()
	e.transfers = make([]tracer.Transfer, 0, n)
	amounts := make([]big.Int, n) // one allocation for the n amounts
	for i := range n {
		t := tracer.Transfer{Chain: chain}
		t.BlockNumber = r.uvarint()
		t.TxIndex = uint(r.uvarint())
		t.Seq = int(r.varint())
		t.LogIndex = int(r.varint())
		t.Kind = kindOf(r.bytes())
		t.TxHash = str()
		t.From, t.To = tracer.Address(str()), tracer.Address(str())
		t.Asset = tracer.Asset(str())
		t.TxFrom = tracer.Address(str())
		t.Amount = amounts[i].SetBytes(r.bytes())
		if k := r.uvarint(); k > 0 {
			t.TraceAddress = make([]int, 0, min(k-1, uint64(len(r.b))))
			for range k - 1 {
				t.TraceAddress = append(t.TraceAddress, int(r.uvarint()))
				if r.err != nil {
					break
				}
			}
		}
		if k := r.count(); k > 0 {
			t.Annotations = make(map[string]string, k)
			for range k {
				key := string(r.bytes())
				t.Annotations[key] = string(r.bytes())
			}
		}
		if r.err != nil {
			return transferEntry{}, errCorrupt
		}
		e.transfers = append(e.transfers, t)
	}
	if r.err != nil || len(r.b) != 0 || e.covered.To < e.covered.From {
		return transferEntry{}, errCorrupt
	}
	return e, nil
}

// kindOf is the transfer kind spelled b: the known kinds without an allocation.
func kindOf(b []byte) tracer.TransferKind {
	for _, k := range []tracer.TransferKind{tracer.KindNative, tracer.KindInternal, tracer.KindERC20, tracer.KindERC721} {
		if string(k) == string(b) {
			return k
		}
	}
	return tracer.TransferKind(b)
}

func encodeAccount(a tracer.Account) []byte {
	b := byte(0)
	if a.IsContract {
		b = 1
	}
	return seal(kindAccount, []byte{b})
}

func decodeAccount(v []byte) (tracer.Account, error) {
	p, err := open(kindAccount, v)
	if err != nil || len(p) != 1 || p[0] > 1 {
		return tracer.Account{}, errCorrupt
	}
	return tracer.Account{IsContract: p[0] == 1}, nil
}

// Token entry layouts: the first payload byte.
const (
	tokenNone     byte = 0 // no metadata
	tokenNoName   byte = 1 // decimals, symbol: written before names were read; a miss
	tokenWithName byte = 2 // decimals, symbol, name
)

// encodeToken stores a token's metadata, or (t == nil) that it has none.
func encodeToken(t *tracer.Token) []byte {
	var w writer
	if t == nil {
		w.b = append(w.b, tokenNone)
	} else {
		w.b = append(w.b, tokenWithName, t.Decimals)
		w.bytes([]byte(t.Symbol))
		w.bytes([]byte(t.Name))
	}
	return seal(kindToken, w.b)
}

func decodeToken(v []byte) (*tracer.Token, error) {
	p, err := open(kindToken, v)
	if err != nil || len(p) == 0 {
		return nil, errCorrupt
	}
	if p[0] == tokenNone && len(p) == 1 {
		return nil, nil
	}
	// An entry without the name is a miss: the token is described again,
	// so that impersonation by name is judged on warm caches too.
	if p[0] != tokenWithName || len(p) < 2 {
		return nil, errCorrupt
	}
	r := reader{b: p[2:]}
	t := &tracer.Token{Decimals: p[1], Symbol: string(r.bytes()), Name: string(r.bytes())}
	if r.err != nil || len(r.b) != 0 {
		return nil, errCorrupt
	}
	return t, nil
}

type writer struct{ b []byte }

func (w *writer) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) varint(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *writer) bytes(p []byte)   { w.uvarint(uint64(len(p))); w.b = append(w.b, p...) }

// str writes s tagged: 0 raw, 1 lower-case 0x-hex as bytes, 2 0x-hex as
// bytes followed by one case bit per hex digit.
func (w *writer) str(s string) {
	raw, ok := hexBody(s)
	switch {
	case !ok:
		w.b = append(w.b, 0)
		w.bytes([]byte(s))
	case raw == strings.ToLower(raw):
		w.b = append(w.b, 1)
		w.bytes(mustHex(raw))
	default:
		w.b = append(w.b, 2)
		w.bytes(mustHex(raw))
		mask := make([]byte, (len(raw)+7)/8)
		for i := range len(raw) {
			if raw[i] >= 'A' && raw[i] <= 'F' {
				mask[i/8] |= 1 << (i % 8)
			}
		}
		w.b = append(w.b, mask...)
	}
}

// hexBody returns the digits of a "0x"-prefixed even-length hex string.
func hexBody(s string) (string, bool) {
	if len(s) < 4 || len(s)%2 != 0 || s[:2] != "0x" {
		return "", false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", false
		}
	}
	return s[2:], true
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s) // checked by hexBody
	return b
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errCorrupt, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err, r.b = errCorrupt, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length that must fit in what is left (one byte per item at least).
func (r *reader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err, r.b = errCorrupt, nil
		return 0
	}
	return int(n)
}

func (r *reader) take(n int) []byte {
	if n > len(r.b) {
		r.err, r.b = errCorrupt, nil
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) bytes() []byte { return r.take(r.count()) }

func (r *reader) str() string {
	tag := r.take(1)
	if r.err != nil {
		return ""
	}
	switch tag[0] {
	case 0:
		if b := r.bytes(); string(b) != string(tracer.NativeAsset) {
			return string(b)
		}
		return string(tracer.NativeAsset)
	case 1, 2:
		raw := r.bytes()
		var mask []byte
		if tag[0] == 2 {
			mask = r.take((2*len(raw) + 7) / 8)
		}
		if r.err != nil {
			return ""
		}
		// One allocation: the digits are written into the string's own bytes.
		var b strings.Builder
		b.Grow(2 + 2*len(raw))
		b.WriteString("0x")
		for i, c := range raw {
			for k, d := range [2]byte{hexDigits[c>>4], hexDigits[c&0xf]} {
				if j := 2*i + k; mask != nil && mask[j/8]&(1<<(j%8)) != 0 {
					if d < 'a' {
						r.err = errCorrupt
						return ""
					}
					d -= 'a' - 'A'
				}
				b.WriteByte(d)
			}
		}
		return b.String()
	}
	r.err = errCorrupt
	return ""
}

const hexDigits = "0123456789abcdef"
