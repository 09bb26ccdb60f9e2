package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lanchat/lanchat/internal/directio"
	"github.com/lanchat/lanchat/transfer"
)

// chunkSize is the size of every read and write: lanchat's chunk size,
// so both move data in the same pieces.
const chunkSize = transfer.ChunkSize

// headerSize is the stream header: the file's size, then the offset and
// length of the part this stream carries (all of it, unstriped).
const headerSize = 24

// part is the byte range [off, off+length) that stripe k of n carries of
// a file of the given size: n contiguous ranges on chunk boundaries, the
// last one shorter.
func part(size int64, k, n int) (off, length int64) {
	per := (size + int64(n) - 1) / int64(n)
	per = (per + chunkSize - 1) / chunkSize * chunkSize
	off = min(int64(k)*per, size)
	return off, min(per, size-off)
}

// sendPart writes the header and part k of n of the file at path (see
// part) to w, and returns how many bytes of data it wrote.
func sendPart(w io.Writer, path string, k, n int) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	off, length := part(size, k, n)
	var hdr [headerSize]byte
	binary.BigEndian.PutUint64(hdr[0:], uint64(size))
	binary.BigEndian.PutUint64(hdr[8:], uint64(off))
	binary.BigEndian.PutUint64(hdr[16:], uint64(length))
	if _, err := w.Write(hdr[:]); err != nil {
		return 0, fmt.Errorf("write header: %w", err)
	}
	buf := make([]byte, chunkSize)
	var sent int64
	for sent < length {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), length-sent)], off+sent)
		if err != nil {
			return sent, fmt.Errorf("read %s at %d: %w", path, off+sent, err)
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return sent, fmt.Errorf("write at %d: %w", off+sent, err)
		}
		sent += int64(n)
	}
	return sent, nil
}

// receive reads a header and the data it announces from r into sink, at
// the offset the header gives, and returns how many bytes it wrote.
// Several streams may write parts of one file into the same sink at
// once. It does not sync: sink.Close does.
func receive(r io.Reader, sink *sink) (int64, error) {
	var hdr [headerSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, fmt.Errorf("read header: %w", err)
	}
	size := int64(binary.BigEndian.Uint64(hdr[0:]))
	off := int64(binary.BigEndian.Uint64(hdr[8:]))
	length := int64(binary.BigEndian.Uint64(hdr[16:]))
	if size < 0 || off < 0 || length < 0 || off > size || length > size-off {
		return 0, errors.New("read header: range out of bounds")
	}
	buf := directio.Bytes(chunkSize) // aligned, for a direct-I/O sink
	var got int64
	for got < length {
		n, err := io.ReadFull(r, buf[:min(int64(len(buf)), length-got)])
		if n > 0 {
			if _, werr := sink.WriteAt(buf[:n], off+got); werr != nil {
				return got, werr
			}
			got += int64(n)
		}
		if err != nil {
			return got, fmt.Errorf("read at %d of [%d, %d): %w", off+got, off, off+length, err)
		}
	}
	return got, nil
}

// writeCount sends the receiver's reply.
func writeCount(w io.Writer, n int64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	_, err := w.Write(b[:])
	return err
}

// readCount reads the receiver's reply and checks it against want.
func readCount(r io.Reader, want int64) error {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return fmt.Errorf("read the receiver's count: %w", err)
	}
	if got := int64(binary.BigEndian.Uint64(b[:])); got != want {
		return fmt.Errorf("the receiver wrote %d bytes, not %d", got, want)
	}
	return nil
}

// sink is where a receiver puts the data: a new file, synced to disk on
// Close (as lanchat's receiver syncs a file before it counts as
// received), or nothing at all.
type sink struct {
	f    *os.File // nil: discard
	d    *os.File // the same file opened for direct I/O, or nil
	path string
	done bool // closed
}

// openSink creates the file path for writing; it must not exist yet. An
// empty path discards the data. With direct, aligned writes go past the
// page cache (O_DIRECT), as lanchat writes a big file's whole chunks.
func openSink(path string, direct bool) (*sink, error) {
	if path == "" {
		return &sink{}, nil
	}
	if direct && directio.Flag == 0 {
		return nil, errors.New("direct I/O is not available on this system")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	s := &sink{f: f, path: path}
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
func (s *sink) WriteAt(p []byte, off int64) (int, error) {
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

// Close syncs and closes the file; calling it again does nothing.
func (s *sink) Close() error {
	if s.f == nil || s.done {
		return nil
	}
	s.done = true
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

// describe says where the data goes, for the result line.
func (s *sink) describe() string {
	switch {
	case s.f == nil:
		return "discard"
	case s.d != nil:
		return "file+direct+fsync"
	}
	return "file+fsync"
}

// result is the one JSON line each end prints when a copy is done; bench
// transfer reads it.
type result struct {
	Role    string  `json:"role"` // "send" or "receive"
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"` // first byte to last, synced (receiver) or acknowledged (sender)
	Sink    string  `json:"sink,omitempty"`
	Cipher  string  `json:"cipher,omitempty"`
	// Details are transport facts worth checking: socket buffer sizes,
	// GSO, flow-control windows, connections.
	Details map[string]any `json:"details,omitempty"`
}

// print writes r as one line of JSON.
func (r *result) print(w io.Writer, elapsed time.Duration) error {
	r.Seconds = elapsed.Seconds()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
