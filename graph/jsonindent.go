package graph

import (
	"bytes"
	"cmp"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// indented appends the bytes of encoding/json's indented encoding (two
// spaces, no HTML escaping, as newJSONEncoder) value by value, without
// reflection and without a second pass to indent: graph.json's nodes and
// edges are most of its bytes.
type indented struct {
	b     []byte
	depth int
	empty bool // an object or array was opened and has no member yet

	quoted bytes.Buffer // a value encoding/json writes, as it writes it
	enc    *json.Encoder
	err    error // the first value encoding/json refused
}

func newIndented(depth int) *indented {
	in := &indented{depth: depth, empty: true}
	in.enc = newJSONEncoder(&in.quoted, "")
	return in
}

// next starts a member or element: a comma unless it is the first, a new
// line and the indent.
func (in *indented) next() {
	if !in.empty {
		in.b = append(in.b, ',')
	}
	in.empty = false
	in.b = append(in.b, '\n')
	for range in.depth {
		in.b = append(in.b, "  "...)
	}
}

// key starts an object's member.
func (in *indented) key(k string) {
	in.next()
	in.b = append(in.b, '"')
	in.b = append(in.b, k...)
	in.b = append(in.b, `": `...)
}

// open starts an object ('{') or array ('[') as a value.
func (in *indented) open(c byte) {
	in.b = append(in.b, c)
	in.depth++
	in.empty = true
}

// close ends the object ('}') or array (']') opened last.
func (in *indented) close(c byte) {
	in.depth--
	if !in.empty {
		in.b = append(in.b, '\n')
		for range in.depth {
			in.b = append(in.b, "  "...)
		}
	}
	in.empty = false
	in.b = append(in.b, c)
}

// str appends s quoted as encoding/json quotes it.
func (in *indented) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			in.quoted.Reset()
			_ = in.enc.Encode(s) // a string always encodes
			in.b = append(in.b, bytes.TrimSuffix(in.quoted.Bytes(), []byte("\n"))...)
			return
		}
	}
	in.b = append(in.b, '"')
	in.b = append(in.b, s...)
	in.b = append(in.b, '"')
}

func (in *indented) strField(k, v string) { in.key(k); in.str(v) }

func (in *indented) uintField(k string, v uint64) {
	in.key(k)
	in.b = strconv.AppendUint(in.b, v, 10)
}

func (in *indented) intField(k string, v int64) {
	in.key(k)
	in.b = strconv.AppendInt(in.b, v, 10)
}

func (in *indented) boolField(k string, v bool) {
	in.key(k)
	in.b = strconv.AppendBool(in.b, v)
}

// floatField appends v as encoding/json does: the shortest decimal that
// reads back as v, in exponent form only below 1e-6 or from 1e21.
func (in *indented) floatField(k string, v float64) {
	in.key(k)
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) || math.IsNaN(v) || math.IsInf(v, 0) {
		in.quoted.Reset()
		if err := in.enc.Encode(v); err != nil { // NaN and infinities
			in.err = cmp.Or(in.err, err)
		}
		in.b = append(in.b, bytes.TrimSuffix(in.quoted.Bytes(), []byte("\n"))...)
		return
	}
	in.b = strconv.AppendFloat(in.b, v, 'f', -1, 64)
}

// strMap appends m with its keys sorted, as encoding/json does.
func (in *indented) strMap(k string, m map[string]string) {
	in.key(k)
	in.open('{')
	for _, mk := range slices.Sorted(maps.Keys(m)) {
		in.next()
		in.str(mk)
		in.b = append(in.b, ": "...)
		in.str(m[mk])
	}
	in.close('}')
}

// node appends n as encoding/json encodes a jsonNode.
func (in *indented) node(n jsonNode) {
	in.next()
	in.open('{')
	in.strField("chain", n.Chain)
	in.strField("address", string(n.Address))
	in.strField("category", string(n.Category))
	in.key("labels")
	in.open('[')
	for _, l := range n.Labels {
		in.next()
		in.open('{')
		in.strField("name", l.Name)
		in.strField("category", l.Category)
		in.strField("source", l.Source)
		in.close('}')
	}
	in.close(']')
	in.intField("depth", int64(n.Depth))
	in.uintField("first_seen_block", n.FirstSeenBlock)
	in.boolField("is_contract", n.IsContract)
	in.strField("stop", string(n.Stop))
	in.strMap("received", n.Received)
	in.strMap("held", n.Held)
	in.close('}')
}

// edge appends e as encoding/json encodes a jsonEdge.
func (in *indented) edge(e jsonEdge) {
	in.next()
	in.open('{')
	in.strField("from", string(e.From))
	in.strField("to", string(e.To))
	in.strField("chain", e.Chain)
	in.strField("asset", string(e.Asset))
	in.strField("symbol", e.Symbol)
	in.strField("amount", e.Amount)
	in.strField("tainted", e.Tainted)
	in.key("transfers")
	in.open('[')
	for _, t := range e.Transfers {
		in.next()
		in.open('{')
		in.strField("tx_hash", t.TxHash)
		in.uintField("block_number", t.BlockNumber)
		if t.LogIndex != nil {
			in.intField("log_index", int64(*t.LogIndex))
		}
		if t.TraceAddress != nil {
			in.key("trace_address")
			in.open('[')
			for _, i := range *t.TraceAddress {
				in.next()
				in.b = strconv.AppendInt(in.b, int64(i), 10)
			}
			in.close(']')
		}
		in.strField("amount", t.Amount)
		in.strField("tainted", t.Tainted)
		in.strField("kind", string(t.Kind))
		in.close('}')
	}
	in.close(']')
	in.close('}')
}

// pattern appends p as encoding/json encodes a jsonPattern.
func (in *indented) pattern(p jsonPattern) {
	in.next()
	in.open('{')
	in.strField("kind", p.Kind)
	in.key("addresses")
	in.open('[')
	for _, a := range p.Addresses {
		in.next()
		in.str(string(a))
	}
	in.close(']')
	in.key("evidence")
	in.open('[')
	for _, ev := range p.Evidence {
		in.next()
		in.open('{')
		in.strField("tx_hash", ev.TxHash)
		in.uintField("block", ev.Block)
		in.strField("amount", ev.Amount)
		in.close('}')
	}
	in.close(']')
	in.floatField("confidence", p.Confidence)
	in.strMap("detail", p.Detail)
	in.close('}')
}
