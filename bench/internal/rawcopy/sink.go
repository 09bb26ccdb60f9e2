package rawcopy

import (
	"errors"
	"fmt"
	"os"

	"github.com/lanchat/lanchat/internal/directio"
)

// Sink is where a receiver puts the data: a new file, synced to disk on
// Close (as lanchat's receiver syncs a file before it counts as
// received), or nothing at all.
type Sink struct {
	f    *os.File // nil: discard
	d    *os.File // the same file opened for direct I/O, or nil
	path string
}

// OpenSink creates the file path for writing; it must not exist yet. An
// empty path discards the data. With direct, aligned writes go past the
// page cache (O_DIRECT), as lanchat writes a big file's whole chunks.
func OpenSink(path string, direct bool) (*Sink, error) {
	if path == "" {
		return &Sink{}, nil
	}
	if direct && directio.Flag == 0 {
		return nil, errors.New("direct I/O is not available on this system")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	s := &Sink{f: f, path: path}
	if direct {
		if s.d, err = os.OpenFile(path, os.O_WRONLY|directio.Flag, 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("open %s for direct I/O: %w", path, err)
		}
	}
	return s, nil
}

// WriteAt writes p to the file at off, or drops it. It is safe to call
// from several goroutines at once.
func (s *Sink) WriteAt(p []byte, off int64) (int, error) {
	if s.f == nil {
		return len(p), nil
	}
	w := s.f
	if s.d != nil && directio.Writable(p, off) {
		w = s.d
	}
	n, err := w.WriteAt(p, off)
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
	if s.d != nil {
		s.d.Close()
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
	switch {
	case s.f == nil:
		return "discard"
	case s.d != nil:
		return "file+direct+fsync"
	}
	return "file+fsync"
}
