package cache

import (
	"math/big"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/tracer"
)

func sampleEntry() transferEntry {
	amt, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	return transferEntry{covered: tracer.BlockRange{From: 5, To: 28}, transfers: []tracer.Transfer{
		{Chain: "dev", TxHash: "0x" + "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12", BlockNumber: 7, TxIndex: 2, Seq: 3,
			LogIndex: 4, Kind: tracer.KindERC20, From: "0x084E974C859A7d2b30F09005326BFbe3B727cF17", To: "0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2",
			Asset: "0x5FbDB2315678afecb367f032d93F642f64180aa3", Amount: amt, TxFrom: "0x084E974C859A7d2b30F09005326BFbe3B727cF17"},
		{Chain: "dev", TxHash: "0x" + "00000000000000000000000000000000000000000000000000000000000000ff", BlockNumber: 9, Seq: 1,
			LogIndex: -1, TraceAddress: []int{0, 2}, Kind: tracer.KindInternal, From: "0x084E974C859A7d2b30F09005326BFbe3B727cF17",
			To: "bc1qnotanevmaddress", Asset: tracer.NativeAsset, Amount: big.NewInt(0), Annotations: map[string]string{"memo": "=:BTC.BTC:bc1q"}},
		{Chain: "dev", TxHash: "0x" + "00000000000000000000000000000000000000000000000000000000000000fe", BlockNumber: 10,
			LogIndex: -1, TraceAddress: []int{}, Kind: tracer.KindNative, From: "0x084E974C859A7d2b30F09005326BFbe3B727cF17",
			To: "0x084E974C859A7d2b30F09005326BFbe3B727cF17", Asset: tracer.NativeAsset, Amount: big.NewInt(1)},
	}}
}

func TestTransfersRoundTrip(t *testing.T) {
	e := sampleEntry()
	got, err := decodeTransfers("dev", encodeTransfers(e))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(e, got, cmp.AllowUnexported(transferEntry{}), cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })); d != "" {
		t.Fatal(d)
	}
}

// TestCorruptIsMiss: every truncation and every flipped bit is refused.
func TestCorruptIsMiss(t *testing.T) {
	v := encodeTransfers(sampleEntry())
	for n := range len(v) {
		if _, err := decodeTransfers("dev", v[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: accepted", n)
		}
	}
	for i := range len(v) * 8 {
		w := append([]byte(nil), v...)
		w[i/8] ^= 1 << (i % 8)
		if _, err := decodeTransfers("dev", w); err == nil {
			t.Fatalf("bit %d flipped: accepted", i)
		}
	}
	if _, err := decodeAccount(v); err == nil {
		t.Fatal("a transfers entry decoded as an account")
	}
	if _, err := decodeToken(encodeAccount(tracer.Account{})); err == nil {
		t.Fatal("an account entry decoded as a token")
	}
}

func FuzzDecodeTransfers(f *testing.F) {
	f.Add(encodeTransfers(sampleEntry()))
	f.Fuzz(func(t *testing.T, v []byte) {
		if e, err := decodeTransfers("dev", v); err == nil {
			if _, err := decodeTransfers("dev", encodeTransfers(e)); err != nil {
				t.Fatalf("re-encoding a decoded entry fails: %v", err)
			}
		}
	})
}

// TestBytesPerTransfer reports the encoded size of a typical entry.
func TestBytesPerTransfer(t *testing.T) {
	e := sampleEntry()
	n := len(encodeTransfers(e))
	t.Logf("%d transfers: %d bytes, %.1f per transfer", len(e.transfers), n, float64(n)/float64(len(e.transfers)))
	if n/len(e.transfers) > 150 {
		t.Errorf("%d bytes per transfer: the encoding grew", n/len(e.transfers))
	}
}

func TestTokenRoundTripKeepsName(t *testing.T) {
	want := &tracer.Token{Symbol: "MKR", Name: "Maker", Decimals: 18}
	got, err := decodeToken(encodeToken(want))
	if err != nil || *got != *want {
		t.Fatalf("decodeToken = %+v, %v; want %+v", got, err, want)
	}
	if got, err := decodeToken(encodeToken(nil)); err != nil || got != nil {
		t.Errorf("no metadata: got %+v, %v", got, err)
	}
	// An entry written before names were stored is a miss (described again).
	var w writer
	w.b = append(w.b, tokenNoName, 18)
	w.bytes([]byte("MKR"))
	if _, err := decodeToken(seal(kindToken, w.b)); err == nil {
		t.Error("an entry without the name decoded; want a miss")
	}
}
