package serve

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/renameio/v2"

	"github.com/flowtrace/flowtrace/chains/labels"
)

// Label is a row of the case's label file (chain,address,label,category,source):
// pass the file to later traces with --labels.
type Label struct {
	Chain    string `json:"chain"`
	Address  string `json:"address"`
	Label    string `json:"label"`
	Category string `json:"category"`
	Source   string `json:"source"`
}

var labelHeader = []string{"chain", "address", "label", "category", "source"}

// labelMu serialises writes of label files.
var labelMu sync.Mutex

// readLabels reads the label file of dir; a missing file has no rows.
func readLabels(dir string) ([]Label, error) {
	data, err := os.ReadFile(filepath.Join(dir, LabelFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comment = '#'
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("serve: %s: %w", LabelFile, err)
	}
	var rows []Label
	for i, rec := range recs {
		if i == 0 || len(rec) != len(labelHeader) {
			continue // the header
		}
		rows = append(rows, Label{rec[0], rec[1], rec[2], rec[3], rec[4]})
	}
	return rows, nil
}

// appendLabel adds l to the label file of dir, checked by the label
// loader the trace command uses, written atomically.
func appendLabel(dir string, l Label) error {
	labelMu.Lock()
	defer labelMu.Unlock()
	rows, err := readLabels(dir)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write(labelHeader)
	for _, r := range append(rows, l) {
		cw.Write([]string{r.Chain, r.Address, r.Label, r.Category, r.Source})
	}
	cw.Flush()
	if err := labels.New().ReadCSV(bytes.NewReader(buf.Bytes())); err != nil {
		return fmt.Errorf("%w: %v", errBadLabel, err)
	}
	if err := renameio.WriteFile(filepath.Join(dir, LabelFile), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

var errBadLabel = errors.New("label refused")

func (s *Server) labels(w http.ResponseWriter, r *http.Request) {
	c, ok := s.lookup(w, r)
	if !ok {
		return
	}
	rows, err := readLabels(c.dir)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if rows == nil {
		rows = []Label{}
	}
	writeJSON(w, rows)
}

func (s *Server) addLabel(w http.ResponseWriter, r *http.Request) {
	c, ok := s.lookup(w, r)
	if !ok {
		return
	}
	var l Label
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&l); err != nil {
		writeError(w, http.StatusBadRequest, "send a JSON label {chain,address,label,category,source}")
		return
	}
	l.Label, l.Source = oneLine(l.Label), oneLine(l.Source)
	if l.Source == "" {
		l.Source = "analyst"
	}
	if l.Label == "" || l.Chain == "" {
		writeError(w, http.StatusBadRequest, "a label needs a chain, an address and a name")
		return
	}
	if err := appendLabel(c.dir, l); err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, errBadLabel) {
			code = http.StatusBadRequest
		}
		writeError(w, code, err.Error())
		return
	}
	s.labels(w, r)
}

// oneLine trims s and folds line breaks into spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
