// Package memory is an in-memory cache.Store, for tests and one-off runs.
package memory

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/flowtrace/flowtrace/cache"
)

// Store keeps entries in a map for its life.
type Store struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ cache.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store { return &Store{m: map[string][]byte{}} }

// GetMany returns copies of the values present.
func (s *Store) GetMany(_ context.Context, keys []string) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]byte, len(keys))
	for _, k := range keys {
		if v, ok := s.m[k]; ok {
			out[k] = slices.Clone(v)
		}
	}
	return out, nil
}

// SetMany stores copies of the values.
func (s *Store) SetMany(_ context.Context, entries map[string][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range entries {
		s.m[k] = slices.Clone(v)
	}
	return nil
}

// DeletePrefix removes the keys starting with prefix.
func (s *Store) DeletePrefix(_ context.Context, prefix string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for k := range s.m {
		if strings.HasPrefix(k, prefix) {
			delete(s.m, k)
			n++
		}
	}
	return n, nil
}

// Stats counts the keys starting with prefix and their bytes.
func (s *Store) Stats(_ context.Context, prefix string) (cache.Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var st cache.Stats
	for k, v := range s.m {
		if strings.HasPrefix(k, prefix) {
			st.Keys++
			st.Bytes += int64(len(v))
		}
	}
	return st, nil
}

// Describe names the store.
func (s *Store) Describe() string { return "memory" }

// Close does nothing.
func (s *Store) Close() error { return nil }
