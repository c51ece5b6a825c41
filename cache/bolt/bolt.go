// Package bolt is the embedded on-disk cache.Store (bbolt), the default
// store of flowtrace: one file in the user's cache directory.
//
// bbolt allows one process at a time: Open waits up to its timeout for
// another flowtrace to let go (telling its caller that it waits), then fails
// with cache.ErrLocked.
package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/flowtrace/flowtrace/cache"
)

// FileName is the store's file inside its directory.
const FileName = "cache.bolt"

var bucket = []byte("flowtrace")

// Store is a cache.Store in a bbolt file.
type Store struct {
	db *bbolt.DB
}

var _ cache.Store = (*Store)(nil)

// DefaultDir is $XDG_CACHE_HOME/flowtrace, or the system's user cache
// directory (os.UserCacheDir) followed by flowtrace.
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache: no user cache directory (set XDG_CACHE_HOME or use --cache dir:PATH): %w", err)
	}
	return filepath.Join(d, "flowtrace"), nil
}

// Open opens (creating it) the store in dir. When another process holds
// it, Open calls waiting (when not nil) once, then waits up to timeout for
// the release; after that it fails with cache.ErrLocked.
func Open(dir string, timeout time.Duration, waiting func()) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// bbolt tries the lock once when its timeout is below its retry period
	// (and never gives up when it is 0): try once, then say that we wait.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Nanosecond})
	if errors.Is(err, bbolt.ErrTimeout) && timeout > 0 {
		if waiting != nil {
			waiting()
		}
		db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout})
	}
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s (waited %s)", cache.ErrLocked, path, timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", path, err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("cache: open %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// GetMany returns copies of the values present.
func (s *Store) GetMany(_ context.Context, keys []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(keys))
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		for _, k := range keys {
			if v := b.Get([]byte(k)); v != nil {
				out[k] = slices.Clone(v) // v is only valid inside the transaction
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache: bolt get: %w", err)
	}
	return out, nil
}

// SetMany writes the entries in one transaction.
func (s *Store) SetMany(_ context.Context, entries map[string][]byte) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		for k, v := range entries {
			if v == nil {
				v = []byte{}
			}
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cache: bolt set: %w", err)
	}
	return nil
}

// DeletePrefix removes the keys starting with prefix in one transaction.
func (s *Store) DeletePrefix(_ context.Context, prefix string) (int64, error) {
	var n int64
	err := s.db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		p := []byte(prefix)
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Seek(p) {
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cache: bolt delete: %w", err)
	}
	return n, nil
}

// Stats counts the keys starting with prefix and their value bytes.
func (s *Store) Stats(_ context.Context, prefix string) (cache.Stats, error) {
	var st cache.Stats
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		p := []byte(prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			st.Keys++
			st.Bytes += int64(len(v))
		}
		return nil
	})
	if err != nil {
		return cache.Stats{}, fmt.Errorf("cache: bolt stats: %w", err)
	}
	return st, nil
}

// Describe names the store's file.
func (s *Store) Describe() string { return "bolt " + s.db.Path() }

// Close releases the file (and its lock).
func (s *Store) Close() error { return s.db.Close() }
