package bridges

import (
	"encoding/json"
	"math/big"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/tracer"
)

// recorded reads the logs recorded from the dev node (see TestRecord).
func recorded(t *testing.T) []types.Log { return mustRecorded(t) }

func mustRecorded(t testing.TB) []types.Log {
	t.Helper()
	b, err := os.ReadFile(recLogs)
	if err != nil {
		t.Fatal(err)
	}
	var logs []types.Log
	if err := json.Unmarshal(b, &logs); err != nil {
		t.Fatal(err)
	}
	return logs
}

// decodedAll decodes every recorded log, failing on any error.
func decodedAll(t *testing.T) []Event {
	t.Helper()
	var out []Event
	for _, l := range recorded(t) {
		ev, ok, err := Decode(l)
		if err != nil || !ok {
			t.Fatalf("log %d of tx %s: ok %v, err %v", l.Index, l.TxHash.Hex(), ok, err)
		}
		out = append(out, ev)
	}
	return out
}

func TestDecodeRecorded(t *testing.T) {
	evs := decodedAll(t)
	type want struct {
		name      string
		protocol  Protocol
		side      Side
		depositID int64
		origin    uint64
		dest      uint64
		guid      string
		srcEID    uint32
		dstEID    uint32
		nonce     uint64
		sender    string
		receiver  string
		depositor string
		recipient string
		outToken  string
		in, out   *big.Int
	}
	dep, rel := depositor.Hex(), ""
	lz := func(name string, side Side, src, dst uint32, g string) want {
		return want{name, LayerZero, side, -1, 0, 0, g, src, dst, 42, oappSender.Hex(), oappReceiver.Hex(), "", "", "", nil, nil}
	}
	wants := []want{
		{"V3FundsDeposited", Across, Deposit, 7, 0, 42161, "", 0, 0, 0, "", "", dep, recipient1.Hex(), wethArbitrum.Hex(), eth(1000), eth(990)},
		{"FundsDeposited", Across, Deposit, 1_000_000, 0, 56, "", 0, 0, 0, "", "", dep, recipient2.Hex(), wbnbBSC.Hex(), eth(2000), eth(1980)},
		{"OFTSent", Stargate, Deposit, -1, 0, 0, guid.Hex(), 0, 30102, 0, "", "", dep, "", "", eth(500), eth(499)},
		{"V3FundsDeposited", Across, Deposit, 8, 0, 42161, "", 0, 0, 0, "", "", dep, recipient1.Hex(), wethArbitrum.Hex(), eth(300), eth(297)},
		{"V3FundsDeposited", Across, Deposit, 9, 0, 42161, "", 0, 0, 0, "", "", dep, recipient1.Hex(), wethArbitrum.Hex(), eth(400), eth(396)},
		lz("PacketSent", Deposit, 30101, 30110, packetGUID.Hex()),
		{"FilledV3Relay", Across, Fill, 7, 1, 0, "", 0, 0, 0, "", "", dep, recipient1.Hex(), wethArbitrum.Hex(), eth(1000), eth(990)},
		{"FilledRelay", Across, Fill, 1_000_000, 1, 0, "", 0, 0, 0, "", "", dep, recipient2.Hex(), wbnbBSC.Hex(), eth(2000), eth(1980)},
		{"OFTReceived", Stargate, Fill, -1, 0, 0, guid.Hex(), 30110, 0, 0, "", "", rel, recipient3.Hex(), "", nil, eth(499)},
		{"FilledV3Relay", Across, Fill, 9, 1, 0, "", 0, 0, 0, "", "", dep, spedUpTo.Hex(), wethArbitrum.Hex(), eth(400), eth(395)},
		lz("PacketDelivered", Fill, 30101, 0, ""),
	}
	if len(evs) != len(wants) {
		t.Fatalf("%d events decoded, want %d", len(evs), len(wants))
	}
	for i, w := range wants {
		e := evs[i]
		id := int64(-1)
		if e.DepositID != nil {
			id = e.DepositID.Int64()
		}
		if e.Name != w.name || e.Protocol != w.protocol || e.Side != w.side || id != w.depositID || e.OriginChainID != w.origin ||
			e.DestChainID != w.dest || e.GUID != w.guid || e.SrcEID != w.srcEID || e.DstEID != w.dstEID ||
			e.Nonce != w.nonce || e.Sender != w.sender || e.Receiver != w.receiver ||
			e.Depositor != w.depositor || e.Recipient != w.recipient || e.OutputToken != w.outToken {
			t.Errorf("event %d = %+v\nwant %+v", i, e, w)
		}
		if (w.in != nil && !eq(e.InputAmount, w.in)) || (w.out != nil && !eq(e.OutputAmount, w.out)) || (w.out == nil && e.OutputAmount != nil) {
			t.Errorf("event %d (%s): amounts in %v out %v, want %v %v", i, e.Name, e.InputAmount, e.OutputAmount, w.in, w.out)
		}
		if e.Time <= 0 || e.TxHash == "" || e.Contract == "" {
			t.Errorf("event %d: no time, tx or contract: %+v", i, e)
		}
		if e.Protocol == Across && e.FillDeadline <= e.Time {
			t.Errorf("event %d: fill deadline %d not after the block time %d", i, e.FillDeadline, e.Time)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	logs := recorded(t)
	// Another topic, and a removed log: not bridge events.
	other := logs[0]
	other.Topics = append([]common.Hash{common.HexToHash("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")}, other.Topics[1:]...)
	removed := logs[0]
	removed.Removed = true
	for name, l := range map[string]types.Log{"other topic": other, "removed": removed, "no topics": {}} {
		if _, ok, err := Decode(l); ok || err != nil {
			t.Errorf("%s: ok %v, err %v; want neither", name, ok, err)
		}
	}
	// The topic, but not the event: too few topics, short data.
	fewer := logs[0]
	fewer.Topics = fewer.Topics[:2]
	short := logs[0]
	short.Data = short.Data[:64]
	garbled := logs[6] // FilledV3Relay: a dynamic field's offset pointing past the end
	garbled.Data = append([]byte{}, garbled.Data...)
	garbled.Data[10*32+28] = 0x7f // the message offset
	// A packet of another codec version.
	packet := logs[5]
	packet.Data = append([]byte{}, packet.Data...)
	packet.Data[4*32] = 2 // the payload's first byte (after its offset, the options offset, the library and its length): its version
	for name, l := range map[string]types.Log{"3 topics": fewer, "short data": short, "bad offset": garbled, "packet v2": packet} {
		if _, ok, err := Decode(l); !ok || err == nil {
			t.Errorf("%s: ok %v, err %v; want a decode error", name, ok, err)
		}
	}
	if _, _, err := Decode(packet); err == nil || !strings.Contains(err.Error(), "want version 1") {
		t.Errorf("packet v2: %v, want the version named", err)
	}
}

func TestTopics(t *testing.T) {
	want := []string{
		"0xa123dc29aebf7d0c3322c8eeb5b999e859f39937950ed31056532713d0de396f",
		"0x32ed1a409ef04c7b0227189c3a103dc5ac10e775a15b785dcc510201f7c25ad3",
		"0x571749edf1d5c9599318cdbc4e28a6475d65e87fd3b2ddbe1e9a8d5e7a0f0ff7",
		"0x44b559f101f8fbcc8a0ea43fa91a05a729a5ea6e14a7c75aa750374690137208",
		"0x85496b760a4b7f8d66384b9df21b381f5d1b1e79f229a47aaf4c232edc2fe59a",
		"0xefed6d3500546b29533b128a29e3a94d70788727f0507505ac12eaf2e578fd9c",
		"0x1ab700d4ced0c005b164c0f789fd09fcbb0156d4c2041b8a3bfbcd961cd1567f",
		"0x3cd5e48f9730b129dc7550f0fcea9c767b7be37837cd10e55eb35f734f4bca04",
	}
	got := Topics()
	for i := range want {
		if i >= len(got) || got[i].Hex() != want[i] {
			t.Fatalf("Topics() = %v, want %v", got, want)
		}
	}
}

func TestBytes32Address(t *testing.T) {
	var b [32]byte
	copy(b[12:], recipient1.Bytes())
	if got := Bytes32Address(b); got != recipient1.Hex() {
		t.Errorf("padded address = %s", got)
	}
	b[0] = 0x7a // a Solana account: all 32 bytes
	if got := Bytes32Address(b); len(got) != 66 || !strings.HasPrefix(got, "0x7a") {
		t.Errorf("32-byte account = %s", got)
	}
}

// eventDetail are the annotations that carry the rest of a deposit event.
var eventDetail = []string{AnnEvent, AnnEmitter, AnnLogIndex, AnnDepositor, AnnInputToken, AnnInputAmount, AnnFillDeadline}

// A deposit's annotations give its event back, whole.
func TestDepositEventRoundTrip(t *testing.T) {
	n := 0
	for _, ev := range decodedAll(t) {
		if ev.Side != Deposit || ev.Protocol == LayerZero {
			continue
		}
		n++
		got, err := DepositEvent(Annotations(ev))
		if err != nil {
			t.Fatalf("%s in %s: %v", ev.Name, ev.TxHash, err)
		}
		got.TxHash, got.Block, got.TxIndex, got.Time = ev.TxHash, ev.Block, ev.TxIndex, ev.Time
		if diff := cmp.Diff(ev, got, cmp.Comparer(func(a, b *big.Int) bool { return (a == nil) == (b == nil) && (a == nil || a.Cmp(b) == 0) })); diff != "" {
			t.Errorf("%s in %s: (-decoded +read back)\n%s", ev.Name, ev.TxHash, diff)
		}
	}
	if n != 5 {
		t.Errorf("%d Across and Stargate deposits read back, want the 5 recorded", n)
	}
	for _, bad := range []map[string]string{
		{tracer.AnnBridge: "across", AnnSide: "fill", AnnDepositID: "7"},
		{tracer.AnnBridge: "across", AnnSide: "deposit"},
		{tracer.AnnBridge: "stargate", AnnSide: "deposit"},
		{tracer.AnnBridge: "across", AnnSide: "deposit", AnnDepositID: "7", AnnInputAmount: "1e18"},
		{tracer.AnnBridge: "thorchain", AnnSide: "deposit"},
	} {
		if _, err := DepositEvent(bad); err == nil {
			t.Errorf("DepositEvent(%v) read an event", bad)
		}
	}
}

func TestAnnotations(t *testing.T) {
	evs := decodedAll(t)
	for i, want := range []map[string]string{
		{tracer.AnnBridge: "across", AnnSide: "deposit", AnnDepositID: "7", tracer.AnnDestChain: "arbitrum",
			tracer.AnnDestAsset: wethArbitrum.Hex(), tracer.AnnDestAddress: recipient1.Hex(), AnnDestAmount: eth(990).String()},
		{tracer.AnnBridge: "across", AnnSide: "deposit", AnnDepositID: "1000000", tracer.AnnDestChain: "bsc",
			tracer.AnnDestAsset: wbnbBSC.Hex(), tracer.AnnDestAddress: recipient2.Hex(), AnnDestAmount: eth(1980).String()},
		{tracer.AnnBridge: "stargate", AnnSide: "deposit", AnnGUID: guid.Hex(), tracer.AnnDestChain: "bsc", AnnDestAmount: eth(499).String()},
		5: {tracer.AnnBridge: "layerzero", AnnSide: "deposit", AnnGUID: packetGUID.Hex(), AnnNonce: "42", tracer.AnnDestChain: "arbitrum",
			tracer.AnnDestAddress: oappReceiver.Hex()},
		6: {tracer.AnnBridge: "across", AnnSide: "fill", AnnDepositID: "7", AnnOriginChain: "ethereum",
			tracer.AnnDestAsset: wethArbitrum.Hex(), tracer.AnnDestAddress: recipient1.Hex(), AnnDestAmount: eth(990).String()},
		8: {tracer.AnnBridge: "stargate", AnnSide: "fill", AnnGUID: guid.Hex(), AnnOriginChain: "arbitrum",
			tracer.AnnDestAddress: recipient3.Hex(), AnnDestAmount: eth(499).String()},
	} {
		if want == nil {
			continue
		}
		got := Annotations(evs[i])
		for k := range got {
			if _, ok := want[k]; !ok && !slices.Contains(eventDetail, k) {
				t.Errorf("event %d: annotation %s = %q not wanted", i, k, got[k])
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("event %d: %s = %q, want %q", i, k, got[k], v)
			}
		}
	}
	// A chain flowtrace does not know is named by its id.
	if got := chainByID(324); got != "eip155:324" {
		t.Errorf("chainByID(324) = %s", got)
	}
	if got := chainByEID(30999); got != "lz:30999" {
		t.Errorf("chainByEID(30999) = %s", got)
	}
}
