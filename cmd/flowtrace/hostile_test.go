package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/flowtrace/flowtrace/fixtures/contracts"
	"github.com/flowtrace/flowtrace/fixtures/devnode"
)

// hostile is text an attacker controls (a token's symbol, a shared label
// file): quotes, newlines, control characters, HTML, formula starts and
// length.
const hostile = "=HYPERLINK(\"http://evil\")<script>alert(1)</script>\"'\n\r\x07\x1b[31m|`*_#" +
	"&amp;}{]\\\"; DROP TABLE x; --"

// TestHostileData traces a theft of a token whose name and symbol are
// hostile, with hostile labels, a spoofed Transfer event (a fake token
// copying the real one's metadata) to a look-alike of a recipient: the
// outputs parse (JSON, CSV, DOT through Graphviz, SVG as XML), neutralise
// spreadsheet formulas, carry no raw HTML, and the spoof is not followed.
func TestHostileData(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil && os.Getenv("CI") == "true" {
		t.Fatal("Graphviz (dot) is needed in CI")
	}
	key := func(label string) *ecdsa.PrivateKey {
		k, _ := crypto.ToECDSA(crypto.Keccak256([]byte("flowtrace-hostile/" + label)))
		return k
	}
	victim, thief, mule := key("victim"), key("thief"), key("mule")
	addrOf := func(k *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(k.PublicKey) }
	eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	node, err := devnode.Start(devnode.Options{Alloc: map[common.Address]*big.Int{
		addrOf(victim): new(big.Int).Mul(eth, big.NewInt(100)), addrOf(thief): new(big.Int).Mul(eth, big.NewInt(100)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	ctx := context.Background()
	ec := ethclient.NewClient(node.Client())
	nonces := map[common.Address]uint64{}
	send := func(from *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte) common.Hash {
		t.Helper()
		a := addrOf(from)
		tx := types.MustSignNewTx(from, types.LatestSignerForChainID(devnode.ChainID), &types.LegacyTx{
			Nonce: nonces[a], To: to, Value: value, Gas: 10_000_000, GasPrice: big.NewInt(10_000_000_000), Data: data,
		})
		nonces[a]++
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatal(err)
		}
		return tx.Hash()
	}
	mine := func(txs ...common.Hash) {
		t.Helper()
		if _, err := node.Commit(); err != nil {
			t.Fatal(err)
		}
		for _, h := range txs {
			r, err := ec.TransactionReceipt(ctx, h)
			if err != nil || r.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("tx %s: %v %+v", h.Hex(), err, r)
			}
		}
	}
	long := strings.Repeat("W", 400)
	supply := new(big.Int).Mul(eth, big.NewInt(1_000_000))
	data, err := contracts.Token.DeployData(hostile+long, hostile+long, uint8(18), addrOf(victim), supply)
	if err != nil {
		t.Fatal(err)
	}
	deploy := send(victim, nil, nil, data)
	mine(deploy)
	r, _ := ec.TransactionReceipt(ctx, deploy)
	token := r.ContractAddress
	fake, _ := contracts.FakeToken.DeployData(token)
	deployFake := send(victim, nil, nil, fake)
	mine(deployFake)
	r, _ = ec.TransactionReceipt(ctx, deployFake)
	fakeToken := r.ContractAddress

	from := new(big.Int).Mul(eth, big.NewInt(1000))
	stolen, _ := contracts.Token.Call("transfer", addrOf(thief), from)
	theft := send(victim, &token, nil, stolen)
	mine(theft)
	fromBlock := r.BlockNumber.Uint64() + 1
	exchange := common.HexToAddress("0x00000000000000000000000000000000000e0c4a")
	toMule, _ := contracts.Token.Call("transfer", addrOf(mule), new(big.Int).Div(from, big.NewInt(2)))
	toExchange, _ := contracts.Token.Call("transfer", exchange, new(big.Int).Div(from, big.NewInt(2)))
	// A look-alike of the mule (same first and last hex digits) gets a
	// spoofed Transfer "from the thief" that the thief never signed.
	lookalike := addrOf(mule)
	copy(lookalike[2:18], bytes.Repeat([]byte{0xee}, 16))
	spoof, _ := contracts.FakeToken.Call("spoof", []common.Address{addrOf(thief)}, []common.Address{lookalike}, from)
	txs := []common.Hash{send(thief, &token, nil, toMule), send(thief, &token, nil, toExchange), send(victim, &fakeToken, nil, spoof)}
	mine(txs...)

	dir := t.TempDir()
	labels := filepath.Join(dir, "labels.csv")
	var lb bytes.Buffer
	w := csv.NewWriter(&lb)
	w.Write([]string{"chain", "address", "label", "category", "source"})
	w.Write([]string{"dev", exchange.Hex(), hostile + long, "exchange", "+" + hostile})
	w.Write([]string{"dev", addrOf(mule).Hex(), "@SUM(A1:A9)", "eoa", "-1+1"})
	w.Flush()
	if err := os.WriteFile(labels, lb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, _, stderr := runCLI(t, "trace", "-q", "--rpc", node.URL(), "--chain", "dev", "--seed", addrOf(thief).Hex(),
		"--from-block", itoa(fromBlock-1), "--min-value", "0", "--labels", labels, "--no-bundled-labels", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}

	// graph.json: valid, the spoof and the look-alike not followed.
	var doc struct {
		Nodes []struct{ Address string } `json:"nodes"`
		Edges []struct{ Symbol string }  `json:"edges"`
	}
	if err := json.Unmarshal(readOutput(t, out, "graph.json"), &doc); err != nil {
		t.Fatalf("graph.json: %v", err)
	}
	for _, n := range doc.Nodes {
		if strings.EqualFold(n.Address, lookalike.Hex()) {
			t.Errorf("the look-alike %s, reached only by a spoofed event, is in the graph", n.Address)
		}
	}
	if len(doc.Nodes) != 3 {
		t.Errorf("nodes %v, want the thief, the mule and the exchange", doc.Nodes)
	}
	hostileSymbol := false
	for _, e := range doc.Edges {
		hostileSymbol = hostileSymbol || strings.Contains(e.Symbol, "<script>")
		if len([]rune(e.Symbol)) > 64 || strings.ContainsAny(e.Symbol, "\n\r\x07\x1b") {
			t.Errorf("edge symbol %q is not cut or still holds control characters", e.Symbol)
		}
	}

	if !hostileSymbol || !bytes.Contains(readOutput(t, out, "graph.json"), []byte(`DROP TABLE x`)) {
		t.Error("the hostile symbol and label did not reach graph.json: the test checks nothing")
	}

	// transfers.csv: parses, no cell a spreadsheet would run as a formula.
	rows, err := csv.NewReader(bytes.NewReader(readOutput(t, out, "transfers.csv"))).ReadAll()
	if err != nil || len(rows) < 3 {
		t.Fatalf("transfers.csv: %d rows, %v", len(rows), err)
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) || (strings.HasPrefix(cell, "-") && !isNumber(cell)) {
				t.Errorf("transfers.csv cell %q would run as a formula", cell)
			}
		}
	}

	// report.md: no raw HTML.
	if rep := string(readOutput(t, out, "report.md")); strings.Contains(rep, "<script") {
		t.Error("report.md holds raw <script>")
	}

	// graph.dot renders with Graphviz; graph.svg is well-formed XML with no script element.
	if _, err := exec.LookPath("dot"); err == nil {
		cmd := exec.Command("dot", "-Tsvg", filepath.Join(out, "graph.dot"))
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if _, err := cmd.Output(); err != nil {
			t.Errorf("dot cannot render graph.dot: %v: %s", err, errb.String())
		}
		dec := xml.NewDecoder(bytes.NewReader(readOutput(t, out, "graph.svg")))
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("graph.svg is not well-formed XML: %v", err)
			}
			if se, ok := tok.(xml.StartElement); ok && strings.EqualFold(se.Name.Local, "script") {
				t.Error("graph.svg has a script element")
			}
		}
	}
}

func isNumber(s string) bool {
	_, ok := new(big.Int).SetString(s, 10)
	return ok
}

func itoa(n uint64) string { return new(big.Int).SetUint64(n).String() }
