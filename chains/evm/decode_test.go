package evm

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/tracer"
)

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// row is a transfer in readable form: "tx1 [0] internal disperse->carol 1000".
func rows(s *scenario, ts []tracer.Transfer) []string {
	names := map[tracer.Address]string{}
	for a, n := range s.names() {
		names[addr(a)] = n
	}
	var out []string
	for _, t := range ts {
		pos := fmt.Sprint(t.TraceAddress)
		if t.LogIndex >= 0 {
			pos = fmt.Sprintf("log%d", t.LogIndex)
		}
		asset := "native"
		if t.Asset != tracer.NativeAsset {
			asset = names[tracer.Address(t.Asset)]
		}
		out = append(out, fmt.Sprintf("b%d tx%d seq%d %s %s %s %s->%s %s from:%s",
			t.BlockNumber, t.TxIndex, t.Seq, pos, t.Kind, asset, names[t.From], names[t.To], t.Amount, names[t.TxFrom]))
	}
	return out
}

// Recorded from the dev node: testdata/block2.callTracer.json.
func TestBlockFromTraces(t *testing.T) {
	s := scenarioAddrs()
	var traces []txTrace
	readJSON(t, recCallTracer, &traces)
	b, err := blockFromTraces(2, traces)
	if err != nil {
		t.Fatal(err)
	}
	set := func(as ...common.Address) map[common.Address]bool {
		m := map[common.Address]bool{}
		for _, a := range as {
			m[a] = true
		}
		return m
	}
	everyone := set(s.alice, s.bob, s.carol, s.dave, s.erin, s.disperse, s.token, s.reverter, s.forwarder, s.destroyer)
	tests := []struct {
		name string
		dir  tracer.Direction
		set  map[common.Address]bool
		want []string
	}{
		{"all outgoing", tracer.Outgoing, everyone, []string{
			"b2 tx0 seq0 [] native native alice->bob 1000000000000000000 from:alice",
			"b2 tx1 seq0 [] native native alice->disperse 6000000000000000 from:alice",
			"b2 tx1 seq1 [0] internal native disperse->carol 1000000000000000 from:alice",
			"b2 tx1 seq2 [1] internal native disperse->dave 2000000000000000 from:alice",
			"b2 tx1 seq3 [2] internal native disperse->bob 3000000000000000 from:alice",
			// tx2 and tx6 move no ETH; in tx3 the reverter frame (seq1) and its
			// child (seq2, paying dave 1 wei) failed; tx5 failed as a whole.
			"b2 tx3 seq0 [] native native alice->forwarder 5000 from:alice",
			"b2 tx3 seq3 [1] internal native forwarder->carol 2000 from:alice",
			"b2 tx4 seq0 [] native native alice->destroyer 7000 from:alice",
			"b2 tx4 seq1 [0] internal native destroyer->erin 7000 from:alice",
		}},
		{"carol incoming", tracer.Incoming, set(s.carol), []string{
			"b2 tx1 seq2 [0] internal native disperse->carol 1000000000000000 from:alice",
			"b2 tx3 seq3 [1] internal native forwarder->carol 2000 from:alice",
		}},
		{"dave incoming: not the reverted wei", tracer.Incoming, set(s.dave), []string{
			"b2 tx1 seq2 [1] internal native disperse->dave 2000000000000000 from:alice",
		}},
		{"carol outgoing", tracer.Outgoing, set(s.carol), nil},
		{"reverter outgoing", tracer.Outgoing, set(s.reverter), nil},
	}
	// The seq of carol's Disperse payment is 1 (first child of tx1).
	tests[1].want[0] = strings.Replace(tests[1].want[0], "seq2", "seq1", 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := b.transfers("ethereum", tt.dir, tt.set)
			if d := cmp.Diff(tt.want, rows(s, got)); d != "" {
				t.Errorf("transfers (-want +got):\n%s", d)
			}
			for _, tr := range got {
				if tr.TxHash != traces[tr.TxIndex].TxHash.Hex() || tr.Chain != "ethereum" || tr.LogIndex != -1 || tr.Asset != tracer.NativeAsset {
					t.Errorf("%s: hash %s chain %q log %d asset %s", tr.ID(), tr.TxHash, tr.Chain, tr.LogIndex, tr.Asset)
				}
				if tr.Kind == tracer.KindNative && tr.TraceAddress == nil {
					t.Errorf("%s: top-level TraceAddress is nil, want []", tr.ID())
				}
			}
		})
	}
	if len(b.txHash) != 7 || b.txFrom[6] != s.alice {
		t.Errorf("block keeps %d tx hashes, tx6 from %s", len(b.txHash), b.txFrom[6].Hex())
	}
}

