package rawcopy

import (
	"fmt"
	"os"
)

// Sink is where a receiver puts the data: a new file, synced to disk on
// Close (as lanchat's receiver syncs a file before it counts as
// received), or nothing at all.
type Sink struct {
	f    *os.File // nil: discard
	path string
}

// OpenSink creates the file path for writing; it must not exist yet. An
// empty path discards the data.
func OpenSink(path string) (*Sink, error) {
	if path == "" {
		return &Sink{}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	return &Sink{f: f, path: path}, nil
}

// WriteAt writes p to the file at off, or drops it. It is safe to call
// from several goroutines at once.
func (s *Sink) WriteAt(p []byte, off int64) (int, error) {
	if s.f == nil {
		return len(p), nil
	}
	n, err := s.f.WriteAt(p, off)
	if err != nil {
		err = fmt.Errorf("write %s at %d: %w", s.path, off, err)
	}
	return n, err
}

// Close syncs and closes the file.
func (s *Sink) Close() error {
	if s.f == nil {
		return nil
	}
	serr := s.f.Sync()
	cerr := s.f.Close()
	if serr != nil {
		return fmt.Errorf("sync %s: %w", s.path, serr)
	}
	return cerr
}

// Describe says where the data goes, for the result line.
func (s *Sink) Describe() string {
	if s.f == nil {
		return "discard"
	}
	return "file+fsync"
}
