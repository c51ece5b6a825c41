// Package cache keeps the answers of a chain node that can never change
// (transfers in final blocks, scanned blocks, account kinds and token
// metadata) in a Store, so that no hop is asked twice, on one machine or on
// every machine sharing a Redis.
//
// Source wraps a tracer.Source with the same interface: the walk never knows
// whether a hop came from the store or the node. Blocks serves the EVM
// block scan (evm.BlockStore). Stores live in subpackages with the same type
// name: bolt.Store (embedded, the default), redis.Store, memory.Store (tests).
//
// The package knows no RPC and no chain beyond the key it is given: a chain
// id and genesis hash (see ChainKey). A store that fails is left alone for
// the rest of the run and the answers come from the node.
package cache

import (
	"context"
	"errors"
	"strings"
)

// Store is a key/value store of cache entries. Keys are printable strings,
// values opaque bytes. Implementations are safe for concurrent use and
// write each value atomically (a reader sees a whole old or new value).
type Store interface {
	// GetMany returns the values of the keys present; missing keys are
	// absent from the map. An error means the store failed, not a miss.
	GetMany(ctx context.Context, keys []string) (map[string][]byte, error)
	// SetMany writes the entries, replacing older values.
	SetMany(ctx context.Context, entries map[string][]byte) error
	// DeletePrefix removes every key starting with prefix ("" = all) and
	// returns how many it removed.
	DeletePrefix(ctx context.Context, prefix string) (int64, error)
	// Stats counts the keys starting with prefix and their value bytes.
	Stats(ctx context.Context, prefix string) (Stats, error)
	// Describe names the store for messages (never a password).
	Describe() string
	Close() error
}

// Stats describes what a store holds under a prefix.
type Stats struct {
	Keys  int64
	Bytes int64
}

// FormatVersion is the version of the key layout and entry encoding. A
// change makes older entries unreachable (their keys differ) and unreadable
// (their version byte differs): they are misses, never wrong answers.
const FormatVersion = 1

// ErrLocked is returned by an embedded store another process holds.
var ErrLocked = errors.New("cache: the store is locked by another process")

// ChainKey names a chain in keys: its chain id and the first 16 hex digits
// of its genesis hash, so two chains with one id never share entries.
// anchor, when not empty (the hash of the head block of a dev chain, which
// may be reset to the same genesis), narrows it to one history.
func ChainKey(chainID, genesisHash, anchor string) string {
	k := chainID + "/" + short(genesisHash)
	if anchor != "" {
		k += "-" + short(anchor)
	}
	return k
}

// ChainPrefix is the key prefix of every entry of the chains with this id
// (for `flowtrace cache clear --chain`).
func ChainPrefix(chainID string) string { return chainID + "/" }

func short(hash string) string {
	h := strings.ToLower(strings.TrimPrefix(hash, "0x"))
	return h[:min(16, len(h))]
}
