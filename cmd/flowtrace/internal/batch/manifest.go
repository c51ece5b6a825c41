package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/renameio/v2"
)

// ManifestName is the manifest's file name in a batch's output directory.
const ManifestName = "manifest.json"

// Manifest records which cases of a batch have finished, keyed by the case
// id and the hash of its parameters: a case whose parameters changed is run
// again. It is rewritten atomically after every case, so an interrupted
// batch always leaves a consistent one.
type Manifest struct {
	mu    sync.Mutex
	path  string
	Cases map[string]Entry `json:"cases"`
}

// Entry is one finished case.
type Entry struct {
	Params string `json:"params"` // hash of the case's parameters
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// ParamsHash is a stable hash of a case's parameters.
func ParamsHash(params any) string {
	b, _ := json.Marshal(params) // plain structs and maps: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// LoadManifest reads dir's manifest, or starts an empty one.
func LoadManifest(dir string) (*Manifest, error) {
	m := &Manifest{path: filepath.Join(dir, ManifestName), Cases: map[string]Entry{}}
	data, err := os.ReadFile(m.path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("batch: manifest: %w", err)
	}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("batch: %s is not a flowtrace manifest (%v): remove it to start the batch over", m.path, err)
	}
	if m.Cases == nil {
		m.Cases = map[string]Entry{}
	}
	return m, nil
}

// Finished reports whether the case with these parameters is done (or
// partial): failed cases are run again.
func (m *Manifest) Finished(id, params string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.Cases[id]
	return ok && e.Params == params && e.Status != StatusFailed
}

// Record notes a finished case and saves the manifest.
func (m *Manifest) Record(id string, e Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Cases[id] = e
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(m.path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("batch: manifest: %w", err)
	}
	return nil
}
