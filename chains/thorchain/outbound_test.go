package thorchain

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/chains/bitcoin/utxo"
)

// recorded is one case of testdata/outbound (see SOURCE.md there).
type recorded struct {
	Inbound struct {
		TxID, Date, Memo, Address string
	}
	Tx struct {
		TxID        string `json:"txid"`
		BlockHeight uint64
		Timestamp   int64
		Fee         string
		Vin         []struct {
			TxID      string `json:"txid"`
			Vout      string
			Addresses []string
			Value     string
		}
		Vout []struct {
			Value        string
			N            uint32
			ScriptPubKey struct{ Hex string }
			Addresses    []string
		}
	}
}

// load reads a recorded case into a utxo.Tx and the inbound it answers.
func load(t *testing.T, name string) (utxo.Tx, Inbound, int64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "outbound", name))
	if err != nil {
		t.Fatal(err)
	}
	var r recorded
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	num := func(s string) int64 {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tx := utxo.Tx{TxID: r.Tx.TxID, Block: r.Tx.BlockHeight, Time: r.Tx.Timestamp}
	for _, in := range r.Tx.Vin {
		vout := int64(0)
		if in.Vout != "" {
			vout = num(in.Vout)
		}
		tx.Inputs = append(tx.Inputs, utxo.Input{Prev: utxo.Outpoint{TxID: in.TxID, Vout: uint32(vout)}, Address: in.Addresses[0], Value: num(in.Value)})
	}
	for _, o := range r.Tx.Vout {
		script, err := hex.DecodeString(o.ScriptPubKey.Hex)
		if err != nil {
			t.Fatal(err)
		}
		out := utxo.Output{Index: o.N, Value: num(o.Value)}
		switch {
		case len(script) == 22 && script[0] == 0 && script[1] == 20:
			out.ScriptType, out.Address = utxo.WitnessV0KeyHash, o.Addresses[0]
		case len(script) > 2 && script[0] == 0x6a && int(script[1]) == len(script)-2: // OP_RETURN <push n>, n <= 75
			out.ScriptType, out.OpReturn = utxo.NullData, script[2:]
		default:
			t.Fatalf("%s: script %x not read by this test", name, script)
		}
		tx.Outputs = append(tx.Outputs, out)
	}
	if tx.Fee() != num(r.Tx.Fee) {
		t.Fatalf("%s: inputs - outputs = %d, recorded fee %s", name, tx.Fee(), r.Tx.Fee)
	}
	memo, err := ParseMemo(r.Inbound.Memo)
	if err != nil {
		t.Fatal(err)
	}
	in := Inbound{TxHash: r.Inbound.TxID, Destination: memo.Destination, Asset: memo.Asset, Time: num(r.Inbound.Date) / 1e9}
	return tx, in, num(r.Inbound.Date) / 1e9
}

// noise is an unrelated transaction with an OP_RETURN of its own.
func noise(time int64, memo string) utxo.Tx {
	return utxo.Tx{TxID: "noise", Time: time,
		Inputs:  []utxo.Input{{Address: "bc1qnoise", Value: 10_000}},
		Outputs: []utxo.Output{{Address: "bc1qother", Value: 9_000}, {ScriptType: utxo.NullData, OpReturn: []byte(memo)}}}
}

