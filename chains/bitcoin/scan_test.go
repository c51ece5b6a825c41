package bitcoin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/cache"
	"github.com/flowtrace/flowtrace/cache/memory"
)

var _ BlockStore = (*cache.Blocks)(nil)

// A second scan over the same window with the same block store reads no
// block from the node.
func TestScanBlockStore(t *testing.T) {
	fc, rp := loadCase(t)
	ctx := context.Background()
	store := cache.New(memory.New(), cache.Options{Chain: "bitcoin", ChainKey: "bitcoin-regtest", Final: fc.To}).Blocks()
	c, err := Dial("http://replay.invalid/", Options{Transport: rp})
	if err != nil {
		t.Fatal(err)
	}
	first := NewScanner(c, ScanOptions{Store: store})
	if err := first.Read(ctx, fc.From, fc.To); err != nil {
		t.Fatal(err)
	}
	requests, _ := c.Usage()
	second := NewScanner(c, ScanOptions{Store: store})
	if err := second.Read(ctx, fc.From, fc.To); err != nil {
		t.Fatal(err)
	}
	if n := second.Reads(); n != 0 {
		t.Errorf("the second scan read %d blocks from the node", n)
	}
	if again, _ := c.Usage(); again != requests {
		t.Errorf("the second scan sent %d requests", again-requests)
	}
	for h := fc.From; h <= fc.To; h++ {
		if d := cmp.Diff(first.Block(h), second.Block(h)); d != "" {
			t.Errorf("block %d from the store differs (-node +store):\n%s", h, d)
		}
	}
	if _, err := decodeBlock(fc.From+1, mustEncode(t, first.Block(fc.From))); err == nil {
		t.Error("a stored block was accepted for another height")
	}
}

func mustEncode(t *testing.T, b *Block) []byte {
	t.Helper()
	data, err := encodeBlock(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A window whose first blocks took an hour each is refused with a message
// naming what to do.
func TestScanTooLong(t *testing.T) {
	fc, rp := loadCase(t)
	c, err := Dial("http://replay.invalid/", Options{Transport: rp, MaxConcurrent: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := NewScanner(c, ScanOptions{BlocksPerBatch: 1, MaxDuration: 90 * time.Minute})
	clock := time.Unix(0, 0)
	s.now = func() time.Time { clock = clock.Add(time.Hour); return clock }
	err = s.Read(context.Background(), fc.From, fc.To)
	if !errors.Is(err, ErrScanTooLong) || !strings.Contains(err.Error(), "narrow the block window") || !strings.Contains(err.Error(), "--addrindex") {
		t.Fatalf("got %v, want ErrScanTooLong with what to do", err)
	}
	if s.Reads() != 1 {
		t.Errorf("read %d blocks before refusing, want 1", s.Reads())
	}
	if err := s.Read(context.Background(), fc.To, fc.From); err == nil {
		t.Error("an empty window was accepted")
	}
}
