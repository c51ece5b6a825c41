package main

import (
	"encoding/csv"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/fixtures/scenario"
	"github.com/flowtrace/flowtrace/tracer"
)

// devTransfers is the extraction case recorded from the dev-theft scenario.
var devTransfers = filepath.Join(fixturesDir, "dev-transfers")

// TestTransfersFixture replays the recorded extraction of the dev-theft
// seed's ledger and compares it with want.csv and want.jsonl; with -update
// it first records it from the dev node.
func TestTransfersFixture(t *testing.T) {
	replay := filepath.Join(devTransfers, "transfers.replay")
	if *update {
		node, truth := playScenario(t)
		caseDir := t.TempDir()
		if err := scenario.WriteCase(caseDir, truth); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLI(t, append([]string{"transfers", "-q", "--rpc", node.URL(), "--record", replay, "--out", filepath.Join(t.TempDir(), "x.csv")}, caseArgs(t, devTransfers)...)...)
		if code != exitOK {
			t.Fatalf("recording: exit %d:\n%s", code, stderr)
		}
	}
	for format, want := range map[string]string{"csv": "want.csv", "jsonl": "want.jsonl"} {
		code, stdout, stderr := runCLI(t, append([]string{"transfers", "-q", "--replay", replay, "--format", format}, caseArgs(t, devTransfers)...)...)
		if code != exitOK {
			t.Fatalf("%s: exit %d:\n%s", format, code, stderr)
		}
		if *update {
			if err := writeFileAtomic(filepath.Join(devTransfers, want), []byte(stdout)); err != nil {
				t.Fatal(err)
			}
		}
		if d := cmp.Diff(string(readOutput(t, devTransfers, want)), stdout); d != "" {
			t.Errorf("%s differs from %s (-want +got):\n%s", format, want, d)
		}
	}
	// --out writes the same bytes to a file.
	out := filepath.Join(t.TempDir(), "ledger.csv")
	if code, stdout, stderr := runCLI(t, append([]string{"transfers", "-q", "--replay", replay, "--out", out}, caseArgs(t, devTransfers)...)...); code != exitOK || stdout != "" {
		t.Fatalf("--out: exit %d, stdout %q:\n%s", code, stdout, stderr)
	}
	if got, want := readOutput(t, filepath.Dir(out), "ledger.csv"), readOutput(t, devTransfers, "want.csv"); string(got) != string(want) {
		t.Error("--out wrote other bytes than stdout")
	}

	// What the ledger must hold, whatever the recording: every row touches
	// one of the addresses, rows are unique, and value and poisoning are told apart.
	rows, err := csv.NewReader(strings.NewReader(string(readOutput(t, devTransfers, "want.csv")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], transferColumns) {
		t.Fatalf("header %v", rows[0])
	}
	addrs := strings.Split(caseArgs(t, devTransfers)[1], ",")
	trust := map[string]int{}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		if !slices.Contains(addrs, r[6]) && !slices.Contains(addrs, r[7]) {
			t.Errorf("row of neither side the address: %v", r)
		}
		id := r[2] + "/" + r[3] + "/" + r[4]
		if seen[id] {
			t.Errorf("row twice: %v", r)
		}
		seen[id] = true
		trust[r[11]]++
	}
	t.Logf("trust classes: %v", trust)
	// The seed's ledger, the poisoner's zero-value transferFrom of the real
	// FUSD, and the FakeToken copying FUSD (recognised in tokens.csv).
	if trust["genuine"] < 10 || trust["zero_value"] == 0 || trust["impersonating"] == 0 {
		t.Errorf("trust classes %v in %d rows: want genuine, zero_value and impersonating transfers", trust, len(rows)-1)
	}
}

func TestTransfersBadInput(t *testing.T) {
	t.Setenv("ETH_RPC_URL", "")
	base := []string{"transfers", "--rpc", "http://127.0.0.1:1", "--address", goodSeed, "--from-block", "10", "--to-block", "20"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no address", []string{"transfers", "--rpc", "http://127.0.0.1:1", "--from-block", "1"}, "no addresses"},
		{"bad address", append(slices.Clone(base), "--address", "0x12"), "--address"},
		{"no from", []string{"transfers", "--rpc", "http://127.0.0.1:1", "--address", goodSeed}, "--from-block is required"},
		{"reversed", append(slices.Clone(base), "--from-block", "30"), "swap them"},
		{"direction", append(slices.Clone(base), "--direction", "sideways"), "--direction"},
		{"format", append(slices.Clone(base), "--format", "xml"), "--format"},
		{"chain", append(slices.Clone(base), "--chain", "nochain"), "--chain"},
		{"no node", []string{"transfers", "--address", goodSeed, "--from-block", "1"}, "no node"},
		{"record and replay", append(slices.Clone(base), "--record", "a", "--replay", "b"), "exclude"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, tc.want)
			}
		})
	}
	if _, err := os.Stat("a"); err == nil {
		t.Error("a bad invocation created a file")
	}
}

// TestTrustOf: the trust rule on the cases the fixture cannot hold.
func TestTrustOf(t *testing.T) {
	reg, err := labels.Bundled()
	if err != nil {
		t.Fatal(err)
	}
	const (
		usdt   = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
		other  = "0x1111111111111111111111111111111111111111"
		user   = tracer.Address("0x2222222222222222222222222222222222222222")
		solver = tracer.Address("0x3333333333333333333333333333333333333333")
		pool   = tracer.Address("0x4444444444444444444444444444444444444444")
	)
	d := tracer.Descriptions{
		Accounts: map[tracer.Address]tracer.Account{pool: {IsContract: true}},
		Tokens:   map[tracer.Address]tracer.Token{other: {Symbol: "PEPE", Decimals: 18}, "0x5555555555555555555555555555555555555555": {Symbol: "USDT", Decimals: 6}},
	}
	tok := func(asset string, from, signer tracer.Address, amount int64) tracer.Transfer {
		return tracer.Transfer{Chain: "ethereum", Kind: tracer.KindERC20, Asset: tracer.Asset(asset), From: from, To: "0x6666666666666666666666666666666666666666",
			TxFrom: signer, Amount: big.NewInt(amount), LogIndex: 0}
	}
	for _, c := range []struct {
		name string
		t    tracer.Transfer
		want tracer.Trust
	}{
		{"a solver pulls a user's real USDT (transferFrom)", tok(usdt, user, solver, 5), tracer.TrustGenuine},
		{"an unknown token, sender signed", tok(other, user, user, 5), tracer.TrustGenuine},
		{"an unknown token, a contract sender", tok(other, pool, solver, 5), tracer.TrustGenuine},
		{"an unknown token, claimed sender neither signed nor is a contract", tok(other, user, solver, 5), tracer.TrustSpoofed},
		{"a copy of USDT", tok("0x5555555555555555555555555555555555555555", user, user, 5), tracer.TrustImpersonating},
		{"zero value", tok(usdt, user, solver, 0), tracer.TrustZeroValue},
		{"nft", tracer.Transfer{Kind: tracer.KindERC721, Asset: other, Amount: big.NewInt(1)}, tracer.TrustNFT},
		{"native", tracer.Transfer{Kind: tracer.KindInternal, Asset: tracer.NativeAsset, Amount: big.NewInt(1), LogIndex: -1}, tracer.TrustGenuine},
	} {
		if got := trustOf(c.t, d, reg); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
