package evm

import (
	"context"
	"math/big"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/flowtrace/flowtrace/chains/labels"
	"github.com/flowtrace/flowtrace/tracer"
)

// The walk on real mainnet data: the transfers decoded from block
// 17173049's logs (testdata/ethereum-etl), with each transaction's signer
// from the same block's transactions, served by an in-memory source. The
// seed is the MEV bot 0x6b75d8af...9a80 of the block's sandwich: in tx
// 0xeb107a40 it buys token 0x1ce27055... from the Uniswap V2 pair
// 0x7054b0f9... with WETH, and in tx 0xfb6562bc it sells the same amount
// back to the pair for WETH. Taking the first purchase as the theft, the
// walk must follow the token into the pair, pair the pair's WETH payment
// back to the bot as the swap's output at the executed rate, judge WETH
// genuine by the bundled token registry, and account for every transfer.

type etlTx struct {
	Hash   common.Hash    `json:"hash"`
	From   common.Address `json:"from_address"`
	To     common.Address `json:"to_address"`
	Status int            `json:"receipt_status"`
}

// etlSource serves a fixed list of real transfers: an in-memory fake of the
// chain (the walk is pure logic over what a source answers).
type etlSource struct {
	transfers []tracer.Transfer
	contracts map[tracer.Address]bool
	tokens    map[tracer.Address]tracer.Token
}