func TestBlockFromTracesFailedTrace(t *testing.T) {
	_, err := blockFromTraces(7, []txTrace{{Error: "execution timeout"}})
	if err == nil || !strings.Contains(err.Error(), "execution timeout") {
		t.Errorf("err = %v", err)
	}
}

// Recorded from the dev node: testdata/block2.flatCallTracer.json holds
// go-ethereum's flatCallTracer output, whose elements have the format of
// trace_filter's (OpenEthereum / Erigon / Reth). geth serves no trace_filter.
func TestTracesToTransfers(t *testing.T) {
	s := scenarioAddrs()
	var perTx []struct {
		Result []parityTrace `json:"result"`
	}
	readJSON(t, recFlatTracer, &perTx)
	var traces []parityTrace
	for _, tx := range perTx {
		traces = append(traces, tx.Result...)
	}
	want := []string{
		"b2 tx0 seq0 [] native native alice->bob 1000000000000000000 from:alice",
		"b2 tx1 seq0 [] native native alice->disperse 6000000000000000 from:alice",
		"b2 tx1 seq10000 [0] internal native disperse->carol 1000000000000000 from:",
		"b2 tx1 seq20000 [1] internal native disperse->dave 2000000000000000 from:",
		"b2 tx1 seq30000 [2] internal native disperse->bob 3000000000000000 from:",
		"b2 tx3 seq0 [] native native alice->forwarder 5000 from:alice",
		"b2 tx3 seq20000 [1] internal native forwarder->carol 2000 from:",
		"b2 tx4 seq0 [] native native alice->destroyer 7000 from:alice",
		"b2 tx4 seq10000 [0] internal native destroyer->erin 7000 from:",
	}
	if d := cmp.Diff(want, rows(s, tracesToTransfers("ethereum", traces))); d != "" {
		t.Errorf("transfers (-want +got):\n%s", d)
	}
	// Without the failed parent in the answer its child cannot be told
	// apart: the limit of trace_filter's address filter, documented.
	var child []parityTrace
	for _, tr := range traces {
		if slices.Equal(tr.TraceAddress, []int{0, 0}) {
			child = append(child, tr)
		}
	}
	if got := tracesToTransfers("ethereum", child); len(child) != 1 || len(got) != 1 {
		t.Errorf("lone child of a failed frame: %d traces, %d transfers", len(child), len(got))
	}
}

func TestPathSeqOrder(t *testing.T) {
	paths := [][]int{{}, {0}, {0, 0}, {0, 0, 5}, {0, 1}, {1}, {1, 98, 98}, {2}, {97}}
	for i := 1; i < len(paths); i++ {
		if a, b := pathSeq(paths[i-1]), pathSeq(paths[i]); a >= b || b >= logSeqBase {
			t.Errorf("pathSeq(%v) = %d, pathSeq(%v) = %d", paths[i-1], a, paths[i], b)
		}
	}
}

// Recorded from the dev node: testdata/logs.transfer.json.
func TestLogsToTransfers(t *testing.T) {
	s := scenarioAddrs()
	var logs []types.Log
	readJSON(t, recLogs, &logs)
	want := []string{
		"b1 tx1 seq1000000 log0 erc20 token zero->alice 1000000000000000000000000 from:",
		"b2 tx2 seq1000000 log0 erc20 token alice->bob 500000000000000000000 from:",
		"b2 tx6 seq1000001 log1 erc20 token alice->carol 0 from:",
		"b3 tx0 seq1000000 log0 erc20 token bob->carol 100000000000000000000 from:",
	}
	got := logsToTransfers("ethereum", logs)
	if d := cmp.Diff(want, rows(s, got)); d != "" {
		t.Errorf("transfers (-want +got):\n%s", d)
	}
	for i, tr := range got {
		if tr.TxHash != logs[i].TxHash.Hex() || tr.Chain != "ethereum" {
			t.Errorf("%d: hash %s chain %q", i, tr.TxHash, tr.Chain)
		}
	}

	// Variants derived from a recorded log (marked as such): the shapes of
	// ERC-721 and of events that are not transfers we know.
	base := logs[1]
	nft := base
	nft.Topics = append(slices.Clone(base.Topics), common.BigToHash(big.NewInt(42)))
	nft.Data = nil
	tr, ok := logTransfer("ethereum", nft)
	if !ok || tr.Kind != tracer.KindERC721 || tr.Amount.Int64() != 1 || tr.Annotations["token_id"] != "42" {
		t.Errorf("ERC-721 = %+v, %v", tr, ok)
	}
	for name, l := range map[string]types.Log{
		"removed": func() types.Log { l := base; l.Removed = true; return l }(),
		"other event": func() types.Log {
			l := base
			l.Topics = slices.Clone(base.Topics)
			l.Topics[0] = common.Hash{1}
			return l
		}(),
		"short data":    func() types.Log { l := base; l.Data = base.Data[:31]; return l }(),
		"two topics":    func() types.Log { l := base; l.Topics = base.Topics[:2]; return l }(),
		"721 with data": func() types.Log { l := nft; l.Data = base.Data; return l }(),
	} {
		if tr, ok := logTransfer("ethereum", l); ok {
			t.Errorf("%s decoded as %+v", name, tr)
		}
	}
}

