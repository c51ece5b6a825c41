// Package redistest gives tests a real Redis: the one at $REDIS_URL when it
// answers, else a redis-server started on a free port for the test. With no
// redis-server installed the test is skipped, or fails when CI=true.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/cache/redis"
)

// URL returns the URL of a Redis for t with a key prefix of its own, whose
// keys are deleted when t ends.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("REDIS_URL")
	if base == "" || !answers(base) {
		base = Start(t).URL
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	q := u.Query()
	q.Set("prefix", "flowtrace-test:"+randomHex()+":")
	u.RawQuery = q.Encode()
	withPrefix := u.String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if s, err := redis.Open(ctx, withPrefix); err == nil {
			_, _ = s.DeletePrefix(ctx, "")
			s.Close()
		}
	})
	return withPrefix
}

func answers(rawURL string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := redis.Open(ctx, rawURL)
	if err != nil {
		return false
	}
	s.Close()
	return true
}

// Server is a redis-server process owned by one test.
type Server struct {
	URL  string
	Addr string
	cmd  *exec.Cmd
}

// Start starts a private redis-server (no persistence) on a free port,
// stopped when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed (apt-get install redis-server); CI needs it")
		}
		t.Skip("redis-server is not installed and REDIS_URL does not answer: skipping (CI fails here)")
	}
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	s := &Server{URL: "redis://" + addr + "/0", Addr: addr, cmd: cmd}
	t.Cleanup(s.Kill)
	deadline := time.Now().Add(10 * time.Second)
	for !answers(s.URL) {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer in 10s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// Kill stops the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// String describes the server.
func (s *Server) String() string { return fmt.Sprintf("redis-server on %s", s.Addr) }
