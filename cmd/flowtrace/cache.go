package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowtrace/flowtrace/cache"
	"github.com/flowtrace/flowtrace/cache/bolt"
	"github.com/flowtrace/flowtrace/cache/redis"
	"github.com/flowtrace/flowtrace/chains/evm"
	"github.com/flowtrace/flowtrace/tracer"
)

// cacheEnv names the environment variable --cache defaults to.
const cacheEnv = "FLOWTRACE_CACHE"

// lockWait is how long a trace waits for another flowtrace to release the
// embedded store before it runs without it.
var lockWait = 2 * time.Second

// sayWaiting returns what the embedded store calls when another flowtrace
// holds it: a line on w, before the wait.
func sayWaiting(w io.Writer, dir string) func() {
	return func() {
		fmt.Fprintf(w, "flowtrace: the cache dir:%s is in use by another flowtrace: waiting up to %s for it\n", dir, lockWait)
	}
}

// cacheFlags are the cache flags of trace (and of the cache subcommands).
type cacheFlags struct {
	spec        string // --cache; "" = $FLOWTRACE_CACHE or the embedded store
	reorgBuffer int    // --reorg-buffer; < 0 = the chain's default
}

func (c *cacheFlags) addSpecFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.spec, "cache", "", "hop cache: off, dir:PATH (embedded store) or redis://[:PASSWORD@]HOST[:PORT][/DB][?prefix=P] "+
		"(default $"+cacheEnv+", else the embedded store in the user cache directory)")
}

// register adds --cache and --reorg-buffer to trace under the Cache heading.
func (c *cacheFlags) register(cmd *cobra.Command) {
	c.addSpecFlag(cmd)
	cmd.Flags().IntVar(&c.reorgBuffer, "reorg-buffer", -1, "cache only blocks this far below the head (default per chain: "+reorgBufferHelp()+")")
	group(cmd, "Cache", "cache", "reorg-buffer")
}

// cacheSpec is a parsed --cache value.
type cacheSpec struct {
	off   bool
	dir   string // embedded store directory
	redis string // Redis URL
}

// resolve parses the --cache value, or $FLOWTRACE_CACHE, or the default.
// A recording or replay runs uncached unless --cache is given: every hop
// must reach the recording. A recording with a cache is refused.
func (c *cacheFlags) resolve(record, replay bool) (cacheSpec, error) {
	s := c.spec
	if s == "" {
		if record || replay {
			return cacheSpec{off: true}, nil
		}
		s = os.Getenv(cacheEnv)
	} else if record && s != "off" {
		return cacheSpec{}, usageErr("--record needs every answer from the node: drop --cache or use --cache off")
	}
	switch {
	case s == "off":
		return cacheSpec{off: true}, nil
	case s == "":
		dir, err := bolt.DefaultDir()
		if err != nil {
			return cacheSpec{}, usageErr("%v", err)
		}
		return cacheSpec{dir: dir}, nil
	case strings.HasPrefix(s, "dir:") && len(s) > 4:
		return cacheSpec{dir: s[4:]}, nil
	case strings.HasPrefix(s, "redis://") || strings.HasPrefix(s, "rediss://"):
		return cacheSpec{redis: s}, nil
	}
	shown := s
	if strings.Contains(s, "://") {
		shown = redis.Redact(s)
	}
	return cacheSpec{}, usageErr("--cache %q (or $%s): want off, dir:PATH or redis://HOST[:PORT][/DB]", shown, cacheEnv)
}

// open opens the store. When it cannot (Redis down, the embedded store
// locked), it says so once on warn and returns nil: the trace runs uncached.
func (s cacheSpec) open(ctx context.Context, warn io.Writer) cache.Store {
	switch {
	case s.off:
		return nil
	case s.redis != "":
		st, err := redis.Open(ctx, s.redis)
		if err != nil {
			fmt.Fprintf(warn, "flowtrace: warning: %v: tracing without a cache (same results, every hop from the node)\n", err)
			return nil
		}
		return st
	}
	st, err := bolt.Open(s.dir, lockWait, sayWaiting(warn, s.dir))
	if errors.Is(err, cache.ErrLocked) {
		fmt.Fprintf(warn, "flowtrace: warning: %v, probably by another flowtrace: tracing without a cache "+
			"(use --cache dir:OTHER_DIR or a shared redis:// cache for parallel traces)\n", err)
		return nil
	}
	if err != nil {
		fmt.Fprintf(warn, "flowtrace: warning: %v: tracing without a cache\n", err)
		return nil
	}
	return st
}

