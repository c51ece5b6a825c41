package batch

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/flowtrace/flowtrace/graph"
)

// summaryColumns are the columns of summary.csv.
var summaryColumns = []string{
	"case_id", "status", "chain", "seeds", "addresses", "transfers", "endpoints", "accounting",
	"stop_reason", "rpc_requests", "rpc_batches", "cache_hits", "cache_misses", "duration_ms", "error",
}

// SortRows orders rows by case id, the order of every batch output.
func SortRows(rows []Row) {
	slices.SortFunc(rows, func(a, b Row) int { return strings.Compare(a.CaseID, b.CaseID) })
}

// SummaryCSV renders summary.csv (rows in case id order, formula-safe cells).
func SummaryCSV(rows []Row) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(summaryColumns)
	for _, r := range rows {
		rec := []string{
			r.CaseID, r.Status, r.Chain, strings.Join(r.Seeds, " "), strconv.Itoa(r.Addresses), strconv.Itoa(r.Transfers),
			endpointsText(r.Endpoints), accountingText(r.Accounting), r.StopReason, i64(r.Requests), i64(r.RoundTrips),
			i64(r.CacheHits), i64(r.CacheMiss), i64(r.DurationMS), oneLine(r.Error),
		}
		for i := range rec {
			rec[i] = graph.SafeCell(rec[i])
		}
		w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}

// SummaryJSON renders summary.json: totals and one object per case.
func SummaryJSON(rows []Row) ([]byte, error) {
	doc := struct {
		Cases  int            `json:"cases"`
		Status map[string]int `json:"status"`
		Rows   []Row          `json:"rows"`
	}{Cases: len(rows), Status: map[string]int{}, Rows: rows}
	for _, r := range rows {
		doc.Status[r.Status]++
		if r.Endpoints == nil {
			r.Endpoints = map[string]int{}
		}
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	return append(out, '\n'), err
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
