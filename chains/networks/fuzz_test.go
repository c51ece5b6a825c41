package networks_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/chains/networks"
)

// FuzzRead feeds Read arbitrary files: it must never panic, and every
// network it accepts must hold what the rest of flowtrace relies on.
func FuzzRead(f *testing.F) {
	b, err := os.ReadFile("networks.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(strings.SplitN(string(b), "\n", 2)[0] + "\nx,,dev,7,,X,18,0,0,,0,no,yes,0,,https://x.io\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		all, err := networks.Read(bytes.NewReader(in))
		if err != nil {
			return
		}
		ids := map[int64]bool{}
		for _, n := range all {
			if n.Name == "" || n.ChainID <= 0 || ids[n.ChainID] || n.NativeSymbol == "" || len(n.Sources) == 0 {
				t.Fatalf("accepted %+v", n)
			}
			if n.Kind != networks.Dev && len(n.GenesisHash) != 66 {
				t.Fatalf("accepted a %s without a genesis hash: %+v", n.Kind, n)
			}
			ids[n.ChainID] = true
		}
	})
}
