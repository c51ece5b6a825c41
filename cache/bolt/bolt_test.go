package bolt_test

import (
	"errors"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/cache"
	"github.com/flowtrace/flowtrace/cache/bolt"
	"github.com/flowtrace/flowtrace/cache/storetest"
)

func open(t *testing.T, dir string, timeout time.Duration) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(dir, timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cache.Store { return open(t, t.TempDir(), time.Second) })
}

// TestLocked: a second open of a held store waits about its timeout, then
// fails with cache.ErrLocked; once released it opens.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	first, err := bolt.Open(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = bolt.Open(dir, 300*time.Millisecond)
	if !errors.Is(err, cache.ErrLocked) {
		t.Fatalf("second open: %v, want cache.ErrLocked", err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Fatalf("gave up after %s, before the timeout", waited)
	}
	first.Close()
	open(t, dir, time.Second)
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg-test")
	d, err := bolt.DefaultDir()
	if err != nil || d != "/tmp/xdg-test/flowtrace" {
		t.Fatalf("DefaultDir() = %q, %v", d, err)
	}
}

// BenchmarkHopEntries: 100 entries of 600 bytes (a hop's frontier, ~6
// transfers each) per call.
func BenchmarkHopEntries(b *testing.B) {
	s, err := bolt.Open(b.TempDir(), time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.Bench(b, s, 600, 100)
}
