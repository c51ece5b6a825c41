package providers

import (
	"strings"
	"testing"
)

// Every form has a source, reads its own example (when the source shows
// one), and reads back what its template says for given limits.
func TestForms(t *testing.T) {
	names := map[string]bool{}
	for _, f := range Forms {
		if f.Name == "" || names[f.Name] || f.Source == "" || f.Template == "" {
			t.Errorf("form %+v: want a unique name, a template and a source", f)
		}
		names[f.Name] = true
		if f.Example != "" {
			if l, ok := Parse(f.Example); !ok || l.Form != f {
				t.Errorf("%s: its example %q reads as %+v, %v", f.Name, f.Example, l, ok)
			}
		}
		msg := f.Message(2000, 9000, 0x100, 0x10f)
		l, ok := Parse(`{"code":-32000,"message":"` + msg + `"}`)
		if !ok || l.Form != f {
			t.Fatalf("%s: %q reads as %+v, %v", f.Name, msg, l, ok)
		}
		stated := strings.Contains(f.Template, "{max}")
		switch {
		case strings.Contains(f.Template, "{from}") && (l.From != 0x100 || l.To != 0x10f):
			t.Errorf("%s: suggested [%#x, %#x]; want [0x100, 0x10f]", f.Name, l.From, l.To)
		case f.Kind == Suggest && (l.From != 0x100 || l.To != 0x10f || l.Span() != 16):
			t.Errorf("%s: suggested [%#x, %#x], span %d; want [0x100, 0x10f], 16", f.Name, l.From, l.To, l.Span())
		case f.Kind != Suggest && stated && l.Max != 2000:
			t.Errorf("%s: max %d, want 2000", f.Name, l.Max)
		case f.Kind != Suggest && !stated && l.Max != 0:
			t.Errorf("%s: max %d from a message that states none", f.Name, l.Max)
		}
	}
}

func TestParseNumbers(t *testing.T) {
	for msg, want := range map[string]uint64{
		"eth_getLogs is limited to a 10,000 range": 10000,
		"You can make eth_getLogs requests with up to a 2K block range. Based on your parameters, this block range should work: [0x1, 0x10]": 2000,
		"exceed maximum block range 10000":             10000,
		"batch limit 100 exceeded: 142 requests given": 100,
	} {
		l, ok := Parse(msg)
		got := l.Max
		if ok && l.Form.Kind == Suggest {
			got = l.Span()
		}
		if !ok || got != want {
			t.Errorf("%q: %+v, %v; want %d", msg, l, ok, want)
		}
	}
	if l, ok := Parse("execution reverted"); ok {
		t.Errorf("a message of no limit reads as %+v", l)
	}
}
