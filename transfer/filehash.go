package transfer

// The whole-file hash each transfer.file frame carries: a hash list,
// the SHA-256 of a prefix, the size and the chunk hashes in order, which
// both sides have already
// computed (the sender to send them, the receiver to verify them), so it
// costs no pass of its own. It is as strong: a different file with the
// same list hash needs a SHA-256 collision, either of the list or of a
// chunk. docs/protocol.md, "transfer.file", defines it.

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
)

// fileHashPrefix separates the whole-file hash from every other use of SHA-256 over the same bytes.
const fileHashPrefix = "lanchat transfer file hash v2\x00"

// wholeHash computes a file's whole-file hash, chunk by chunk, in order.
type wholeHash struct {
	h hash.Hash
}

// newWholeHash starts the whole-file hash of a file of size bytes.
func newWholeHash(size int64) *wholeHash {
	w := &wholeHash{h: sha256.New()}
	var b [len(fileHashPrefix) + 8]byte
	copy(b[:], fileHashPrefix)
	binary.BigEndian.PutUint64(b[len(fileHashPrefix):], uint64(size))
	w.h.Write(b[:])
	return w
}

// add takes the SHA-256 of the file's next chunk.
func (w *wholeHash) add(sum []byte) {
	w.h.Write(sum)
}

// sum returns the whole-file hash of the chunks added.
func (w *wholeHash) sum() (s [hashSize]byte) {
	w.h.Sum(s[:0])
	return s
}

// read adds the chunks of f in [off, end), reading with buf (at least
// chunkSize long). off is a multiple of chunkSize; so is end unless it
// is the file's size.
func (w *wholeHash) read(f io.ReaderAt, off, end, chunkSize int64, buf []byte) error {
	for pos := off; pos < end; {
		chunk := buf[:min(chunkSize, end-pos)]
		if n, err := f.ReadAt(chunk, pos); n < len(chunk) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read at %d: %w", pos, err)
		}
		s := sha256.Sum256(chunk)
		w.h.Write(s[:])
		pos += int64(len(chunk))
	}
	return nil
}

// fileSum returns the whole-file hash of the size bytes of f cut in
// chunks of chunkSize.
func fileSum(f io.ReaderAt, size int64, chunkSize int, buf []byte) ([hashSize]byte, error) {
	w := newWholeHash(size)
	if err := w.read(f, 0, size, int64(chunkSize), buf); err != nil {
		return [hashSize]byte{}, err
	}
	return w.sum(), nil
}

// FileHash returns the whole-file hash of the size bytes of f, in chunks
// of ChunkSize: what a transfer checks a file against, and what a
// library listing names a shared file by.
func FileHash(f io.ReaderAt, size int64) ([hashSize]byte, error) {
	bufp := getBuffer(ChunkSize)
	defer putBuffer(ChunkSize, bufp)
	return fileSum(f, size, ChunkSize, *bufp)
}
