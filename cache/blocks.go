package cache

import (
	"context"
	"strconv"
)

// Blocks keeps a chain's scanned blocks (evm.BlockStore): each block is
// traced once, on any machine sharing the store, and serves every later
// trace over it. Only blocks at or below Options.Final are kept. The
// encoding of a block belongs to its chain adapter; Blocks frames and checks it.
type Blocks struct{ c *Cache }

// Blocks returns the block store of the cache's chain.
func (c *Cache) Blocks() *Blocks { return &Blocks{c} }

func (b *Blocks) key(n uint64) string { return b.c.prefix + "b/" + strconv.FormatUint(n, 10) }

// GetBlocks returns the stored blocks among numbers; the rest are misses.
func (b *Blocks) GetBlocks(ctx context.Context, numbers []uint64) map[uint64][]byte {
	var keys []string
	for _, n := range numbers {
		if n <= b.c.opts.Final {
			keys = append(keys, b.key(n))
		}
	}
	got := b.c.get(ctx, keys)
	out := map[uint64][]byte{}
	for _, n := range numbers {
		if v, err := open(kindBlock, got[b.key(n)]); err == nil && n <= b.c.opts.Final {
			out[n] = v
			b.c.hits.Add(1)
		} else {
			b.c.misses.Add(1)
		}
	}
	return out
}

// PutBlocks stores the final blocks among blocks.
func (b *Blocks) PutBlocks(ctx context.Context, blocks map[uint64][]byte) {
	entries := map[string][]byte{}
	for n, v := range blocks {
		if n <= b.c.opts.Final {
			entries[b.key(n)] = seal(kindBlock, v)
		}
	}
	b.c.set(ctx, entries)
}
