package labels

import (
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/tracer"
)

func TestReadCSV(t *testing.T) {
	r := New()
	in := "chain,address,label,category,source\n" +
		"# comment\n" +
		"ethereum,0x28c6c06298d514db089934071355e5743bf21d60,Binance 14,exchange,etherscan\n" +
		"ethereum,0x28C6c06298d514Db089934071355E5743bf21d60,Binance Hot,exchange,user\n"
	if err := r.ReadCSV(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	l, ok := r.Lookup("ethereum", "0x28C6c06298d514Db089934071355E5743bf21d60")
	if !ok || l.Name != "Binance Hot" || l.Category != tracer.CategoryExchange {
		t.Fatalf("lookup = %+v %v, want the later label", l, ok)
	}
	if len(r.Conflicts) != 1 {
		t.Errorf("conflicts = %q, want one", r.Conflicts)
	}
	if _, ok := r.Lookup("dev", "0x28C6c06298d514Db089934071355E5743bf21d60"); ok {
		t.Errorf("a label leaked to another chain")
	}
}

func TestReadCSVErrors(t *testing.T) {
	for name, in := range map[string]string{
		"header":   "chain,addr,label,category,source\n",
		"address":  "chain,address,label,category,source\nethereum,0x1234,x,exchange,s\n",
		"category": "chain,address,label,category,source\nethereum,0x28c6c06298d514db089934071355e5743bf21d60,x,casino,s\n",
		"fields":   "chain,address,label,category,source\nethereum,0x28c6c06298d514db089934071355e5743bf21d60,x\n",
	} {
		err := New().ReadCSV(strings.NewReader(in))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if name != "header" && !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: error %q does not name line 2", name, err)
		}
	}
}
