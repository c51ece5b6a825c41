package graph

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowtrace/flowtrace/tracer"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

var sampleMeta = Meta{Case: "sample theft", Params: map[string]string{"depth": "2", "min-value": "0.1"}, ZeroElapsed: true}

// exportCase is one flow and one writer whose output is kept as a golden file.
type exportCase struct {
	name  string
	trace func() *tracer.Trace
	write func(*bytes.Buffer, *Flow) error
}

func jsonWriter(meta Meta) func(*bytes.Buffer, *Flow) error {
	return func(b *bytes.Buffer, f *Flow) error { return WriteJSON(b, f, meta) }
}

func dotWriter(o DOTOptions) func(*bytes.Buffer, *Flow) error {
	return func(b *bytes.Buffer, f *Flow) error { return WriteDOT(b, f, o) }
}

func csvWriter(b *bytes.Buffer, f *Flow) error { return WriteCSV(b, f) }

func reportWriter(meta Meta) func(*bytes.Buffer, *Flow) error {
	return func(b *bytes.Buffer, f *Flow) error { return WriteReport(b, f, meta) }
}

var hostileMeta = Meta{Case: "hostile | <b>case</b>\n# x", Params: map[string]string{"note": "a|b\nc"}, ZeroElapsed: true}

var exportCases = []exportCase{
	{"sample.json", sampleTrace, jsonWriter(sampleMeta)},
	{"sample.dot", sampleTrace, dotWriter(DOTOptions{})},
	{"sample.csv", sampleTrace, csvWriter},
	{"sample.md", sampleTrace, reportWriter(sampleMeta)},
	{"fanout.dot", func() *tracer.Trace { return fanoutTrace(13) }, dotWriter(DOTOptions{})},
	{"fanout_full.dot", func() *tracer.Trace { return fanoutTrace(13) }, dotWriter(DOTOptions{Full: true})},
	{"fanout_over20.dot", func() *tracer.Trace { return fanoutTrace(13) }, dotWriter(DOTOptions{CollapseOver: 20})},
	{"hostile.json", hostileTrace, jsonWriter(hostileMeta)},
	{"hostile.dot", hostileTrace, dotWriter(DOTOptions{})},
	{"hostile.csv", hostileTrace, csvWriter},
	{"hostile.md", hostileTrace, reportWriter(hostileMeta)},
}

