package providers

import (
	"strings"
	"testing"
	"time"
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

// Rate forms read back the rate and the wait they (or their data) state;
// a rate in credits is no request rate.
func TestRateForms(t *testing.T) {
	n := 0
	for _, f := range Forms {
		if f.Kind != Rate {
			continue
		}
		n++
		v := Values{Rate: 25, Wait: 3 * time.Second, Asked: 31}
		msg := f.Fill(f.Template, v)
		if f.Data != "" {
			msg += " " + f.Fill(f.Data, v)
		}
		l, ok := Parse(msg)
		if !ok || l.Form != f {
			t.Fatalf("%s: %q reads as %+v, %v", f.Name, msg, l, ok)
		}
		stated := strings.Contains(f.Template+f.Data, "{rate}") && !f.Credits
		switch {
		case stated && l.Rate != 25:
			t.Errorf("%s: rate %v, want 25", f.Name, l.Rate)
		case !stated && l.Rate != 0:
			t.Errorf("%s: rate %v from a message that states no request rate", f.Name, l.Rate)
		}
		if want := map[bool]time.Duration{true: 3 * time.Second}[strings.Contains(f.Data, "{wait}")]; l.Wait != want {
			t.Errorf("%s: wait %v, want %v", f.Name, l.Wait, want)
		}
	}
	if n < 6 {
		t.Errorf("only %d rate forms", n)
	}
	for _, tt := range []struct {
		msg  string
		rate float64
		wait time.Duration
	}{
		{`project ID request rate exceeded {"allowed_rps":10,"backoff_seconds":30,"current_rps":13.333,"see":"https://infura.io/dashboard"}`, 10, 30 * time.Second},
		{`daily request count exceeded, request rate limited {"rate":{"allowed_rps":1,"backoff_seconds":1.5,"current_rps":1.1},"see":"https://infura.io/dashboard"}`, 1, 1500 * time.Millisecond},
		{`You've exceeded the RPS limit available on the current plan. {"try_again_in":"250.5ms"}`, 0, 250500 * time.Microsecond},
		{`You've exceeded the RPS limit available on the current plan. {"try_again_in":2}`, 0, 2 * time.Second},
		{"1,500/second request limit reached - reduce calls per second or upgrade your account at quicknode.com", 1500, 0},
		{"credits limited to 6000/sec", 0, 0},
	} {
		l, ok := Parse(tt.msg)
		if !ok || l.Form.Kind != Rate || l.Rate != tt.rate || l.Wait != tt.wait {
			t.Errorf("%q: %+v, %v; want rate %v, wait %v", tt.msg, l, ok, tt.rate, tt.wait)
		}
	}
}

func TestAnswers(t *testing.T) {
	for _, tt := range []struct {
		form, method string
		want         bool
	}{
		{"quicknode-range", "eth_getLogs", true},
		{"quicknode-range", "trace_filter", true},
		{"quicknode-range", "eth_getCode", false},
		{"reth-trace-range", "trace_filter", true},
		{"reth-trace-range", "eth_getLogs", false},
		{"quicknode-rps", "eth_getCode", true},
		{"geth-batch", "eth_call", true},
	} {
		if got := ByName(tt.form).Answers(tt.method); got != tt.want {
			t.Errorf("%s answers %s: %v, want %v", tt.form, tt.method, got, tt.want)
		}
	}
}
