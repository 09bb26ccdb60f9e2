package transfer

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Progress keeps a receiver's state of each transfer across streams,
// connections and restarts, so that a broken transfer resumes from its
// last verified chunk. The daemon implements it with its history
// database; MemProgress and FileProgress serve tests and tools.
//
// Methods may be called from several goroutines at once, for different
// transfers and for different entries of one transfer.
type Progress interface {
	// Load returns the checkpoint Begin stored for transfer id, updated by
	// Save and Finish, or nil and no error if there is none.
	Load(ctx context.Context, id string) (*Checkpoint, error)
	// Begin stores the checkpoint of a newly accepted transfer, replacing
	// any earlier one with the same id.
	Begin(ctx context.Context, id string, cp *Checkpoint) error
	// Save records that the first verified bytes of entry are written,
	// hashed and synced to disk.
	Save(ctx context.Context, id string, entry int, verified int64) error
	// Finish records that entry is complete and in place at path
	// (relative to the checkpoint's Dir, slash-separated).
	Finish(ctx context.Context, id string, entry int, path string) error
	// Forget deletes the checkpoint of transfer id: it completed, or was
	// rejected or cancelled.
	Forget(ctx context.Context, id string) error
}

// Checkpoint is what a receiver remembers of one transfer.
type Checkpoint struct {
	// Peer is the sender's identity key in hex; only that peer may resume.
	Peer string `json:"peer"`
	// Dir is the absolute destination directory.
	Dir string `json:"dir"`
	// Entries parallels the offer's entries.
	Entries []EntryState `json:"entries"`
}

// EntryState is the receiver's state of one entry.
type EntryState struct {
	// Offered is the entry's sanitised path in the offer.
	Offered string `json:"offered"`
	// Path is where the entry goes, relative to Dir: the sanitised name,
	// renamed if it was taken. Finish replaces it with the final name.
	Path string `json:"path"`
	// Size, ModTime and Dir repeat the offer, so that a resumed offer
	// whose file changed starts that file over.
	Size    int64 `json:"size"`
	ModTime int64 `json:"mtime"`
	Dir     bool  `json:"dir,omitempty"`
	// Verified counts the bytes written, verified and synced.
	Verified int64 `json:"verified"`
	// Done marks an entry in its final place.
	Done bool `json:"done,omitempty"`
}

// clone returns a deep copy, so that no caller shares a Progress
// implementation's memory.
func (cp *Checkpoint) clone() *Checkpoint {
	c := *cp
	c.Entries = slices.Clone(cp.Entries)
	return &c
}

// MemProgress is a Progress kept in memory, for tests.
type MemProgress struct {
	mu  sync.Mutex
	cps map[string]*Checkpoint
}

// NewMemProgress returns an empty MemProgress.
func NewMemProgress() *MemProgress {
	return &MemProgress{cps: map[string]*Checkpoint{}}
}

// Load implements Progress.
func (m *MemProgress) Load(_ context.Context, id string) (*Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cp := m.cps[id]; cp != nil {
		return cp.clone(), nil
	}
	return nil, nil
}

// Begin implements Progress.
func (m *MemProgress) Begin(_ context.Context, id string, cp *Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cps[id] = cp.clone()
	return nil
}

// Save implements Progress.
func (m *MemProgress) Save(_ context.Context, id string, entry int, verified int64) error {
	return m.update(id, entry, func(e *EntryState) { e.Verified = verified })
}

// Finish implements Progress.
func (m *MemProgress) Finish(_ context.Context, id string, entry int, path string) error {
	return m.update(id, entry, func(e *EntryState) { e.Path, e.Verified, e.Done = path, e.Size, true })
}

// Forget implements Progress.
func (m *MemProgress) Forget(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.cps, id)
	return nil
}

func (m *MemProgress) update(id string, entry int, f func(*EntryState)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := m.cps[id]
	if cp == nil || entry < 0 || entry >= len(cp.Entries) {
		return fmt.Errorf("progress of transfer %s entry %d: no such entry", id, entry)
	}
	f(&cp.Entries[entry])
	return nil
}
