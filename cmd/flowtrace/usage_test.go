package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the program in-process and returns its exit code and streams.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errw bytes.Buffer
	code = run(context.Background(), args, &out, &errw)
	return code, out.String(), errw.String()
}

const goodSeed = "0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2"

func TestTraceBadInput(t *testing.T) {
	t.Setenv("ETH_RPC_URL", "")
	for _, tc := range []struct {
		name string
		args []string
		want string // in the one-line message
	}{
		{"malformed address", []string{"--seed", "0xZZ666Fab8bd0Ac7003bce3f5C3585383F09486E2"}, "not hex digits"},
		{"no 0x", []string{"--seed", "47666Fab8bd0Ac7003bce3f5C3585383F09486E2"}, "want 0x followed by 40 hex digits"},
		{"wrong length", []string{"--seed", "0x47666Fab8bd0Ac7003bce3f5C3585383F09486"}, "has 38 hex digits"},
		{"bad checksum", []string{"--seed", "0x47666fab8bd0Ac7003bce3f5C3585383F09486E2"}, "EIP-55 checksum"},
		{"no seed", []string{}, "no seed addresses"},
		{"from after to", []string{"--seed", goodSeed, "--from-block", "20", "--to-block", "10"}, "--from-block 20 is after --to-block 10"},
		{"from missing", []string{"--seed", goodSeed}, "--from-block is required"},
		{"unknown chain", []string{"--seed", goodSeed, "--chain", "dogechain"}, `unknown --chain "dogechain"`},
		{"bad threshold", []string{"--seed", goodSeed, "--from-block", "1", "--min-value", "lots"}, "--min-value"},
		{"bad taint model", []string{"--seed", goodSeed, "--from-block", "1", "--taint", "lifo"}, "--taint"},
		{"short theft tx", []string{"--seed", goodSeed, "--from-block", "1", "--theft-tx", "0x1234"}, "--theft-tx \"0x1234\" is not a transaction hash: want 0x and 64 hex digits"},
		{"theft tx not hex", []string{"--seed", goodSeed, "--from-block", "1", "--theft-tx", "0x" + strings.Repeat("g", 64)}, "want 0x and 64 hex digits"},
		{"bad render timeout", []string{"--seed", goodSeed, "--from-block", "1", "--render-timeout", "-1s"}, "--render-timeout"},
		{"bad native", []string{"--seed", goodSeed, "--from-block", "1", "--native", "sometimes"}, "--native"},
		{"no node", []string{"--seed", goodSeed, "--from-block", "1"}, "give --rpc URL or set ETH_RPC_URL"},
		{"record and replay", []string{"--seed", goodSeed, "--from-block", "1", "--record", "a", "--replay", "b"}, "exclude each other"},
		{"unknown flag", []string{"--sed", goodSeed}, "unknown flag"},
		{"missing replay", []string{"--seed", goodSeed, "--from-block", "1", "--replay", "/nonexistent/rpc.replay"}, "--replay"},
		{"bad labels", []string{"--seed", goodSeed, "--from-block", "1", "--rpc", "http://127.0.0.1:1", "--labels", "/nonexistent.csv"}, "--labels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCLI(t, append([]string{"trace", "--out", out}, tc.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not say %q", stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output directory exists after a usage error")
			}
		})
	}
}

func TestTraceUnreachableRPCHidesSecrets(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	const key = "s3cr3tKEY9f8e7d"
	code, stdout, stderr := runCLI(t, "trace", "--seed", goodSeed, "--from-block", "1", "--out", out,
		"--rpc", "http://user:"+key+"@127.0.0.1:1/v3/"+key+"?apikey="+key)
	if code != exitError {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitError, stderr)
	}
	if strings.Contains(stderr+stdout, key) {
		t.Errorf("the RPC key leaked:\n%s", stderr)
	}
	if !strings.Contains(stderr, "127.0.0.1:1") {
		t.Errorf("stderr %q does not name the host", stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output directory exists after a failed start")
	}
}

func TestTraceHelpIsGroupedAndHidesEnvURL(t *testing.T) {
	const key = "k3yInEnv0123"
	t.Setenv("ETH_RPC_URL", "https://node.example/"+key)
	code, stdout, stderr := runCLI(t, "trace", "--help")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, g := range traceGroups {
		if !strings.Contains(stdout, "\n"+g+":\n") {
			t.Errorf("--help has no %q group", g)
		}
	}
	if strings.Contains(stdout+stderr, key) {
		t.Errorf("--help shows the URL from ETH_RPC_URL")
	}
}
