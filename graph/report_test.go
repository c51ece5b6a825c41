package graph

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/tracer"
)

// registry recognises the tokens in its set.
type registry map[tracer.Address]bool

func (r registry) Recognised(_ string, a tracer.Address) bool { return r[a] }
func (r registry) Impersonates(string, tracer.Address, tracer.Token) (tracer.Address, bool) {
	return "", false
}

func report(t *testing.T, tr *tracer.Trace, meta Meta) string {
	t.Helper()
	f, err := Build(tr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteReport(&b, f, meta); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// section is the report's text from the heading to the next heading.
func section(md, heading string) string {
	i := strings.Index(md, heading+"\n")
	if i < 0 {
		return ""
	}
	rest := md[i+len(heading)+1:]
	if j := regexp.MustCompile(`(?m)^#`).FindStringIndex(rest); j != nil {
		rest = rest[:j[0]]
	}
	return rest
}

func TestReportHoldersOncePerAddress(t *testing.T) {
	md := report(t, sampleTrace(), Meta{})
	holders := section(md, "### Largest holders (value still held)")
	d := string(addr(0xd))
	if n := strings.Count(holders, d); n != 1 {
		t.Fatalf("%s holds two assets and appears %d times in the holders:\n%s", d, n, holders)
	}
	if !regexp.MustCompile(regexp.QuoteMeta(d) + `.*\| 3 ETH, 400 USDT \|`).MatchString(holders) {
		t.Errorf("the row of %s does not list both amounts:\n%s", d, holders)
	}
}

func TestReportSkippedByReason(t *testing.T) {
	tr := sampleTrace()
	tr.Skipped = append(tr.Skipped, tracer.Skip{Address: addr(0xbee), TxHash: txh(23), Reason: "zero value"},
		tracer.Skip{Address: addr(0xbad), TxHash: txh(24), Reason: "zero value"})
	skipped := section(report(t, tr, Meta{}), "### Skipped transfers and addresses")
	if strings.Contains(skipped, txh(23)) || strings.Contains(skipped, txh(24)) {
		t.Errorf("the report lists each skipped transfer, want them counted by reason:\n%s", skipped)
	}
	for _, want := range []string{"| zero value | 3 | 2 |", "| spoofed sender | 1 | 1 |", "| unknown token | 1 | 1 |", "graph.json"} {
		if !strings.Contains(skipped, want) {
			t.Errorf("skipped section lacks %q:\n%s", want, skipped)
		}
	}
	if strings.Index(skipped, "zero value") > strings.Index(skipped, "spoofed sender") {
		t.Errorf("reasons are not ordered by count:\n%s", skipped)
	}
}

func TestReportFoldsUnrecognisedTokens(t *testing.T) {
	md := report(t, sampleTrace(), Meta{Tokens: registry{}})
	stolen := section(md, "## Stolen value")
	if strings.Contains(stolen, "USDT") || !strings.Contains(stolen, "| 1 other tokens | not recognised |") {
		t.Errorf("an unrecognised token is in the headline:\n%s", stolen)
	}
	if section(md, "### USDT ("+string(usdt)+")") != "" {
		t.Errorf("an unrecognised token has its own accounting table in the headline")
	}
	if other := section(md, "### Other tokens (not recognised)"); !strings.Contains(other, "| "+string(usdt)+" | USDT | 1,000 |") {
		t.Errorf("the other tokens section lacks USDT:\n%s", other)
	}
	if holders := section(md, "### Largest holders (value still held)"); !strings.Contains(holders, "3 ETH, 1 other tokens") {
		t.Errorf("holders show unrecognised amounts:\n%s", holders)
	}

	md = report(t, sampleTrace(), Meta{Tokens: registry{usdt: true}})
	if stolen := section(md, "## Stolen value"); !strings.Contains(stolen, "| USDT | 1,000 |") || strings.Contains(stolen, "other tokens") {
		t.Errorf("a recognised token is not in the headline:\n%s", stolen)
	}
}

// A pattern kind with more rows than the report shows lists the first
// reportRows+1 and counts the rest.
func TestReportCountsPatternRowsItLeavesOut(t *testing.T) {
	tr := fanoutTrace(reportRows + 20)
	for i := range tr.Nodes { // each leaf still holds all it received: dormant
		if tr.Nodes[i].Held != nil {
			tr.Nodes[i].Received = tr.Nodes[i].Held
		}
	}
	f, err := Build(tr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.Detect(DetectOptions{})
	var dormant []Pattern
	for _, p := range f.Patterns {
		if p.Kind == KindDormant {
			dormant = append(dormant, p)
		}
	}
	if len(dormant) <= reportRows+1 {
		t.Fatalf("%d dormant patterns, want more than %d", len(dormant), reportRows+1)
	}
	var md bytes.Buffer
	if err := WriteReport(&md, f, Meta{}); err != nil {
		t.Fatal(err)
	}
	section := md.String()[strings.Index(md.String(), "### Dormant"):]
	if want := fmt.Sprintf("… and %d more rows.", len(dormant)-reportRows-1); !strings.Contains(section, want) {
		t.Errorf("dormant section lacks %q", want)
	}
	if last := string(dormant[reportRows].Addresses[0]); !strings.Contains(section, last) || strings.Contains(section, string(dormant[reportRows+1].Addresses[0])) {
		t.Errorf("dormant section should end its rows with %s", last)
	}
}