func (s *etlSource) Transfers(_ context.Context, q tracer.TransferQuery) ([]tracer.Transfer, error) {
	var out []tracer.Transfer
	for _, t := range s.transfers {
		side := t.From
		if q.Direction == tracer.Incoming {
			side = t.To
		}
		if slices.Contains(q.Addresses, side) && t.BlockNumber >= q.Window.From && t.BlockNumber <= q.Window.To {
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *etlSource) Describe(_ context.Context, accounts, tokens []tracer.Address) (tracer.Descriptions, error) {
	d := tracer.Descriptions{Accounts: map[tracer.Address]tracer.Account{}, Tokens: map[tracer.Address]tracer.Token{}}
	for _, a := range accounts {
		d.Accounts[a] = tracer.Account{IsContract: s.contracts[a]}
	}
	for _, a := range tokens {
		if t, ok := s.tokens[a]; ok {
			d.Tokens[a] = t
		}
	}
	return d, nil
}

// etlWalkSource decodes the real logs into transfers signed by their real
// transaction senders. The contracts are the accounts the data proves to be
// contracts: every log emitter, and the bot, which the pair's Swap events
// name as the caller (their sender topic) of transactions the bot did not sign.
func etlWalkSource(t *testing.T) *etlSource {
	signer := map[string]tracer.Address{}
	for _, tx := range readJSONL[etlTx](t, "testdata/ethereum-etl/transactions_17173049.jsonl") {
		if tx.Status != 1 {
			t.Fatalf("tx %s failed", tx.Hash.Hex())
		}
		signer[tx.Hash.Hex()] = addr(tx.From)
	}
	// The traded token's metadata as public token lists give it (the
	// logs do not carry it); WETH's comes from the bundled registry.
	s := &etlSource{contracts: map[tracer.Address]bool{}, tokens: map[tracer.Address]tracer.Token{
		"0x1ce270557C1f68Cfb577b856766310Bf8B47FD9C": {Symbol: "MONG", Name: "MONG", Decimals: 18},
		"0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2": {Symbol: "WETH", Name: "Wrapped Ether", Decimals: 18},
	}}
	logs := etlLogs(t)
	for _, l := range logs {
		s.contracts[addr(l.Address)] = true
	}
	swap := common.HexToHash("0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822")
	for _, l := range logs {
		if len(l.Topics) == 3 && l.Topics[0] == swap && signer[l.TxHash.Hex()] != addr(common.BytesToAddress(l.Topics[1].Bytes())) {
			s.contracts[addr(common.BytesToAddress(l.Topics[1].Bytes()))] = true
		}
	}
	for _, x := range logsToTransfers("ethereum", logs) {
		from, ok := signer[x.TxHash]
		if !ok {
			t.Fatalf("no transaction for %s", x.TxHash)
		}
		x.TxFrom = from
		s.transfers = append(s.transfers, x)
	}
	return s
}

func TestEthereumETLWalk(t *testing.T) {
	const (
		buy          = "0xeb107a40ba73a50c79a9f2026e902d758d1c5e5e211f7a7db1b294f88f118dd0"
		sell         = "0xfb6562bc2ebde7ca21528e88bd9f5506949754e0880e79778007bc95819adb10"
		bought, paid = "150188698577042438264952193024", "7291558767169110016" // log 1 and log 11 (ethereum-etl's token transfers)
	)
	var (
		bot  = addr(common.HexToAddress("0x6b75d8af000000e20b7a7ddf000ba900b4009a80"))
		pair = addr(common.HexToAddress("0x7054b0f980a7eb5b3a6b3446f3c947d80162775c"))
		tok  = tracer.Asset(addr(common.HexToAddress("0x1ce270557c1f68cfb577b856766310bf8b47fd9c")))
		weth = tracer.Asset(addr(common.HexToAddress("0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")))
	)
	reg, err := labels.Bundled()
	if err != nil {
		t.Fatal(err)
	}
	src := etlWalkSource(t)
	tr, err := tracer.Walk(context.Background(), src, tracer.Options{
		Chain: "ethereum", Seeds: []tracer.Address{bot}, Window: tracer.BlockRange{From: 17173049, To: 17173049},
		Labels: reg, Tokens: reg, TheftTxs: []string{buy},
	})
	if err != nil {
		t.Fatalf("Walk: %v", err) // also ErrUnaccounted: a transfer read and not accounted
	}
	if tr.Stats.StopReason != tracer.StopComplete {
		t.Errorf("stop = %q, want complete", tr.Stats.StopReason)
	}

	// The stolen value is what the buy moved to the bot: the token, nothing else.
	if len(tr.Summary.Assets) != 2 {
		t.Fatalf("assets = %+v, want the token and WETH (skipped %+v)", tr.Summary.Assets, tr.Skipped)
	}
	for _, s := range tr.Summary.Assets {
		switch s.Asset {
		case tok:
			if s.Stolen.String() != bought {
				t.Errorf("token stolen = %v, want %s (log 1 of the buy)", s.Stolen, bought)
			}
			if s.Buckets[tracer.BucketSwapped].String() != bought {
				t.Errorf("token buckets = %v, want all %s swapped at the pair", s.Buckets, bought)
			}
		case weth:
			if s.Stolen.Sign() != 0 || s.SwappedIn == nil || s.SwappedIn.String() != paid {
				t.Errorf("WETH stolen %v swapped in %v, want 0 and %s (the sale's output)", s.Stolen, s.SwappedIn, paid)
			}
		default:
			t.Errorf("unexpected asset %s", s.Asset)
		}
	}
	checkBuckets(t, tr)

	// Followed: the bot's sale of the token to the pair (all of it stolen),
	// and the pair's real WETH payment back at the executed rate
	// (taint 100% of the input, so all 7.29 WETH).
	want := map[string]string{sell + "/log:10": bought, sell + "/log:11": paid}
	got := map[string]string{}
	for _, x := range tr.Transfers {
		got[x.ID()] = x.Tainted.String()
		if tracer.Classify(x.Transfer, "ethereum", reg, func(tracer.Address) (tracer.Token, bool) { return tracer.Token{}, false },
			func(a tracer.Address) bool { return src.contracts[a] }) != tracer.TrustGenuine {
			t.Errorf("followed %s is not genuine", x.ID())
		}
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("followed %s tainted %q, want %s (followed: %v)", id, got[id], w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("followed %v, want %v", got, want)
	}
	if !reg.Recognised("ethereum", tracer.Address(weth)) {
		t.Errorf("the bundled registry does not recognise WETH")
	}
	if n := nodeOf(tr, pair); n == nil || !n.IsContract || n.Received[tok].String() != bought {
		t.Errorf("pair node = %+v, want a contract that received %s of the token", n, bought)
	}
	if n := nodeOf(tr, bot); n == nil || n.Held[weth].String() != paid {
		t.Errorf("bot node = %+v, want it holding the %s WETH it was paid", n, paid)
	}
}

// checkBuckets asserts that nothing is lost: every asset's buckets add up to
// what was stolen plus what was bought with stolen value.
func checkBuckets(t *testing.T, tr *tracer.Trace) {
	t.Helper()
	for _, s := range tr.Summary.Assets {
		sum, want := new(big.Int), new(big.Int).Set(s.Stolen)
		for _, v := range s.Buckets {
			sum.Add(sum, v)
		}
		if s.SwappedIn != nil {
			want.Add(want, s.SwappedIn)
		}
		if sum.Cmp(want) != 0 {
			t.Errorf("asset %s: buckets %v add to %s, want %s", s.Asset, s.Buckets, sum, want)
		}
	}
}

func nodeOf(tr *tracer.Trace, a tracer.Address) *tracer.Node {
	for i := range tr.Nodes {
		if tr.Nodes[i].Address == a {
			return &tr.Nodes[i]
		}
	}
	return nil
}

// TestEthereumETLUSDT: a real USDT transfer (USDT's transfer returns no
// bool, but its Transfer event is standard) decodes to the amount ethereum
// etl's transaction input states (transfer(0x1f87bc66..., 0x1c9c380), 30
// USDT), and is genuine: by the bundled registry, and without one because
// its sender signed the transaction.
func TestEthereumETLUSDT(t *testing.T) {
	var logs []types.Log
	for _, l := range readJSONL[etlLog](t, "testdata/ethereum-etl/logs_17173049_usdt.jsonl") {
		logs = append(logs, types.Log{Address: l.Address, Topics: l.Topics, Data: l.Data, BlockNumber: l.BlockNumber,
			TxHash: l.TxHash, TxIndex: l.TxIndex, Index: l.LogIndex})
	}
	got := logsToTransfers("ethereum", logs)
	if len(got) != 1 {
		t.Fatalf("%d transfers, want 1", len(got))
	}
	x := got[0]
	var signer tracer.Address
	for _, tx := range readJSONL[etlTx](t, "testdata/ethereum-etl/transactions_17173049.jsonl") {
		if tx.Hash.Hex() == x.TxHash {
			signer = addr(tx.From)
		}
	}
	x.TxFrom = signer
	usdt := tracer.Asset(addr(common.HexToAddress("0xdAC17F958D2ee523a2206206994597C13D831ec7")))
	if x.Asset != usdt || x.From != addr(common.HexToAddress("0xe10510a359ff2334314052196780c5216e2a39f8")) ||
		x.To != addr(common.HexToAddress("0x1f87bc6687c52200aad234b7055568e92c943c46")) || x.Amount.Int64() != 30_000_000 ||
		x.Kind != tracer.KindERC20 || x.LogIndex != 49 || x.TxIndex != 11 {
		t.Errorf("USDT transfer = %+v", x)
	}
	reg, err := labels.Bundled()
	if err != nil {
		t.Fatal(err)
	}
	noMeta := func(tracer.Address) (tracer.Token, bool) { return tracer.Token{}, false }
	notContract := func(tracer.Address) bool { return false }
	if tr := tracer.Classify(x, "ethereum", reg, noMeta, notContract); tr != tracer.TrustGenuine {
		t.Errorf("with the registry: %s, want genuine", tr)
	}
	if tr := tracer.Classify(x, "ethereum", nil, noMeta, notContract); tr != tracer.TrustGenuine {
		t.Errorf("without a registry, signed by its sender: %s, want genuine", tr)
	}
	// The same event in a transaction someone else signed is still genuine:
	// the registry recognises USDT, whose contract enforces allowances.
	x.TxFrom = "0x0000000000000000000000000000000000000001"
	if tr := tracer.Classify(x, "ethereum", reg, noMeta, notContract); tr != tracer.TrustGenuine {
		t.Errorf("registry, other signer: %s, want genuine", tr)
	}
	if tr := tracer.Classify(x, "ethereum", nil, noMeta, notContract); tr != tracer.TrustSpoofed {
		t.Errorf("no registry, other signer: %s, want spoofed", tr)
	}
}