func TestPairRecorded(t *testing.T) {
	for _, c := range []struct {
		file        string
		hashAsGiven func(string) string // how the source chain prints the inbound hash
		status      PairStatus
		paid        int
		amount      int64
		vault       string
	}{
		{"streaming-evm.json", func(h string) string { return "0x" + strings.ToLower(h) }, Paired, 0, 116_388, "bc1qsqwywyfq3dhrmu3kh8emh2l6u5hde7szxpg99j"},
		{"swap.json", func(h string) string { return h }, Paired, 0, 24_574_773, "bc1qh7cjvuc3gtt3r4afm0zqvhvrpkfw0ahxrfwfgu"},
		{"refund.json", strings.ToLower, Refunded, 0, 2_943_300, "bc1qgpa0uz3ph4076j4f3kjxgzzd6t5298sdtjvwc9"},
	} {
		t.Run(c.file, func(t *testing.T) {
			tx, in, depositTime := load(t, c.file)
			in.TxHash = c.hashAsGiven(in.TxHash)
			m, err := NewMatcher(0, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []utxo.Tx{
				noise(tx.Time-10, "OUT:"+strings.Repeat("AB", 32)), // another inbound's outbound
				noise(tx.Time-5, "=:BTC.BTC:bc1qdest"),             // a deposit, not an outbound
				noise(tx.Time-1, "OUT:"+NormalizeTxID(in.TxHash)[:63]),
			} {
				if m.Offer(n) {
					t.Fatalf("noise %q matched", n.Outputs[1].OpReturn)
				}
			}
			if got := m.Results(tx.Time); got[0].Status != Pending {
				t.Fatalf("before the outbound: %s", got[0].Status)
			}
			if !m.Offer(tx) {
				t.Fatal("the recorded outbound did not match")
			}
			p := m.Results(tx.Time)[0]
			if p.Status != c.status || len(p.Legs) != 1 || p.Amount != c.amount || p.Delay != tx.Time-depositTime {
				t.Fatalf("pair %+v", p)
			}
			l := p.Legs[0]
			if l.Paid != c.paid || l.Amount != c.amount || l.Change != 1 || l.Vault != c.vault || l.Tx.TxID != tx.TxID {
				t.Errorf("leg paid %d %d, change %d, vault %s", l.Paid, l.Amount, l.Change, l.Vault)
			}
			if l.ToDestination != (c.status == Paired) {
				t.Errorf("to destination %v", l.ToDestination)
			}
			// The change heuristics name the vault's change too, except where
			// the vault swept ten inputs, more than it needed: address reuse
			// and unnecessary input disagree, and they name none.
			g, ok := utxo.GuessChange(tx)
			if c.status == Refunded {
				if ok {
					t.Errorf("GuessChange %+v despite the unnecessary inputs", g)
				}
			} else if !ok || g.Output != l.Change {
				t.Errorf("GuessChange %+v %v, leg change %d", g, ok, l.Change)
			}
		})
	}
}

func TestPairBound(t *testing.T) {
	tx, in, _ := load(t, "swap.json")
	in.Time = tx.Time - int64((27 * time.Hour).Seconds()) // past 24 h and the 2 h block-time skew
	m, err := NewMatcher(DefaultMaxDelay, in)
	if err != nil {
		t.Fatal(err)
	}
	if m.Offer(tx) {
		t.Fatal("an outbound 27 h after the deposit matched under a 24 h bound")
	}
	until := in.Time + int64(DefaultMaxDelay/time.Second)
	if r := m.Results(until); r[0].Status != Pending || r[0].Until != until {
		t.Fatalf("at the bound: %+v", r[0])
	}
	if m.Horizon() <= until {
		t.Errorf("horizon %d does not allow for block-time skew past %d", m.Horizon(), until)
	}
	if r := m.Results(m.Horizon() + 1); r[0].Status != NotFound || len(r[0].Legs) != 0 {
		t.Fatalf("past the bound: %+v", r[0])
	}
	// A longer bound finds it.
	m, _ = NewMatcher(27*time.Hour, in)
	if !m.Offer(tx) || m.Results(tx.Time)[0].Status != Paired {
		t.Error("a 27 h bound does not find it")
	}
}

// A memo naming a THORName: the paid output is the one that is not the
// vault's change, and the leg says it could not check the destination.
func TestPairTHORName(t *testing.T) {
	tx, in, _ := load(t, "streaming-evm.json")
	in.Destination = "myname"
	m, _ := NewMatcher(0, in)
	if !m.Offer(tx) {
		t.Fatal("no match")
	}
	l := m.Results(tx.Time)[0].Legs[0]
	if l.Paid != 0 || l.Amount != 116_388 || l.ToDestination {
		t.Fatalf("leg %+v", l)
	}
}

// TestPairSplitOutbound: THORChain can pay one inbound from several vaults;
// every leg counts. The second leg is the recorded one, re-addressed.
func TestPairSplitOutbound(t *testing.T) {
	tx, in, _ := load(t, "streaming-evm.json")
	second := tx
	second.TxID = "second-leg"
	second.Time += 600
	second.Outputs = append([]utxo.Output(nil), tx.Outputs...)
	second.Outputs[0].Value = 50_000
	in2 := Inbound{TxHash: strings.Repeat("cd", 32), Destination: "bc1qelse", Time: in.Time}
	m, err := NewMatcher(time.Hour, in, in2)
	if err != nil {
		t.Fatal(err)
	}
	second.Block++
	// Out of chain order, and the first leg twice (a block read again).
	for _, x := range []utxo.Tx{second, tx, tx} {
		if !m.Offer(x) {
			t.Fatalf("%s not matched", x.TxID)
		}
	}
	r := m.Results(second.Time + 3*3600)
	if len(r) != 2 || r[0].Status != Paired || len(r[0].Legs) != 2 || r[0].Amount != 116_388+50_000 {
		t.Fatalf("split: %+v", r[0])
	}
	if r[0].Legs[0].Tx.TxID != tx.TxID || r[0].Legs[1].Tx.TxID != "second-leg" || r[0].Delay != tx.Time-in.Time {
		t.Errorf("legs %s, %s, delay %d", r[0].Legs[0].Tx.TxID, r[0].Legs[1].Tx.TxID, r[0].Delay)
	}
	if r[1].Status != NotFound || r[1].Inbound.TxHash != in2.TxHash {
		t.Fatalf("other inbound: %+v", r[1])
	}
}

func TestNewMatcherBadInput(t *testing.T) {
	good := Inbound{TxHash: strings.Repeat("ab", 32), Time: 1}
	for _, c := range []struct {
		name  string
		delay time.Duration
		in    Inbound
		want  string
	}{
		{"short hash", 0, Inbound{TxHash: "0xabc", Time: 1}, "want 64 hex digits"},
		{"not hex", 0, Inbound{TxHash: strings.Repeat("zz", 32), Time: 1}, "want 64 hex digits"},
		{"no time", 0, Inbound{TxHash: good.TxHash}, "no block time"},
		{"negative delay", -time.Hour, good, "negative"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewMatcher(c.delay, c.in); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestNormalizeTxID(t *testing.T) {
	want := "08A863D310AECF008B4A9742A596603EA008C682B4E48FF8FF80C408FBE72EB3"
	for _, h := range []string{want, strings.ToLower(want), "0x" + strings.ToLower(want), "0X" + want, " " + want + "\n"} {
		if got := NormalizeTxID(h); got != want {
			t.Errorf("%q: %q", h, got)
		}
	}
}

// FuzzOutboundMemo: any OP_RETURN bytes are read without a panic, and a
// transaction matches only the inbound its memo names.
func FuzzOutboundMemo(f *testing.F) {
	h := "08A863D310AECF008B4A9742A596603EA008C682B4E48FF8FF80C408FBE72EB3"
	f.Add([]byte("OUT:"+h), "0x"+strings.ToLower(h))
	f.Add([]byte("REFUND:0x"+h), h)
	f.Add([]byte("out:"+h[:10]), h)
	f.Add([]byte("OUT:"), h)
	f.Add([]byte{0xff, 0x00, ':'}, h)
	f.Fuzz(func(t *testing.T, data []byte, hash string) {
		m, err := NewMatcher(0, Inbound{TxHash: hash, Destination: "bc1qdest", Time: 1_700_000_000})
		if err != nil {
			return
		}
		tx := utxo.Tx{TxID: "f", Time: 1_700_000_100,
			Inputs:  []utxo.Input{{Address: "bc1qvault", Value: 1_000}},
			Outputs: []utxo.Output{{Address: "bc1qdest", Value: 500}, {Address: "bc1qvault", Value: 400}, {ScriptType: utxo.NullData, OpReturn: data}}}
		if !m.Offer(tx) {
			return
		}
		memo, ok := OutboundMemo(tx)
		if !ok || NormalizeTxID(memo.TxID) != NormalizeTxID(hash) {
			t.Fatalf("%q matched inbound %q", data, hash)
		}
		p := m.Results(tx.Time)[0]
		if len(p.Legs) != 1 || p.Legs[0].Change != 1 {
			t.Fatalf("%q: %+v", data, p)
		}
	})
}
