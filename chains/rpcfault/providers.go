package rpcfault

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/flowtrace/flowtrace/chains/evm/providers"
)

// Provider classes: the limits of real providers, in their own words (the
// messages of chains/evm/providers), applied every time like the limit
// classes. Batch classes refuse batches over MaxBatch; range classes refuse
// eth_getLogs and trace_filter queries over MaxRange blocks (results
// classes: answers over MaxResults entries) with the form's code, message
// and, for a single call, HTTP status.
const (
	BatchObject  Class = "batch-object"   // one error object, id null, for the whole batch (JSON-RPC 2.0 §6)
	BatchErigon  Class = "batch-erigon"   // Erigon's one object: "batch limit N exceeded: M requests given"
	Batch400Text Class = "batch-400-text" // HTTP 400, a plain-text body
	Batch413HTML Class = "batch-413-html" // HTTP 413 from a proxy in front of the node, an HTML body
	BatchShort   Class = "batch-short"    // only the first MaxBatch calls answered
	// TraceCapped serves trace_filter answers of at most MaxResults traces:
	// more without count is refused ("query returned more than N
	// results"); after / count are served by the proxy.
	TraceCapped Class = "trace-capped"
)

// batchRefusals are how the batch classes answer an oversized batch.
var batchRefusals = map[Class]func(p *Proxy, w http.ResponseWriter, calls []call){
	BatchObject: func(p *Proxy, w http.ResponseWriter, calls []call) {
		f := providers.ByName("geth-batch")
		writeJSON(w, call{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: rpcError(f.Code, f.Message(uint64(p.opts.MaxBatch), uint64(len(calls)), 0, 0))})
	},
	BatchErigon: func(p *Proxy, w http.ResponseWriter, calls []call) {
		f := providers.ByName("erigon-batch")
		writeJSON(w, call{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: rpcError(f.Code, f.Message(uint64(p.opts.MaxBatch), uint64(len(calls)), 0, 0))})
	},
	Batch400Text: func(p *Proxy, w http.ResponseWriter, calls []call) {
		f := providers.ByName("batch-limit")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(f.Message(uint64(p.opts.MaxBatch), uint64(len(calls)), 0, 0) + "\n"))
	},
	Batch413HTML: func(p *Proxy, w http.ResponseWriter, calls []call) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		w.Write([]byte("<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"))
	},
}

// rangeClassPrefix names the class of each range, suggest and results form
// of chains/evm/providers: "provider-" + the form's name.
const rangeClassPrefix = "provider-"

// Providers lists the provider classes: the batch classes, then one class
// per limit form of chains/evm/providers.
func Providers() []Class {
	out := []Class{BatchObject, BatchErigon, Batch400Text, Batch413HTML, BatchShort, TraceCapped}
	for _, f := range providers.Forms {
		if f.Kind != providers.Batch { // batch forms are the batch classes' words
			out = append(out, Class(rangeClassPrefix+f.Name))
		}
	}
	return out
}

// TraceFilterClasses are the provider classes that refuse only trace_filter
// (TraceCapped, and the range forms of trace_filter alone): a node that
// serves no trace_filter never meets them.
func TraceFilterClasses() []Class {
	out := []Class{TraceCapped}
	for _, c := range Providers() {
		if f := rangeForm(c); f != nil && !f.Answers("eth_getLogs") && f.Answers("trace_filter") {
			out = append(out, c)
		}
	}
	return out
}

// rangeForm is the limit form of class c, nil for other classes.
func rangeForm(c Class) *providers.Form {
	if len(c) <= len(rangeClassPrefix) || string(c[:len(rangeClassPrefix)]) != rangeClassPrefix {
		return nil
	}
	return providers.ByName(string(c[len(rangeClassPrefix):]))
}

// refuseBatch answers an oversized batch the way an enabled batch class
// does; it reports whether it answered. BatchShort instead trims calls.
func (p *Proxy) refuseBatch(w http.ResponseWriter, calls []call) ([]call, bool) {
	if len(calls) <= p.opts.MaxBatch {
		return calls, false
	}
	for _, c := range []Class{BatchObject, BatchErigon, Batch400Text, Batch413HTML} {
		if p.on[c] {
			p.count(c)
			batchRefusals[c](p, w, calls)
			return calls, true
		}
	}
	if p.on[BatchShort] {
		p.count(BatchShort)
		return calls[:p.opts.MaxBatch], false
	}
	return calls, false
}

// providerRange answers a range query over MaxRange blocks with the first
// enabled range or suggest form; ok is false when none applies.
func (p *Proxy) providerRange(c call) (answer call, status int, ok bool) {
	if c.Method != "eth_getLogs" && c.Method != "trace_filter" {
		return call{}, 0, false
	}
	n := rangeLen(c.Params)
	if n <= p.opts.MaxRange {
		return call{}, 0, false
	}
	from, _ := paramBlock(c.Params, "fromBlock")
	for _, class := range p.rangeClasses() {
		f := rangeForm(class)
		if (f.Kind != providers.Range && f.Kind != providers.Suggest) || !f.Answers(c.Method) {
			continue
		}
		p.count(class)
		msg := f.Message(p.opts.MaxRange, n, from, from+p.opts.MaxRange-1)
		return call{JSONRPC: "2.0", ID: c.ID, Error: rpcError(f.Code, msg)}, f.HTTP, true
	}
	return call{}, 0, false
}

