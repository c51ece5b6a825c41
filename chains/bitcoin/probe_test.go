package bitcoin

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/fixtures/btcnode"
)

// The probe on real btcd nodes with fewer indexes: the method chosen and
// the flag named.
func TestProbeIndexes(t *testing.T) {
	for _, tt := range []struct {
		opts             btcnode.Options
		txIndex, addrIdx bool
		spends           SpendMethod
		windowErr        string
	}{
		{btcnode.Options{}, true, true, SpendsByAddrIndex, ""},
		{btcnode.Options{NoAddrIndex: true}, true, false, SpendsByBlockScan, ""},
		{btcnode.Options{NoTxIndex: true}, false, false, SpendsByBlockScan, "--txindex"},
	} {
		n := btcnode.ForTestWith(t, tt.opts)
		ctx := context.Background()
		if _, err := n.Mine(ctx, 3); err != nil {
			t.Fatal(err)
		}
		c, err := Dial(n.URL, Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.ProbeNode(ctx)
		if err != nil {
			t.Fatalf("%+v: %v", tt.opts, err)
		}
		if p.Chain != "regtest" || p.Params != btcnode.Params || p.Height != 3 || !p.Batch || p.Pruned {
			t.Errorf("%+v: probe %+v", tt.opts, p)
		}
		if p.TxIndex != tt.txIndex || p.AddrIndex != tt.addrIdx || p.Spends != tt.spends || p.Why == "" {
			t.Errorf("%+v: txindex %v addrindex %v spends %q (%s); want %v %v %q", tt.opts, p.TxIndex, p.AddrIndex, p.Spends, p.Why, tt.txIndex, tt.addrIdx, tt.spends)
		}
		err = p.CheckWindow(1)
		if tt.windowErr == "" && err != nil || tt.windowErr != "" && (err == nil || !strings.Contains(err.Error(), tt.windowErr)) {
			t.Errorf("%+v: CheckWindow: %v, want %q", tt.opts, err, tt.windowErr)
		}
		if err := p.CheckWindow(10); err == nil {
			t.Errorf("%+v: a window after the tip was accepted", tt.opts)
		}
		if !tt.addrIdx {
			_, err := c.AddressTxs(ctx, n.Miner.Address())
			if !errors.Is(err, ErrNoAddrIndex) {
				t.Errorf("%+v: AddressTxs: %v, want ErrNoAddrIndex", tt.opts, err)
			}
		}
		if !tt.txIndex {
			// A block whose tx spends an output from before it needs the
			// transaction index; the error names the flag.
			if _, err := n.Mine(ctx, btcnode.CoinbaseMaturity); err != nil {
				t.Fatal(err)
			}
			k, _ := btcnode.NewKey()
			if _, err := n.Send(ctx, n.Miner, 1000, btcnode.Out{Address: k.Address(), Value: 1e8}); err != nil {
				t.Fatal(err)
			}
			if _, err := n.Mine(ctx, 1); err != nil {
				t.Fatal(err)
			}
			h, _ := n.Height(ctx)
			err := NewScanner(c, ScanOptions{}).Read(ctx, uint64(h), uint64(h))
			if !errors.Is(err, ErrNoTxIndex) {
				t.Errorf("scan without txindex: %v, want ErrNoTxIndex", err)
			}
		}
	}
}

func TestCheckWindowPruned(t *testing.T) {
	p := &Probe{Chain: "main", Height: 900_000, Pruned: true, PruneHeight: 850_000, TxIndex: true}
	if err := p.CheckWindow(860_000); err != nil {
		t.Errorf("a window above the prune height: %v", err)
	}
	err := p.CheckWindow(840_000)
	if err == nil || !strings.Contains(err.Error(), "pruned") || !strings.Contains(err.Error(), "850000") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a window below the prune height: %v", err)
	}
	p.TxIndex = false
	if err := p.CheckWindow(860_000); err == nil || !strings.Contains(err.Error(), "-txindex") {
		t.Errorf("no txindex: %v", err)
	}
	for _, name := range []string{"main", "test", "testnet4", "signet", "regtest", "simnet", "mainnet", "testnet3"} {
		if _, ok := ChainParams(name); !ok {
			t.Errorf("chain %q unknown", name)
		}
	}
	if _, ok := ChainParams("litecoin"); ok {
		t.Error("an unknown chain was mapped")
	}
}
