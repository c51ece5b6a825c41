package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/renameio/v2"
)

// Row is one line of the table: a measured figure against its bound or target.
type Row struct {
	Section  string             `json:"section"`
	Name     string             `json:"name"`
	Measured string             `json:"measured"`
	Bound    string             `json:"bound"`
	Verdict  string             `json:"verdict"` // ok, MISS, or info
	Figures  map[string]float64 `json:"figures,omitempty"`
}

// Table is the bench's result.
type Table struct {
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsed_ns"`
	Rows    []Row         `json:"rows"`
	// Load is /proc/loadavg at the end: wall times on a shared machine
	// stretch with it.
	Load    []byte `json:"-"`
	LoadAvg string `json:"loadavg"`
}

func (t *Table) add(r Row) { t.Rows = append(t.Rows, r) }

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISS"
}

func (t *Table) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "section\tmeasurement\tmeasured\tbound / target\tverdict")
	fmt.Fprintln(tw, "-------\t-----------\t--------\t--------------\t-------")
	for _, r := range t.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Section, r.Name, r.Measured, r.Bound, r.Verdict)
	}
	tw.Flush()
	fmt.Fprintf(w, "bench took %s; load average at the end: %s\n", t.Elapsed.Round(time.Second), strings.TrimSpace(string(t.Load)))
}

func (t *Table) save(path string) error {
	t.LoadAvg = strings.TrimSpace(string(t.Load))
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return renameio.WriteFile(path, append(data, '\n'), 0o644)
}

func ms(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func mib(b float64) string { return fmt.Sprintf("%.0f MiB", b/(1<<20)) }

func join(parts ...string) string { return strings.Join(parts, ", ") }
