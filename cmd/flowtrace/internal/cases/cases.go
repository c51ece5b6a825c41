// Package cases reads the case files of `flowtrace batch`: one trace per row,
// in CSV or JSON Lines. It checks the form of each row (ids, numbers, that
// there are seeds) and names the line and field of every problem; what the
// values mean (addresses, thresholds) is checked by the trace command.
//
// CSV has a header row; the columns are case_id, chain, seeds (several
// separated by spaces, semicolons or commas inside quotes), from_block,
// to_block, depth, min_value and labels (files separated by semicolons).
// Only case_id, seeds and from_block are required. JSON Lines rows are
// objects with the same keys; seeds and labels may be arrays or strings.
package cases

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Case is one trace to run.
type Case struct {
	Line      int // line in the case file, for messages
	ID        string
	Chain     string   // "" means the batch default
	Seeds     []string // as written
	FromBlock uint64
	ToBlock   string // a block number, "latest" or ""
	Depth     int    // 0 means the batch default
	MinValue  string // "" means the batch default
	Labels    []string
}

// Columns are the CSV columns, in the canonical order.
var Columns = []string{"case_id", "chain", "seeds", "from_block", "to_block", "depth", "min_value", "labels"}

// Error is a problem with one row of a case file.
type Error struct {
	Line  int
	Field string
	Err   error
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d: %s: %v", e.Line, e.Field, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ReadFile reads a case file: JSON Lines when its name ends in .jsonl or
// .ndjson or its first non-blank byte is '{', CSV otherwise. It returns the
// valid cases and one Error per bad row (and per duplicate id).
func ReadFile(path string) ([]Case, []error, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cases: %w", err)
	}
	if strings.HasSuffix(path, ".jsonl") || strings.HasSuffix(path, ".ndjson") || bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		cs, bad := ReadJSONL(bytes.NewReader(data))
		return cs, bad, nil
	}
	cs, bad := ReadCSV(bytes.NewReader(data))
	return cs, bad, nil
}

// ReadCSV reads CSV cases.
func ReadCSV(r io.Reader) ([]Case, []error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	head, err := cr.Read()
	if err != nil {
		return nil, []error{&Error{Line: 1, Err: fmt.Errorf("reading the header: %w", err)}}
	}
	col := map[string]int{}
	for i, h := range head {
		name := strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(Columns, name) {
			return nil, []error{&Error{Line: 1, Field: h, Err: fmt.Errorf("unknown column (want %s)", strings.Join(Columns, ","))}}
		}
		col[name] = i
	}
	for _, need := range []string{"case_id", "seeds", "from_block"} {
		if _, ok := col[need]; !ok {
			return nil, []error{&Error{Line: 1, Field: need, Err: errors.New("required column missing")}}
		}
	}
	var out []Case
	var bad []error
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, &Error{Line: pe.Line, Err: pe.Err})
			} else {
				bad = append(bad, err)
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(head) {
			bad = append(bad, &Error{Line: line, Err: fmt.Errorf("%d fields, the header has %d", len(rec), len(head))})
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		raw := rawCase{
			ID: get("case_id"), Chain: get("chain"), Seeds: splitList(get("seeds")), FromBlock: get("from_block"),
			ToBlock: get("to_block"), Depth: get("depth"), MinValue: get("min_value"), Labels: splitList(get("labels")),
		}
		c, err := raw.check(line)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		out = append(out, c)
	}
	return dedupe(out, bad)
}

// ReadJSONL reads JSON Lines cases.
func ReadJSONL(r io.Reader) ([]Case, []error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	var out []Case
	var bad []error
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		var row jsonCase
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&row); err != nil {
			bad = append(bad, &Error{Line: line, Err: fmt.Errorf("not a case object: %w", err)})
			continue
		}
		c, err := row.raw().check(line)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		bad = append(bad, &Error{Err: err})
	}
	return dedupe(out, bad)
}