func TestDecodeSymbolAndDecimals(t *testing.T) {
	strType, _ := abi.NewType("string", "", nil)
	enc := func(s string) []byte {
		b, err := abi.Arguments{{Type: strType}}.Pack(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bytes32 := func(s string) []byte { b := make([]byte, 32); copy(b, s); return b }
	for _, tt := range []struct {
		name string
		in   []byte
		want string
		ok   bool
	}{
		{"abi string", enc("USDT"), "USDT", true},
		{"long abi string", enc(strings.Repeat("x", 40)), strings.Repeat("x", 40), true},
		{"bytes32 (MKR style)", bytes32("MKR"), "MKR", true},
		{"control characters dropped", enc("A\nB\x00"), "AB", true},
		{"empty", nil, "", false},
		{"empty string", enc(""), "", false},
		{"bad offset", append(common.BigToHash(big.NewInt(1<<40)).Bytes(), make([]byte, 32)...), "", false},
		{"bad length", append(common.BigToHash(big.NewInt(32)).Bytes(), common.BigToHash(big.NewInt(99)).Bytes()...), "", false},
		{"invalid utf-8", bytes32("\xff\xfe"), "", false},
	} {
		got, ok := decodeSymbol(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: decodeSymbol = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	for _, tt := range []struct {
		in   []byte
		want uint8
		ok   bool
	}{
		{common.BigToHash(big.NewInt(18)).Bytes(), 18, true},
		{common.BigToHash(big.NewInt(255)).Bytes(), 255, true},
		{common.BigToHash(big.NewInt(256)).Bytes(), 0, false},
		{[]byte{18}, 0, false},
	} {
		if got, ok := decodeDecimals(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("decodeDecimals(%x) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestWrapTransfer: WETH9's Deposit and Withdrawal read as token legs;
// anything else of a similar shape is not one.
func TestWrapTransfer(t *testing.T) {
	weth := common.HexToAddress("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
	user := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	wad := common.BigToHash(big.NewInt(5e18)).Bytes()
	log := func(topic common.Hash, data []byte, topics ...common.Hash) types.Log {
		return types.Log{Address: weth, Topics: append([]common.Hash{topic}, topics...), Data: data, Index: 3, BlockNumber: 7}
	}
	party := common.BytesToHash(user.Bytes())
	d, ok := wrapTransfer("ethereum", log(depositTopic, wad, party))
	if !ok || d.From != addr(weth) || d.To != addr(user) || d.Asset != tracer.Asset(addr(weth)) || d.Amount.Cmp(big.NewInt(5e18)) != 0 ||
		d.Kind != tracer.KindERC20 || d.LogIndex != 3 || d.Annotations["wrap"] != "deposit" {
		t.Errorf("Deposit = %+v %v", d, ok)
	}
	w, ok := wrapTransfer("ethereum", log(withdrawalTopic, wad, party))
	if !ok || w.From != addr(user) || w.To != addr(weth) || w.Annotations["wrap"] != "withdrawal" {
		t.Errorf("Withdrawal = %+v %v", w, ok)
	}
	for name, l := range map[string]types.Log{
		"transfer topic": log(transferTopic, wad, party),
		"no party":       log(depositTopic, wad),
		"short data":     log(depositTopic, wad[:31], party),
		"extra topic":    log(depositTopic, wad, party, party),
	} {
		if _, ok := wrapTransfer("ethereum", l); ok {
			t.Errorf("%s: decoded", name)
		}
	}
}
