package cases

import (
	"errors"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	in := "case_id,chain,seeds,from_block,to_block,depth,min_value,labels\n" +
		"# a comment\n" +
		"bybit-1,ethereum,0xA;0xB,21895000,latest,8,0.1%,a.csv;b.csv\n" +
		"c2,,\"0xC,0xD\",5,,,,\n"
	cs, bad := ReadCSV(strings.NewReader(in))
	if len(bad) != 0 {
		t.Fatalf("errors: %v", bad)
	}
	if len(cs) != 2 {
		t.Fatalf("cases = %+v", cs)
	}
	c := cs[0]
	if c.ID != "bybit-1" || c.Chain != "ethereum" || len(c.Seeds) != 2 || c.FromBlock != 21895000 || c.ToBlock != "latest" ||
		c.Depth != 8 || c.MinValue != "0.1%" || len(c.Labels) != 2 || c.Line != 3 {
		t.Errorf("case 1 = %+v", c)
	}
	if got := cs[1]; got.Seeds[1] != "0xD" || got.Depth != 0 || got.Line != 4 {
		t.Errorf("case 2 = %+v", got)
	}
}

func TestReadJSONL(t *testing.T) {
	in := `{"case_id":"a","seeds":["0xA"],"from_block":10,"to_block":"20","depth":"3"}` + "\n\n" +
		`{"case_id":"b","seeds":"0xB 0xC","from_block":"7","labels":["x.csv"]}` + "\n"
	cs, bad := ReadJSONL(strings.NewReader(in))
	if len(bad) != 0 || len(cs) != 2 {
		t.Fatalf("cases %+v, errors %v", cs, bad)
	}
	if cs[0].ToBlock != "20" || cs[0].Depth != 3 || cs[1].Line != 3 || len(cs[1].Seeds) != 2 {
		t.Errorf("cases = %+v", cs)
	}
}

func TestBadRowsNameLineAndField(t *testing.T) {
	head := "case_id,seeds,from_block,to_block,depth\n"
	for _, tc := range []struct{ row, want string }{
		{"../etc,0xA,1,,", "line 2: case_id:"},
		{"a/b,0xA,1,,", "line 2: case_id:"},
		{",0xA,1,,", "line 2: case_id: empty"},
		{"x,,1,,", "line 2: seeds: no seed"},
		{"x,0xA,one,,", "line 2: from_block:"},
		{"x,0xA,5,4,", "line 2: to_block: 4 is before from_block 5"},
		{"x,0xA,5,,0", "line 2: depth:"},
		{"x,0xA,5", "line 2: 3 fields, the header has 5"},
	} {
		_, bad := ReadCSV(strings.NewReader(head + tc.row + "\n"))
		if len(bad) != 1 || !strings.HasPrefix(bad[0].Error(), tc.want) {
			t.Errorf("%q: errors %v, want one starting %q", tc.row, bad, tc.want)
		}
	}
	_, bad := ReadCSV(strings.NewReader("case_id,seeds,from_block\na,0xA,1\nb,0xB,1\na,0xC,2\n"))
	var e *Error
	if len(bad) != 1 || !errors.As(bad[0], &e) || e.Line != 4 || !strings.Contains(e.Error(), "repeats the case of line 2") {
		t.Errorf("duplicate id: %v", bad)
	}
	if _, bad := ReadCSV(strings.NewReader("case_id,seeds,from,x\n")); len(bad) != 1 || !strings.Contains(bad[0].Error(), "unknown column") {
		t.Errorf("bad header: %v", bad)
	}
	if _, bad := ReadJSONL(strings.NewReader(`{"case_id":"a","seeds":"0xA","from_block":1,"color":"red"}`)); len(bad) != 1 || !strings.Contains(bad[0].Error(), "line 1") {
		t.Errorf("unknown JSON field: %v", bad)
	}
}

// FuzzReadCases: no input panics, and every case read is safe to use as a
// directory name and has seeds.
func FuzzReadCases(f *testing.F) {
	f.Add("case_id,seeds,from_block\na,0xA,1\n")
	f.Add(`{"case_id":"a","seeds":["0xA"],"from_block":1}`)
	f.Add("case_id,chain,seeds,from_block,to_block,depth,min_value,labels\nx,ethereum,\"0xA,0xB\",1,latest,2,1%,a.csv\n")
	f.Fuzz(func(t *testing.T, in string) {
		for _, read := range []func(string) ([]Case, []error){
			func(s string) ([]Case, []error) { return ReadCSV(strings.NewReader(s)) },
			func(s string) ([]Case, []error) { return ReadJSONL(strings.NewReader(s)) },
		} {
			cs, _ := read(in)
			seen := map[string]bool{}
			for _, c := range cs {
				if !idPattern.MatchString(c.ID) || strings.Contains(c.ID, "..") || seen[c.ID] || len(c.Seeds) == 0 {
					t.Fatalf("unsafe case accepted: %+v", c)
				}
				seen[c.ID] = true
			}
		}
	})
}
