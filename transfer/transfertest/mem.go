// Package transfertest provides stores of receiver progress for tests
// and small tools: MemProgress keeps checkpoints in memory, FileProgress
// in a JSON file each. Both implement transfer.Progress; the daemon keeps
// its checkpoints in its history database instead.
//
// The package depends only on transfer/checkpoint, so that package
// transfer's own tests can use it.
package transfertest

import (
	"context"
	"fmt"
	"sync"

	"github.com/lanchat/lanchat/transfer/checkpoint"
)

// MemProgress is a transfer.Progress kept in memory.
type MemProgress struct {
	mu  sync.Mutex
	cps map[string]*checkpoint.Transfer
}

// NewMemProgress returns an empty MemProgress.
func NewMemProgress() *MemProgress {
	return &MemProgress{cps: map[string]*checkpoint.Transfer{}}
}

// Load implements transfer.Progress.
func (m *MemProgress) Load(_ context.Context, id string) (*checkpoint.Transfer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cp := m.cps[id]; cp != nil {
		return cp.Clone(), nil
	}
	return nil, nil
}

// Begin implements transfer.Progress.
func (m *MemProgress) Begin(_ context.Context, id string, cp *checkpoint.Transfer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cps[id] = cp.Clone()
	return nil
}

// Save implements transfer.Progress.
func (m *MemProgress) Save(_ context.Context, id string, entry int, verified int64) error {
	return m.update(id, entry, func(e *checkpoint.Entry) { e.Verified = verified })
}

// Finish implements transfer.Progress.
func (m *MemProgress) Finish(_ context.Context, id string, entry int, path string) error {
	return m.update(id, entry, finish(path))
}

// Forget implements transfer.Progress.
func (m *MemProgress) Forget(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.cps, id)
	return nil
}

func (m *MemProgress) update(id string, entry int, f func(*checkpoint.Entry)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := m.cps[id]
	if cp == nil || entry < 0 || entry >= len(cp.Entries) {
		return fmt.Errorf("progress of transfer %s entry %d: no such entry", id, entry)
	}
	f(&cp.Entries[entry])
	return nil
}

// finish marks an entry done at path, all of it verified.
func finish(path string) func(*checkpoint.Entry) {
	return func(e *checkpoint.Entry) { e.Path, e.Verified, e.Done = path, e.Size, true }
}
