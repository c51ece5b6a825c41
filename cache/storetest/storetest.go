// Package storetest is the conformance suite every cache.Store must pass.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/flowtrace/flowtrace/cache"
)

// Run runs the suite; open returns an empty store, closed by the caller's cleanup.
func Run(t *testing.T, open func(t *testing.T) cache.Store) {
	ctx := context.Background()
	t.Run("GetMissing", func(t *testing.T) {
		s := open(t)
		got, err := s.GetMany(ctx, []string{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("empty store answered %q", got)
		}
	})
	t.Run("SetGetOverwrite", func(t *testing.T) {
		s := open(t)
		mustSet(t, s, map[string][]byte{"x/1": []byte("one"), "x/2": {0, 1, 2, 255}, "y": {}})
		mustSet(t, s, map[string][]byte{"x/1": []byte("uno")})
		got, err := s.GetMany(ctx, []string{"x/1", "x/2", "y", "z"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]byte{"x/1": []byte("uno"), "x/2": {0, 1, 2, 255}, "y": {}}
		if len(got) != len(want) {
			t.Fatalf("got %d keys %q, want %q", len(got), got, want)
		}
		for k, v := range want {
			if g, ok := got[k]; !ok || !bytes.Equal(g, v) {
				t.Errorf("%s: got %q (present %v), want %q", k, g, ok, v)
			}
		}
	})
	t.Run("ValuesAreCopies", func(t *testing.T) {
		s := open(t)
		v := []byte("abc")
		mustSet(t, s, map[string][]byte{"k": v})
		v[0] = 'X'
		got, _ := s.GetMany(ctx, []string{"k"})
		if string(got["k"]) != "abc" {
			t.Fatalf("store kept the caller's slice: %q", got["k"])
		}
	})
	t.Run("ManyKeys", func(t *testing.T) {
		s := open(t)
		entries := map[string][]byte{}
		var keys []string
		for i := range 2500 {
			k := fmt.Sprintf("many/%05d", i)
			entries[k] = []byte(k)
			keys = append(keys, k)
		}
		mustSet(t, s, entries)
		got, err := s.GetMany(ctx, append(keys, "many/missing"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(entries) {
			t.Fatalf("got %d of %d keys", len(got), len(entries))
		}
		for k, v := range got {
			if string(v) != k {
				t.Fatalf("%s = %q", k, v)
			}
		}
	})
	t.Run("DeletePrefixAndStats", func(t *testing.T) {
		s := open(t)
		mustSet(t, s, map[string][]byte{"1/a": []byte("12345"), "1/b": []byte("1"), "2/a": []byte("xy"), "10/a": []byte("z")})
		st, err := s.Stats(ctx, "1/")
		if err != nil {
			t.Fatal(err)
		}
		if st != (cache.Stats{Keys: 2, Bytes: 6}) {
			t.Fatalf("Stats(1/) = %+v, want 2 keys, 6 bytes", st)
		}
		all, err := s.Stats(ctx, "")
		if err != nil || all.Keys != 4 || all.Bytes != 9 {
			t.Fatalf("Stats() = %+v, %v; want 4 keys, 9 bytes", all, err)
		}
		n, err := s.DeletePrefix(ctx, "1/")
		if err != nil || n != 2 {
			t.Fatalf("DeletePrefix(1/) = %d, %v; want 2", n, err)
		}
		got, _ := s.GetMany(ctx, []string{"1/a", "1/b", "2/a", "10/a"})
		if len(got) != 2 || got["2/a"] == nil || got["10/a"] == nil {
			t.Fatalf("after DeletePrefix(1/): %q", got)
		}
		if n, err := s.DeletePrefix(ctx, ""); err != nil || n != 2 {
			t.Fatalf("DeletePrefix() = %d, %v; want 2", n, err)
		}
		if st, _ := s.Stats(ctx, ""); st.Keys != 0 {
			t.Fatalf("after clearing: %+v", st)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		// Writers replace one key with whole values of different sizes;
		// readers must only ever see one of them whole.
		vals := [][]byte{bytes.Repeat([]byte{'a'}, 10), bytes.Repeat([]byte{'b'}, 50000)}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					if err := s.SetMany(ctx, map[string][]byte{"race": vals[(w+i)%2]}); err != nil {
						errs <- err
						return
					}
					got, err := s.GetMany(ctx, []string{"race"})
					if err != nil {
						errs <- err
						return
					}
					if v := got["race"]; !bytes.Equal(v, vals[0]) && !bytes.Equal(v, vals[1]) {
						errs <- fmt.Errorf("torn value of %d bytes", len(v))
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
	t.Run("Describe", func(t *testing.T) {
		if open(t).Describe() == "" {
			t.Fatal("empty Describe")
		}
	})
}

func mustSet(t *testing.T, s cache.Store, entries map[string][]byte) {
	t.Helper()
	if err := s.SetMany(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
}