func render(t *testing.T, c exportCase, tr *tracer.Trace) []byte {
	t.Helper()
	f, err := Build(tr, Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	var b bytes.Buffer
	if err := c.write(&b, f); err != nil {
		t.Fatalf("write %s: %v", c.name, err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for _, c := range exportCases {
		t.Run(c.name, func(t *testing.T) {
			got := render(t, c, c.trace())
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs from %s (-want +got):\n%s", c.name, path, diff)
			}
		})
	}
}

func TestShuffledInputSameBytes(t *testing.T) {
	for _, c := range exportCases {
		t.Run(c.name, func(t *testing.T) {
			want := render(t, c, c.trace())
			for seed := range uint64(8) {
				got := render(t, c, shuffled(c.trace(), seed))
				if !bytes.Equal(got, want) {
					t.Fatalf("shuffle %d changed the output:\n%s", seed, cmp.Diff(string(want), string(got)))
				}
			}
		})
	}
}

func TestJSONContract(t *testing.T) {
	f, err := Build(sampleTrace(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, f, Meta{Case: "c"}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version int `json:"version"`
		Nodes   []struct {
			Address  string            `json:"address"`
			Received map[string]string `json:"received"`
		} `json:"nodes"`
		Edges []struct {
			From, To, Asset, Amount, Symbol string
			Transfers                       []map[string]any `json:"transfers"`
		} `json:"edges"`
		Patterns []any `json:"patterns"`
		Summary  struct {
			Assets []struct {
				Asset  string            `json:"asset"`
				Shares map[string]string `json:"shares"`
			} `json:"assets"`
		} `json:"summary"`
		Stats struct {
			Batches   int64 `json:"rpc_batches"`
			ElapsedMS int64 `json:"elapsed_ms"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != 1 || doc.Patterns == nil || len(doc.Patterns) != 0 {
		t.Errorf("version %d, patterns %v: want 1 and []", doc.Version, doc.Patterns)
	}
	if doc.Stats.Batches != 5 || doc.Stats.ElapsedMS != 2345 {
		t.Errorf("stats = %+v, want 5 round trips and 2345 ms (ZeroElapsed off)", doc.Stats)
	}
	// a -> exchange folds two native transfers of 3 and 1 ETH.
	var found bool
	for _, e := range doc.Edges {
		if e.From == string(addr(0xa)) && e.To == string(addr(0xe1)) {
			found = true
			if e.Asset != "native" || e.Amount != "4000000000000000000" || e.Symbol != "ETH" || len(e.Transfers) != 2 {
				t.Errorf("folded edge = %+v", e)
			}
			if _, ok := e.Transfers[0]["trace_address"]; !ok {
				t.Errorf("native transfer without trace_address: %v", e.Transfers[0])
			}
			if _, ok := e.Transfers[0]["log_index"]; ok {
				t.Errorf("native transfer with log_index: %v", e.Transfers[0])
			}
		}
		if e.Asset == string(usdt) {
			if _, ok := e.Transfers[0]["log_index"]; !ok {
				t.Errorf("token transfer without log_index: %v", e.Transfers[0])
			}
		}
	}
	if !found {
		t.Error("no edge a -> exchange")
	}
	if got := doc.Summary.Assets[0]; got.Asset != "native" || got.Shares["exchange"] != "26.67%" {
		t.Errorf("first summary asset = %+v, want native with exchange 26.67%%", got)
	}
}

func TestCSVNeutralisesFormulas(t *testing.T) {
	f, err := Build(hostileTrace(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, f); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	if len(rows) != 3 || len(rows[0]) != 13 {
		t.Fatalf("got %d rows of %d cells, want 3 of 13", len(rows), len(rows[0]))
	}
	for _, r := range rows {
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q starts with a formula character", cell)
			}
		}
	}
	if sym := rows[1][7]; !strings.HasPrefix(sym, "\"USD\"\n") {
		t.Errorf("symbol cell = %q, want the symbol kept verbatim", sym)
	}
	for in, want := range map[string]string{"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@A": "'@A", "\tx": "'\tx", "0x1": "0x1", "": ""} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReportEscapesCells(t *testing.T) {
	f, err := Build(hostileTrace(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteReport(&b, f, hostileMeta); err != nil {
		t.Fatal(err)
	}
	header, tables := 0, 0
	for i, line := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(line, "|") {
			header = 0
			continue
		}
		// Every row of a table has as many unescaped pipes as its header.
		n := strings.Count(line, "|") - strings.Count(line, `\|`)
		if header == 0 {
			header = n
			tables++
		} else if n != header {
			t.Errorf("line %d has %d cell separators, its header %d: %q", i+1, n, header, line)
		}
		if strings.Contains(line, "<b>") || strings.Contains(line, "<html>") {
			t.Errorf("line %d carries raw HTML: %q", i+1, line)
		}
	}
	if tables < 6 {
		t.Errorf("found %d tables, want at least 6", tables)
	}
	if got := mdText("a|b\nc<d>`e`\\"); got != `a\|b c&lt;d&gt;\`+"`"+`e\`+"`"+`\\` {
		t.Errorf("mdText = %q", got)
	}
}

// WriteJSON streams nodes, edges and patterns; its bytes are
// encoding/json's of the whole document, for flows with and without them.
func TestJSONStreamedEqualsWhole(t *testing.T) {
	planted, _ := plantedFlow(t)
	flows := map[string]*Flow{"planted": planted}
	for name, tr := range map[string]*tracer.Trace{"sample": sampleTrace(), "hostile": hostileTrace(), "empty": {}} {
		f, err := Build(tr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		f.Detect(DetectOptions{})
		flows[name] = f
	}
	for name, f := range flows {
		d := jsonOf(f, hostileMeta)
		for _, n := range f.nodes {
			d.Nodes = append(d.Nodes, f.nodeOf(n))
		}
		for _, e := range f.edges {
			d.Edges = append(d.Edges, edgeOf(f, e))
		}
		for _, p := range f.Patterns {
			d.Patterns = append(d.Patterns, f.patternOf(p))
		}
		var want, got bytes.Buffer
		if err := newJSONEncoder(&want, "").Encode(d); err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(&got, f, hostileMeta); err != nil {
			t.Fatal(err)
		}
		if len(f.nodes) == 0 && name != "empty" {
			t.Errorf("%s: no nodes", name)
		}
		if len(f.Patterns) == 0 && name == "planted" {
			t.Errorf("%s: no patterns", name)
		}
		if d := cmp.Diff(want.String(), got.String()); d != "" {
			t.Errorf("%s: streamed (-whole +streamed):\n%s", name, d)
		}
	}
}

// indented quotes every string as encoding/json does: escapes, invalid
// UTF-8, line separators and HTML characters unescaped.
func TestIndentedQuotesAsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain 0xAbC", `q"b\s`, "tab\tnl\n\x00\x1f\b\f", "<a&b>", "caf\u00e9 \u2028\u2029", "bad \xff\xfe utf8", "\u007f"} {
		var want bytes.Buffer
		if err := newJSONEncoder(&want, "").Encode(s); err != nil {
			t.Fatal(err)
		}
		in := newIndented(0)
		in.str(s)
		if got := string(in.b) + "\n"; got != want.String() {
			t.Errorf("str(%q) = %s, want %s", s, got, want.String())
		}
	}
}

// indented writes floats as encoding/json does, exponent forms included.
func TestIndentedFloatsAsEncodingJSON(t *testing.T) {
	for _, v := range []float64{0, 0.5, 1, 0.95, 1.0 / 3, 123456.789, 1e-7, 2.5e-9, 1e21, -0.25} {
		var want bytes.Buffer
		if err := newJSONEncoder(&want, "").Encode(v); err != nil {
			t.Fatal(err)
		}
		in := newIndented(0)
		in.floatField("k", v)
		if got := strings.TrimPrefix(string(in.b), "\n\"k\": ") + "\n"; got != want.String() || in.err != nil {
			t.Errorf("floatField(%v) = %s (%v), want %s", v, got, in.err, want.String())
		}
	}
}
