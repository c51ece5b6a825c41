package main

import (
	"maps"
	"slices"
	"strings"
)

// chainFiles is the value of --record or --replay: a plain FILE for the
// traced chain, or CHAIN=FILE, one file per chain of a trace over several.
// The plain file lands in *plain, so that the single-chain code reads one
// string; the others wait in byChain until the traced chain is known
// (resolveFiles).
type chainFiles struct {
	plain   *string
	byChain map[string]string
	err     error // an unknown chain, or a chain given twice: reported by resolveFiles
}

func newChainFiles(plain *string) *chainFiles {
	return &chainFiles{plain: plain, byChain: map[string]string{}}
}

func (c *chainFiles) String() string {
	if c == nil || c.plain == nil { // pflag asks a zero value for its default
		return ""
	}
	return *c.plain
}

func (c *chainFiles) Type() string { return "FILE" }

// Set takes FILE or CHAIN=FILE; a path whose first part is not a chain
// name (out/a=b.replay) is a plain FILE.
func (c *chainFiles) Set(v string) error {
	m := chainPrefix.FindStringSubmatch(v)
	if m == nil || strings.ContainsAny(m[1], `/\.`) {
		*c.plain = v
		return nil
	}
	name, ok := chainName(m[1])
	if !ok {
		if c.err == nil {
			c.err = usageErr("%s=FILE: unknown chain %q: want one of %s, %s (or a plain FILE for the traced chain)", m[1], m[1], chainNames(), bitcoinChainNames())
		}
		return nil
	}
	if _, dup := c.byChain[name]; dup && c.err == nil {
		c.err = usageErr("%s=FILE given twice: one file per chain", m[1])
	}
	c.byChain[name] = m[2]
	return nil
}

// resolve moves traced's CHAIN=FILE to the plain file and returns the other
// chains' files by chain name. flag names the flag in messages.
func (c *chainFiles) resolve(flag, traced string) (map[string]string, error) {
	if c == nil {
		return map[string]string{}, nil
	}
	if c.err != nil {
		return nil, usageErr("--%s %v", flag, c.err)
	}
	others := maps.Clone(c.byChain)
	if f, ok := others[traced]; ok {
		if *c.plain != "" && *c.plain != f {
			return nil, usageErr("--%s: two files for %s (a plain FILE is the traced chain's): give one", flag, traced)
		}
		*c.plain = f
		delete(others, traced)
	}
	if len(others) > 0 && *c.plain == "" {
		return nil, usageErr("--%s %s=FILE: no file for the traced chain %s: give --%s FILE (or %s=FILE) for it too",
			flag, slices.Sorted(maps.Keys(others))[0], traced, flag, traced)
	}
	return others, nil
}