// jsonCase is a JSON Lines row; numbers may be written as numbers or strings.
type jsonCase struct {
	ID        string          `json:"case_id"`
	Chain     string          `json:"chain"`
	Seeds     stringList      `json:"seeds"`
	FromBlock json.RawMessage `json:"from_block"`
	ToBlock   json.RawMessage `json:"to_block"`
	Depth     json.RawMessage `json:"depth"`
	MinValue  json.RawMessage `json:"min_value"`
	Labels    stringList      `json:"labels"`
}

func (j jsonCase) raw() rawCase {
	return rawCase{ID: j.ID, Chain: j.Chain, Seeds: j.Seeds, FromBlock: scalar(j.FromBlock), ToBlock: scalar(j.ToBlock),
		Depth: scalar(j.Depth), MinValue: scalar(j.MinValue), Labels: j.Labels}
}

// stringList reads a JSON array of strings or one string of separated items.
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = splitList(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or an array of strings")
	}
	*s = many
	return nil
}

// scalar renders a JSON number or string as its text ("" when absent).
func scalar(b json.RawMessage) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(string(b))
}

// rawCase is a row's fields as text, before checking.
type rawCase struct {
	ID, Chain                           string
	Seeds, Labels                       []string
	FromBlock, ToBlock, Depth, MinValue string
}

// idPattern keeps case ids safe as directory names.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidID reports whether id is a case id: a safe folder name.
func ValidID(id string) bool { return idPattern.MatchString(id) }

func (r rawCase) check(line int) (Case, error) {
	c := Case{Line: line, ID: r.ID, Chain: strings.ToLower(r.Chain), MinValue: r.MinValue, Labels: r.Labels}
	switch {
	case r.ID == "":
		return c, &Error{Line: line, Field: "case_id", Err: errors.New("empty")}
	case !idPattern.MatchString(r.ID) || strings.Contains(r.ID, ".."):
		return c, &Error{Line: line, Field: "case_id", Err: fmt.Errorf("%q is not a safe directory name: use letters, digits, '.', '_' and '-' (at most 128, no '..')", r.ID)}
	}
	for _, s := range r.Seeds {
		if s = strings.TrimSpace(s); s != "" {
			c.Seeds = append(c.Seeds, s)
		}
	}
	if len(c.Seeds) == 0 {
		return c, &Error{Line: line, Field: "seeds", Err: errors.New("no seed address")}
	}
	var err error
	if c.FromBlock, err = strconv.ParseUint(r.FromBlock, 10, 64); err != nil {
		return c, &Error{Line: line, Field: "from_block", Err: fmt.Errorf("%q is not a block number", r.FromBlock)}
	}
	switch to := strings.ToLower(r.ToBlock); to {
	case "", "latest":
		c.ToBlock = to
	default:
		n, err := strconv.ParseUint(to, 10, 64)
		if err != nil {
			return c, &Error{Line: line, Field: "to_block", Err: fmt.Errorf("%q is not a block number or latest", r.ToBlock)}
		}
		if n < c.FromBlock {
			return c, &Error{Line: line, Field: "to_block", Err: fmt.Errorf("%d is before from_block %d", n, c.FromBlock)}
		}
		c.ToBlock = to
	}
	if r.Depth != "" {
		if c.Depth, err = strconv.Atoi(r.Depth); err != nil || c.Depth < 1 {
			return c, &Error{Line: line, Field: "depth", Err: fmt.Errorf("%q is not a positive number of hops", r.Depth)}
		}
	}
	return c, nil
}

// dedupe reports every repeated case id after its first row.
func dedupe(in []Case, bad []error) ([]Case, []error) {
	first := map[string]int{}
	var out []Case
	for _, c := range in {
		if l, dup := first[c.ID]; dup {
			bad = append(bad, &Error{Line: c.Line, Field: "case_id", Err: fmt.Errorf("%q repeats the case of line %d", c.ID, l)})
			continue
		}
		first[c.ID] = c.Line
		out = append(out, c)
	}
	return out, bad
}

// splitList splits a list written with spaces, semicolons or commas.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ';' || r == ',' || r == '\t' })
}
