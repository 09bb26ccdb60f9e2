package rawcopy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lanchat/lanchat/transfer"
)

// ChunkSize is the size of every read and write: lanchat's chunk size,
// so both move data in the same pieces.
const ChunkSize = transfer.ChunkSize

// Send writes the header and the whole file at path to w, ChunkSize bytes
// at a time, and returns how many bytes of data it wrote.
func Send(w io.Writer, path string) (int64, error) {
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
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], uint64(size))
	if _, err := w.Write(hdr[:]); err != nil {
		return 0, fmt.Errorf("write header: %w", err)
	}
	buf := make([]byte, ChunkSize)
	var sent int64
	for sent < size {
		n, err := io.ReadFull(f, buf[:min(int64(len(buf)), size-sent)])
		if err != nil {
			return sent, fmt.Errorf("read %s at %d: %w", path, sent, err)
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return sent, fmt.Errorf("write at %d: %w", sent, err)
		}
		sent += int64(n)
	}
	return sent, nil
}

// Receive reads a header and the data it announces from r into sink,
// and returns how many bytes it wrote. It does not sync: Sink.Close
// does.
func Receive(r io.Reader, sink *Sink) (int64, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, fmt.Errorf("read header: %w", err)
	}
	size := int64(binary.BigEndian.Uint64(hdr[:]))
	if size < 0 {
		return 0, errors.New("read header: size out of range")
	}
	buf := make([]byte, ChunkSize)
	var got int64
	for got < size {
		n, err := io.ReadFull(r, buf[:min(int64(len(buf)), size-got)])
		if n > 0 {
			if _, werr := sink.Write(buf[:n]); werr != nil {
				return got, werr
			}
			got += int64(n)
		}
		if err != nil {
			return got, fmt.Errorf("read at %d of %d: %w", got, size, err)
		}
	}
	return got, nil
}

// WriteCount sends the receiver's reply.
func WriteCount(w io.Writer, n int64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	_, err := w.Write(b[:])
	return err
}

// ReadCount reads the receiver's reply and checks it against want.
func ReadCount(r io.Reader, want int64) error {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return fmt.Errorf("read the receiver's count: %w", err)
	}
	if got := int64(binary.BigEndian.Uint64(b[:])); got != want {
		return fmt.Errorf("the receiver wrote %d bytes, not %d", got, want)
	}
	return nil
}
