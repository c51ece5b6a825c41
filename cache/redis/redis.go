// Package redis is a cache.Store in Redis (go-redis/v9), for teams and
// clusters of tracers sharing what nodes answered. Reads and writes are
// pipelined; every key carries the store's prefix.
package redis

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/flowtrace/flowtrace/cache"
)

// DefaultPrefix is the key prefix when the URL names none.
const DefaultPrefix = "flowtrace:"

// pipeChunk is the most commands sent in one pipeline.
const pipeChunk = 1000

// quiet drops go-redis's own log lines (pool dial failures...): the
// errors reach the caller, who says it once.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func init() { goredis.SetLogger(quiet{}) }

// Store is a cache.Store in a Redis database.
type Store struct {
	c      *goredis.Client
	prefix string
	name   string // the URL without password, for messages
}

var _ cache.Store = (*Store)(nil)

// Open connects to rawURL (redis:// or rediss://, with optional user,
// password and /DB; ?prefix=P sets the key prefix, default DefaultPrefix)
// and pings it. Errors never show the password.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	c, prefix, err := Connect(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return &Store{c: c, prefix: prefix, name: Redact(rawURL)}, nil
}

// Redact returns rawURL without its password (and query), for messages.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "redis URL (unparsable)"
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.User != nil && u.User.Username() != "" {
		r.User = url.User(u.User.Username())
	}
	return r.String()
}

// scrub removes the URL's password from a message, should a driver echo it.
func scrub(msg string, u *url.URL) string {
	if u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "***")
		}
	}
	return msg
}

// GetMany reads the keys in pipelines of GETs; a missing key (redis.Nil)
// is a miss, any other error fails the call.
func (s *Store) GetMany(ctx context.Context, keys []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(keys))
	// One MGET per chunk in one pipeline: the server parses one command per
	// chunk, not one per key, and a miss is a nil element.
	var cmds []*goredis.SliceCmd
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for start := 0; start < len(keys); start += pipeChunk {
			chunk := keys[start:min(start+pipeChunk, len(keys))]
			prefixed := make([]string, len(chunk))
			for i, k := range chunk {
				prefixed[i] = s.prefix + k
			}
			cmds = append(cmds, p.MGet(ctx, prefixed...))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache: %s: mget: %w", s.name, err)
	}
	for c, cmd := range cmds {
		for i, v := range cmd.Val() {
			if v, ok := v.(string); ok {
				out[keys[c*pipeChunk+i]] = []byte(v)
			}
		}
	}
	return out, nil
}

// SetMany writes the entries in pipelines of SETs (each atomic).
func (s *Store) SetMany(ctx context.Context, entries map[string][]byte) error {
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	for start := 0; start < len(keys); start += pipeChunk {
		chunk := keys[start:min(start+pipeChunk, len(keys))]
		cmds, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, k := range chunk {
				p.Set(ctx, s.prefix+k, entries[k], 0)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("cache: %s: set: %w", s.name, err)
		}
		for _, c := range cmds {
			if err := c.Err(); err != nil {
				return fmt.Errorf("cache: %s: set: %w", s.name, err)
			}
		}
	}
	return nil
}

// scan calls fn with each batch of keys (with the store's prefix) matching prefix.
func (s *Store) scan(ctx context.Context, prefix string, fn func(keys []string) error) error {
	it := s.c.Scan(ctx, 0, escapeGlob(s.prefix+prefix)+"*", pipeChunk).Iterator()
	var batch []string
	for it.Next(ctx) {
		batch = append(batch, it.Val())
		if len(batch) == pipeChunk {
			if err := fn(batch); err != nil {
				return err
			}
			batch = nil
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

// DeletePrefix removes the keys starting with prefix (SCAN + UNLINK).
func (s *Store) DeletePrefix(ctx context.Context, prefix string) (int64, error) {
	var n int64
	err := s.scan(ctx, prefix, func(keys []string) error {
		d, err := s.c.Unlink(ctx, keys...).Result()
		n += d
		return err
	})
	if err != nil {
		return n, fmt.Errorf("cache: %s: delete: %w", s.name, err)
	}
	return n, nil
}

// Stats counts the keys starting with prefix and their value bytes (STRLEN).
func (s *Store) Stats(ctx context.Context, prefix string) (cache.Stats, error) {
	var st cache.Stats
	err := s.scan(ctx, prefix, func(keys []string) error {
		cmds := make([]*goredis.IntCmd, len(keys))
		_, _ = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.StrLen(ctx, k)
			}
			return nil
		})
		for _, c := range cmds {
			n, err := c.Result()
			if err != nil {
				return err
			}
			st.Keys++
			st.Bytes += n
		}
		return nil
	})
	if err != nil {
		return cache.Stats{}, fmt.Errorf("cache: %s: stats: %w", s.name, err)
	}
	return st, nil
}

// escapeGlob escapes the pattern characters of SCAN MATCH.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Describe names the store: its URL without password.
func (s *Store) Describe() string { return s.name }

// Close closes the connections.
func (s *Store) Close() error { return s.c.Close() }
