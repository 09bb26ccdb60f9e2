package transfertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/lanchat/lanchat/transfer/checkpoint"
)

// FileProgress is a transfer.Progress that keeps each transfer's checkpoint in a
// JSON file of its own in a directory, rewritten atomically on every
// change. It suits tests and small tools; it rewrites the whole
// checkpoint on each Save, so the daemon uses its database instead.
type FileProgress struct {
	dir string
	mu  sync.Mutex // serialises read-modify-write of the files
}

// NewFileProgress keeps checkpoints in dir, creating it if needed.
func NewFileProgress(dir string) (*FileProgress, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("progress directory: %w", err)
	}
	return &FileProgress{dir: dir}, nil
}

func (p *FileProgress) file(id string) (string, error) {
	if !checkpoint.ValidID(id) {
		return "", fmt.Errorf("progress: bad transfer id %q", id)
	}
	return filepath.Join(p.dir, id+".json"), nil
}

// Load implements transfer.Progress.
func (p *FileProgress) Load(_ context.Context, id string) (*checkpoint.Transfer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.read(id)
}

func (p *FileProgress) read(id string) (*checkpoint.Transfer, error) {
	name, err := p.file(id)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load progress of %s: %w", id, err)
	}
	var cp checkpoint.Transfer
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("load progress of %s: %w", id, err)
	}
	return &cp, nil
}

func (p *FileProgress) write(id string, cp *checkpoint.Transfer) error {
	name, err := p.file(id)
	if err != nil {
		return err
	}
	b, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("save progress of %s: %w", id, err)
	}
	tmp, err := os.CreateTemp(p.dir, id+".*.tmp")
	if err != nil {
		return fmt.Errorf("save progress of %s: %w", id, err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save progress of %s: %w", id, err)
	}
	return nil
}

// Begin implements transfer.Progress.
func (p *FileProgress) Begin(_ context.Context, id string, cp *checkpoint.Transfer) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.write(id, cp)
}

// Save implements transfer.Progress.
func (p *FileProgress) Save(_ context.Context, id string, entry int, verified int64) error {
	return p.update(id, entry, func(e *checkpoint.Entry) { e.Verified = verified })
}

// Finish implements transfer.Progress.
func (p *FileProgress) Finish(_ context.Context, id string, entry int, path string) error {
	return p.update(id, entry, finish(path))
}

func (p *FileProgress) update(id string, entry int, f func(*checkpoint.Entry)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	cp, err := p.read(id)
	if err != nil {
		return err
	}
	if cp == nil || entry < 0 || entry >= len(cp.Entries) {
		return fmt.Errorf("progress of transfer %s entry %d: no such entry", id, entry)
	}
	f(&cp.Entries[entry])
	return p.write(id, cp)
}

// Forget implements transfer.Progress.
func (p *FileProgress) Forget(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	name, err := p.file(id)
	if err != nil {
		return err
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("forget progress of %s: %w", id, err)
	}
	return nil
}
