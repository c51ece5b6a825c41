package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/fixtures/scenario"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"dance"}, {"play"}, {"play", "--rpc", "http://127.0.0.1:1"}, {"check", "--truth", "x"}, {"check", "--bogus"}} {
		if code, _, _ := runCLI(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	truth := &scenario.Truth{
		Seeds:     []string{"0x000000000000000000000000000000000000000A"},
		Stolen:    []string{"0x000000000000000000000000000000000000000b"},
		Noise:     []string{"0x000000000000000000000000000000000000000C"},
		Poisoning: []string{"0x000000000000000000000000000000000000000d"},
	}
	if err := scenario.WriteCase(dir, truth); err != nil {
		t.Fatal(err)
	}
	graph := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tp := filepath.Join(dir, "truth.json")
	exact := graph("exact.json", `{"version":1,"nodes":[{"address":"0x000000000000000000000000000000000000000a"},{"address":"0x000000000000000000000000000000000000000B","category":"eoa"}],"edges":[]}`)
	if code, out, errs := runCLI("check", "--truth", tp, "--graph", exact); code != 0 || !strings.HasPrefix(out, "exact:") {
		t.Errorf("exact graph: exit %d, %q %q", code, out, errs)
	}
	wrong := graph("wrong.json", `{"nodes":[{"address":"0x000000000000000000000000000000000000000c"},{"address":"0x000000000000000000000000000000000000000D"}]}`)
	code, out, _ := runCLI("check", "--truth", tp, "--graph", wrong)
	want := "missing stolen 0x000000000000000000000000000000000000000b (?)\n" +
		"present noise 0x000000000000000000000000000000000000000C (?)\n" +
		"present poisoning 0x000000000000000000000000000000000000000d (?)\n"
	if code != 1 || out != want {
		t.Errorf("wrong graph: exit %d, output\n%s\nwant\n%s", code, out, want)
	}
	// Patterns: each planted one must be reported, nothing else; hand-off
	// nodes on other chains are not addresses of the traced chain.
	truth.Chain = "dev"
	truth.Patterns = []scenario.Pattern{{Kind: "dormant", Members: []string{"0x000000000000000000000000000000000000000b"}}}
	if err := scenario.WriteCase(dir, truth); err != nil {
		t.Fatal(err)
	}
	pats := graph("patterns.json", `{"nodes":[{"chain":"dev","address":"0x000000000000000000000000000000000000000B"},`+
		`{"chain":"bitcoin","address":"bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"}],`+
		`"patterns":[{"kind":"fan_in","addresses":["0x000000000000000000000000000000000000000b"]}]}`)
	code, out, _ = runCLI("check", "--truth", tp, "--graph", pats)
	want = "missing dormant [0x000000000000000000000000000000000000000b]\n" +
		"unexpected fan_in [0x000000000000000000000000000000000000000b]\n"
	if code != 1 || out != want {
		t.Errorf("patterns: exit %d, output\n%s\nwant\n%s", code, out, want)
	}
	for _, body := range []string{`{"edges":[]}`, `{"nodes":[{"chain":"ethereum"}]}`, `not json`} {
		if code, _, _ := runCLI("check", "--truth", tp, "--graph", graph("bad.json", body)); code != 1 {
			t.Errorf("graph %s: exit %d, want 1", body, code)
		}
	}
}

func TestPlayErrorHidesURLSecrets(t *testing.T) {
	code, _, errs := runCLI("play", "--rpc", "http://user:hunter2@127.0.0.1:1/v3/secretkey?apikey=xyz123", "--out", t.TempDir())
	if code != 1 {
		t.Fatalf("exit %d, want 1 (%s)", code, errs)
	}
	if !strings.Contains(errs, "127.0.0.1:1") {
		t.Errorf("error does not name the host: %s", errs)
	}
	for _, secret := range []string{"hunter2", "secretkey", "xyz123"} {
		if strings.Contains(errs, secret) {
			t.Errorf("error shows %q: %s", secret, errs)
		}
	}
}

func TestRedact(t *testing.T) {
	raw := "https://u:p@node.example/key123?x=y"
	got := redact(`Post "https://u:p@node.example/key123?x=y": EOF; path /key123`, raw)
	if strings.Contains(got, "key123") || strings.Contains(got, "u:p") || strings.Contains(got, "x=y") {
		t.Errorf("redact = %s", got)
	}
}
