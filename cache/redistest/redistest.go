// Package redistest gives tests a real Redis: the one at $REDIS_URL (by
// default the machine's, at 127.0.0.1:6379) when it answers, else a
// redis-server started on a free port for the test. With no
// redis-server installed the test is skipped, or fails when CI=true.
package redistest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/cache/redis"
)

// URL returns the URL of a Redis for t with a key prefix of its own, whose
// keys are deleted when t ends.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("REDIS_URL")
	if base == "" {
		base = defaultURL
	}
	if !answers(base) {
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

// defaultURL is the Redis that the machine and CI run.
const defaultURL = "redis://127.0.0.1:6379/0"

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
	args []string // the command line
	cmd  *exec.Cmd
}

// Start starts a private redis-server (no persistence) on a free port,
// stopped when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, "--save", "", "--appendonly", "no")
}

// StartPersistent starts a private redis-server that writes every change
// to its append-only file before answering (AOF, fsync always), so a
// Restart, even after a crash, loses nothing.
func StartPersistent(t testing.TB) *Server {
	t.Helper()
	return start(t, "--save", "", "--appendonly", "yes", "--appendfsync", "always")
}

func start(t testing.TB, persistence ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed (apt-get install redis-server); CI needs it")
		}
		t.Skip("redis-server is not installed and REDIS_URL does not answer: skipping (CI fails here)")
	}
	// A free port can be taken by someone else between our look and
	// redis-server's bind: then the server exits and we try another. The
	// server says on stdout when it accepts connections; nothing is timed.
	var lastLog string
	for range 5 {
		port := freePort(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		s := &Server{URL: "redis://" + addr + "/0", Addr: addr,
			args: append([]string{bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", t.TempDir()}, persistence...)}
		if lastLog = s.run(t); lastLog == "" {
			t.Cleanup(s.Kill)
			return s
		}
	}
	t.Fatalf("redis-server did not start on a free port in 5 tries; its last words:\n%s", lastLog)
	return nil
}

// run starts the server process and waits until it accepts connections;
// it returns "" then, else the log of a server that exited.
func (s *Server) run(t testing.TB) string {
	t.Helper()
	cmd := exec.Command(s.args[0], s.args[1:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	s.cmd = cmd
	if log := waitReady(out); log != "" {
		_ = cmd.Wait()
		return log
	}
	return ""
}

// Restart kills the server (SIGKILL, as a crash) and starts it again on
// the same port and directory; it returns once the server accepts
// connections again, with what its files kept.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Kill()
	if log := s.run(t); log != "" {
		t.Fatalf("redis-server did not come back on %s:\n%s", s.Addr, log)
	}
}

// waitReady reads the server's log until it accepts connections, then
// drains the rest in the background (a full pipe would stop the server).
// It returns "" when ready, else the log of a server that exited.
func waitReady(out io.Reader) string {
	var log strings.Builder
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "Ready to accept connections") {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return ""
		}
	}
	return log.String()
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