// providerResults refuses an answer of more than MaxResults entries with
// the first enabled results form; ok is false when none applies.
func (p *Proxy) providerResults(c call, a call) (answer call, status int, ok bool) {
	if (c.Method != "eth_getLogs" && c.Method != "trace_filter") || a.Error != nil {
		return call{}, 0, false
	}
	var items []json.RawMessage
	if json.Unmarshal(a.Result, &items) != nil || len(items) <= p.opts.MaxResults {
		return call{}, 0, false
	}
	for _, class := range p.rangeClasses() {
		f := rangeForm(class)
		if f.Kind != providers.Results || !f.Answers(c.Method) {
			continue
		}
		p.count(class)
		msg := f.Message(uint64(p.opts.MaxResults), uint64(len(items)), 0, 0)
		return call{JSONRPC: "2.0", ID: c.ID, Error: rpcError(f.Code, msg)}, f.HTTP, true
	}
	return call{}, 0, false
}

// rateLimited answers the first sight of every request with the first
// enabled rate form: the form's error (its rate MaxRate, its wait
// RetryAfter, in its data when it has some) for every call, a batch's as an
// array, with the form's HTTP status; it reports whether it answered.
func (p *Proxy) rateLimited(w http.ResponseWriter, calls []call, batch bool, n int) bool {
	if n > 0 {
		return false
	}
	for _, class := range p.rangeClasses() {
		f := rangeForm(class)
		if f.Kind != providers.Rate {
			continue
		}
		p.count(class)
		v := providers.Values{Rate: p.opts.MaxRate, Wait: p.opts.RetryAfter, Asked: uint64(2 * p.opts.MaxRate)}
		var data json.RawMessage
		if f.Data != "" {
			data = json.RawMessage(f.Fill(f.Data, v))
		}
		answers := make([]call, len(calls))
		for i, c := range calls {
			answers[i] = call{JSONRPC: "2.0", ID: c.ID, Error: rpcErrorData(f.Code, f.Fill(f.Template, v), data)}
		}
		body, _ := encode(answers, batch)
		writeStatus(w, f.HTTP, body)
		return true
	}
	return false
}

// rangeClasses are the enabled range, suggest and results classes, in
// Providers() order.
func (p *Proxy) rangeClasses() []Class {
	var out []Class
	for _, c := range Providers() {
		if p.on[c] && rangeForm(c) != nil {
			out = append(out, c)
		}
	}
	return out
}

// knownClass reports whether c is a class of this package.
func knownClass(c Class) bool {
	return slices.Contains(Transient(), c) || slices.Contains(Limits(), c) || slices.Contains(Providers(), c)
}

// writeStatus writes an encoded answer with an HTTP status (0: 200).
func writeStatus(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if status != 0 {
		w.WriteHeader(status)
	}
	w.Write(body)
}

// page is a trace_filter call's after / count.
type page struct{ after, count int }

// takePage removes after / count from a trace_filter call when TraceCapped
// is on (the proxy serves them, whatever the upstream does with them).
func (p *Proxy) takePage(c *call) (page, bool) {
	if !p.on[TraceCapped] || c.Method != "trace_filter" {
		return page{}, false
	}
	var ps []map[string]json.RawMessage
	if json.Unmarshal(c.Params, &ps) != nil || len(ps) == 0 {
		return page{}, false
	}
	var pg page
	json.Unmarshal(ps[0]["after"], &pg.after)
	json.Unmarshal(ps[0]["count"], &pg.count)
	delete(ps[0], "after")
	delete(ps[0], "count")
	c.Params, _ = json.Marshal(ps)
	return pg, true
}

// capTraces applies TraceCapped to a trace_filter answer.
func (p *Proxy) capTraces(c call, a call, pg page) call {
	if a.Error != nil {
		return a
	}
	var items []json.RawMessage
	if json.Unmarshal(a.Result, &items) != nil {
		return a
	}
	if pg.count == 0 {
		if len(items) <= p.opts.MaxResults {
			return a
		}
		p.count(TraceCapped)
		f := providers.ByName("geth-results")
		return call{JSONRPC: "2.0", ID: c.ID, Error: rpcError(f.Code, f.Message(uint64(p.opts.MaxResults), uint64(len(items)), 0, 0))}
	}
	items = items[min(pg.after, len(items)):]
	items = items[:min(pg.count, p.opts.MaxResults, len(items))]
	a.Result, _ = json.Marshal(items)
	return a
}