// wrap puts the cache in front of src for the probed chain: the trace's
// Source, and the block scan's BlockStore. With no store it returns src.
// Either way the requests made so far count as identifying the chain.
func (c *cacheFlags) wrap(ctx context.Context, store cache.Store, src *evm.Source, info evm.ChainInfo, chain string, warn io.Writer) tracer.Source {
	defer src.CountAsProbe()
	if store == nil {
		return src
	}
	net, _ := lookupChain(chain)
	buffer := net.ReorgBuffer
	if c.reorgBuffer >= 0 {
		buffer = uint64(c.reorgBuffer)
	}
	if info.Head < buffer {
		return src // nothing final yet
	}
	anchor := ""
	if buffer == 0 {
		// A chain with no finality (dev) may be reset to the same genesis:
		// its entries are valid for this head's history only.
		h, err := src.BlockHash(ctx, info.Head)
		if err != nil {
			fmt.Fprintf(warn, "flowtrace: warning: cache: %v: tracing without a cache\n", err)
			return src
		}
		anchor = h
	}
	ch := cache.New(store, cache.Options{
		Chain:    chain,
		ChainKey: hopCacheKey(src, info, anchor),
		Final:    info.Head - buffer,
		OnError: func(err error) {
			fmt.Fprintf(warn, "flowtrace: warning: %v: going on without the cache (same results, from the node)\n", err)
		},
	})
	src.UseBlockStore(ch.Blocks())
	return ch.Wrap(src)
}

// bridgesKeySuffix ends the cache key of a Source that decodes bridge
// deposits: its hops carry annotations a single-chain trace's do not, so
// neither reads the other's entries.
const bridgesKeySuffix = "+bridges"

// hopCacheKey names src's chain in the cache: the chain id, genesis and
// anchor, and whether its hops carry bridge annotations.
func hopCacheKey(src *evm.Source, info evm.ChainInfo, anchor string) string {
	k := cache.ChainKey(info.ChainID.String(), info.GenesisHash, anchor)
	if src.DecodesBridges() {
		k += bridgesKeySuffix
	}
	return k
}

// cacheStatsLine is the trace's cache summary for stderr.
func cacheStatsLine(store cache.Store, u tracer.Usage) string {
	where := "off"
	if store != nil {
		where = store.Describe()
	}
	return fmt.Sprintf("cache (%s): %d hits, %d misses; %d requests to identify the chain, %d for hops",
		where, u.CacheHits, u.CacheMisses, u.ProbeRequests, u.Requests-u.ProbeRequests)
}

// newCacheCmd is `flowtrace cache stats|clear`.
func newCacheCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache stats|clear",
		Short: "Show or clear the hop cache",
		Args:  cobra.NoArgs,
	}
	var f cacheFlags
	var chain string
	open := func(ctx context.Context) (cache.Store, error) {
		spec, err := f.resolve(false, false)
		if err != nil {
			return nil, err
		}
		if spec.off {
			return nil, usageErr("the cache is off (--cache off or $%s=off): nothing to show or clear", cacheEnv)
		}
		var st cache.Store
		if spec.redis != "" {
			st, err = redis.Open(ctx, spec.redis)
		} else {
			st, err = bolt.Open(spec.dir, lockWait, sayWaiting(stderr, spec.dir))
		}
		if err != nil {
			return nil, withCode(exitError, err)
		}
		return st, nil
	}
	stats := &cobra.Command{
		Use:   "stats [--cache SPEC]",
		Short: "Count the cached entries and their bytes, per chain",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			all, err := st.Stats(cmd.Context(), "")
			if err != nil {
				return withCode(exitError, err)
			}
			fmt.Fprintf(stdout, "store\t%s\nentries\t%d\nbytes\t%d\n", st.Describe(), all.Keys, all.Bytes)
			for _, c := range mustNetworks() {
				cs, err := st.Stats(cmd.Context(), cache.ChainPrefix(strconv.FormatInt(c.ChainID, 10)))
				if err != nil {
					return withCode(exitError, err)
				}
				fmt.Fprintf(stdout, "%s\t%d entries, %d bytes\n", c.Name, cs.Keys, cs.Bytes)
			}
			return nil
		},
	}
	clear := &cobra.Command{
		Use:   "clear [--chain NAME] [--cache SPEC]",
		Short: "Remove the cached entries of one chain, or all",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			prefix := ""
			if chain != "" {
				c, ok := lookupChain(chain)
				if !ok {
					return usageErr("unknown --chain %q: want one of %s", chain, chainNames())
				}
				prefix = cache.ChainPrefix(strconv.FormatInt(c.ChainID, 10))
			}
			st, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.DeletePrefix(cmd.Context(), prefix)
			if err != nil {
				return withCode(exitError, err)
			}
			what := "all chains"
			if chain != "" {
				what = chain
			}
			fmt.Fprintf(stdout, "removed %d entries (%s) from %s\n", n, what, st.Describe())
			return nil
		},
	}
	f.addSpecFlag(stats)
	f.addSpecFlag(clear)
	clear.Flags().StringVar(&chain, "chain", "", "only this chain: "+chainNames())
	cmd.AddCommand(stats, clear)
	return cmd
}
