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
	s, err := bolt.Open(dir, timeout, func() { t.Errorf("Open of a free store %s said it waits", dir) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cache.Store { return open(t, t.TempDir(), time.Second) })
}

// TestLocked: a second open of a held store says once that it waits, then
// fails with cache.ErrLocked; once released it opens.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	first := open(t, dir, time.Second)
	waits := 0
	_, err := bolt.Open(dir, 100*time.Millisecond, func() { waits++ })
	if !errors.Is(err, cache.ErrLocked) {
		t.Fatalf("second open: %v, want cache.ErrLocked", err)
	}
	if waits != 1 {
		t.Fatalf("the second open said %d times that it waits, want once", waits)
	}
	first.Close()
	open(t, dir, time.Second)
}

// TestWaitsForRelease: an open that waits gets the store as soon as its
// holder lets go, with no time limit involved: the holder closes only once
// the open said that it waits.
func TestWaitsForRelease(t *testing.T) {
	dir := t.TempDir()
	held, err := bolt.Open(dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{})
	released := make(chan error, 1)
	go func() {
		<-waiting
		released <- held.Close()
	}()
	s, err := bolt.Open(dir, time.Hour, func() { close(waiting) })
	if err != nil {
		t.Fatalf("open after the release: %v", err)
	}
	defer s.Close()
	if err := <-released; err != nil {
		t.Fatal(err)
	}
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
	s, err := bolt.Open(b.TempDir(), time.Second, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.Bench(b, s, 600, 100)
}
