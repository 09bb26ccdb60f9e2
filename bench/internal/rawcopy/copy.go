package rawcopy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lanchat/lanchat/internal/directio"
	"github.com/lanchat/lanchat/transfer"
)

// ChunkSize is the size of every read and write: lanchat's chunk size,
// so both move data in the same pieces.
const ChunkSize = transfer.ChunkSize

// headerSize is the stream header: the file's size, then the offset and
// length of the part this stream carries (all of it, unstriped).
const headerSize = 24

// Part is the byte range [Off, Off+Len) that stripe k of n carries of a
// file of the given size: n contiguous ranges on chunk boundaries, the
// last one shorter.
func Part(size int64, k, n int) (off, length int64) {
	per := (size + int64(n) - 1) / int64(n)
	per = (per + ChunkSize - 1) / ChunkSize * ChunkSize
	off = min(int64(k)*per, size)
	return off, min(per, size-off)
}

// Send writes the header and the whole file at path to w, ChunkSize bytes
// at a time, and returns how many bytes of data it wrote.
func Send(w io.Writer, path string) (int64, error) { return SendPart(w, path, 0, 1) }

// SendPart writes the header and part k of n of the file at path (see
// Part) to w, and returns how many bytes of data it wrote.
func SendPart(w io.Writer, path string, k, n int) (int64, error) {
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
	off, length := Part(size, k, n)
	var hdr [headerSize]byte
	binary.BigEndian.PutUint64(hdr[0:], uint64(size))
	binary.BigEndian.PutUint64(hdr[8:], uint64(off))
	binary.BigEndian.PutUint64(hdr[16:], uint64(length))
	if _, err := w.Write(hdr[:]); err != nil {
		return 0, fmt.Errorf("write header: %w", err)
	}
	buf := make([]byte, ChunkSize)
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

// Receive reads a header and the data it announces from r into sink, at
// the offset the header gives, and returns how many bytes it wrote.
// Several streams may write parts of one file into the same sink at
// once. It does not sync: Sink.Close does.
func Receive(r io.Reader, sink *Sink) (int64, error) {
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
	buf := directio.Bytes(ChunkSize) // aligned, for a direct-I/O sink
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
