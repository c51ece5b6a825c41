package main

import (
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/cache/redistest"
	"github.com/flowtrace/flowtrace/chains/rpcfault"
)

// Keys planted in the RPC URL: path, query, user name and password.
var planted = []string{"PathKey7f3a9c1e5b", "QueryKey2d8e4f6a0c", "UserName9b1c", "Passw0rdK3y5e8"}

// keyed puts the planted keys into a URL's userinfo, path and query.
func keyed(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(planted[2], planted[3])
	u.Path = "/v3/" + planted[0]
	u.RawQuery = "apikey=" + planted[1]
	return u.String()
}

// noLeak fails when a planted key is in text.
func noLeak(t *testing.T, where, text string) {
	t.Helper()
	for _, k := range planted {
		if strings.Contains(text, k) {
			t.Errorf("%s leaks %q", where, k)
		}
	}
}

// noLeakInDir searches every file under dir.
func noLeakInDir(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		noLeak(t, p, string(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSecretsNeverLeak plants keys in the RPC URL and runs a full trace (with
// --record), a trace whose hop fails through a provider that echoes the URL
// in its errors, a trace against a closed port, and --help with the URL in
// ETH_RPC_URL; no output file or stream holds a key.
func TestSecretsNeverLeak(t *testing.T) {
	fc := startFaultCase(t)
	// A provider that fails every eth_getLogs past the seeds' inflows,
	// faults at 20% otherwise.
	p, err := rpcfault.Start(rpcfault.Options{Upstream: fc.node.URL(), Seed: 7, Rate: 0.2, Classes: rpcfault.Transient()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	secretURL := keyed(t, p.URL())

	out := t.TempDir()
	code, stdout, stderr := fc.trace(t, secretURL, out, "--record", filepath.Join(out, "rpc.replay"))
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	noLeak(t, "stdout", stdout)
	noLeak(t, "stderr", stderr)
	if n := noLeakInDir(t, out); n < 5 {
		t.Errorf("searched only %d output files", n)
	}

	// A hop that fails for good: the error reaches stderr and the report.
	echo, err := rpcfault.Start(rpcfault.Options{Upstream: fc.node.URL(), Fail: func(m string, params json.RawMessage) bool {
		return m == "eth_getLogs" && strings.Contains(string(params), `"0xa"`)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	out = t.TempDir()
	code, stdout, stderr = fc.trace(t, keyed(t, echo.URL()), out)
	if code != exitIncomplete && code != exitError {
		t.Errorf("failing trace: exit %d:\n%s", code, stderr)
	}
	noLeak(t, "stdout of the failing trace", stdout)
	noLeak(t, "stderr of the failing trace", stderr)
	noLeakInDir(t, out)

	// A closed port: the dial error names the host only.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	out = t.TempDir()
	code, stdout, stderr = fc.trace(t, keyed(t, closed), out)
	if code == exitOK || !strings.Contains(stderr, l.Addr().String()) {
		t.Errorf("closed port: exit %d, stderr %q; want a failure naming the host", code, stderr)
	}
	noLeak(t, "stdout against a closed port", stdout)
	noLeak(t, "stderr against a closed port", stderr)

	// Redis passwords: a Redis that refuses them, and one that is not there.
	ru, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	// The cache names the Redis user in its warnings (url.Redacted): only
	// the password is a secret there.
	ru.User = url.UserPassword("flowtrace", planted[3])
	gone := *ru
	gone.Host = l.Addr().String()
	for _, cacheURL := range []string{ru.String(), gone.String()} {
		out = t.TempDir()
		code, stdout, stderr = fc.trace(t, secretURL, out, "--cache", cacheURL)
		if !strings.Contains(stderr, "cache") {
			t.Errorf("--cache with a wrong password or no server: exit %d, no word of the cache on stderr: %s", code, stderr)
		}
		noLeak(t, "stdout with a Redis password", stdout)
		noLeak(t, "stderr with a Redis password", stderr)
		noLeakInDir(t, out)
	}

	t.Setenv("ETH_RPC_URL", secretURL)
	for _, args := range [][]string{{"trace", "--help"}, {"--help"}, {"trace", "--seed", "nonsense", "--from-block", "1"}} {
		_, stdout, stderr := runCLI(t, args...)
		noLeak(t, strings.Join(args, " ")+" stdout", stdout)
		noLeak(t, strings.Join(args, " ")+" stderr", stderr)
	}
}
