package transfer

// This file is the hot path: the bytes of files, in chunks, on data
// streams. It reads top to bottom: buffers, the sender's loop, the
// receiver's loop. docs/protocol.md describes the stream layout.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/lanchat/lanchat/internal/directio"
	"github.com/lanchat/lanchat/internal/wire"
)

// chunkPool recycles the buffers of the default chunk size: one chunk
// and its hash, per data stream, whatever the size of the files. A
// buffer starts on a directio.Align boundary, so that a chunk read into it
// can be written with direct I/O.
var chunkPool = sync.Pool{New: func() any {
	b := directio.Bytes(ChunkSize + hashSize)
	return &b
}}

func getBuffer(chunkSize int) *[]byte {
	if chunkSize == ChunkSize {
		return chunkPool.Get().(*[]byte)
	}
	b := directio.Bytes(chunkSize + hashSize)
	return &b
}

func putBuffer(chunkSize int, b *[]byte) {
	if chunkSize == ChunkSize {
		chunkPool.Put(b)
	}
}

// sendEntry sends entry i from offset off to its end on the data
// stream w, as one segment, and returns the file's whole-file hash. Each
// chunk is read, hashed and written in turn, so the first byte leaves
// at once; the whole-file hash is made of the chunk hashes, so it costs no pass of its own.
func (s *sender) sendEntry(w io.Writer, buf []byte, i int, off int64, held [][hashSize]byte, stream int) ([hashSize]byte, error) {
	f, whole, off, err := s.begin(i, off, held, buf)
	if err != nil {
		return [hashSize]byte{}, err
	}
	defer f.Close()
	size := s.offer.Entries[i].Size
	if off < size {
		seg := segmentBody{Entry: i, Offset: off, End: size, From: off}
		if err := writeEvent(w, opSegment, seg); err != nil {
			return [hashSize]byte{}, err
		}
	}
	cs := int64(s.offer.ChunkSize)
	for pos := off; pos < size; {
		n := min(cs, size-pos)
		if _, err := s.sendChunk(w, buf, f, i, pos, n, whole, stream); err != nil {
			return [hashSize]byte{}, err
		}
		pos += n
	}
	return whole.sum(), nil
}

// begin opens entry i to send it from off. On a resume the prefix the
// receiver already has is read and hashed first, without being sent,
// and so are the chunks it holds past off (held) as long as they match:
// the data starts after them, at the offset begin returns.
func (s *sender) begin(i int, off int64, held [][hashSize]byte, buf []byte) (*os.File, *wholeHash, int64, error) {
	e := s.offer.Entries[i]
	f, err := s.offer.openSource(i)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("entry %d: %w", i, err)
	}
	cs := int64(s.offer.ChunkSize)
	whole := newWholeHash(e.Size)
	if off > 0 {
		if err := whole.read(f, 0, off, cs, buf); err != nil {
			f.Close()
			return nil, nil, 0, fmt.Errorf("%w: entry %d: first %d bytes: %w", ErrSource, i, off, err)
		}
	}
	if len(held) > 0 {
		kept, err := matchHeld(f, whole, off, cs, held, buf)
		if err != nil {
			f.Close()
			return nil, nil, 0, fmt.Errorf("entry %d: %w", i, err)
		}
		off += kept
		s.resumed.Add(kept)
		s.meter.addDone(kept)
	}
	return f, whole, off, nil
}

// sendChunk reads the n bytes of entry i's file f at pos, hashes them,
// adds them to whole (if not nil) and writes them with their hash to w,
// the data stream numbered stream.
func (s *sender) sendChunk(w io.Writer, buf []byte, f *os.File, i int, pos, n int64, whole *wholeHash, stream int) ([hashSize]byte, error) {
	var sum [hashSize]byte
	chunk := buf[:n]
	if _, err := f.ReadAt(chunk, pos); err != nil {
		return sum, fmt.Errorf("%w: entry %d at %d: %w", ErrSource, i, pos, err)
	}
	rec := buf[:n+hashSize]
	sum = sha256.Sum256(chunk)
	*(*[hashSize]byte)(rec[n:]) = sum
	if whole != nil {
		whole.add(sum[:])
	}
	if s.opts.chunkHook != nil {
		s.opts.chunkHook(i, pos, chunk)
	}
	if _, err := w.Write(rec); err != nil {
		return sum, fmt.Errorf("send entry %d at %d: %w", i, pos, err)
	}
	s.meter.add(n)
	s.bytes.Add(n)
	s.chunks.Add(1)
	s.streamBytes[stream].Add(n)
	return sum, nil
}

// serveData receives the segments of one data stream until the sender
// ends it.
func (t *session) serveData(ctx context.Context, s Stream, br *bufio.Reader, rd *wire.Reader, budget wire.Budget) error {
	// Either context ending wakes the reads below.
	stopT := context.AfterFunc(t.ctx, s.CancelRead)
	defer stopT()
	stopC := context.AfterFunc(ctx, func() {
		s.CancelRead()
		t.wake() // a segment may wait for another's chunks
	})
	defer stopC()
	// The chunk buffer's size is the sender's choice: the peer's budget
	// pays for it.
	if err := budget.Take(t.offer.ChunkSize + hashSize); err != nil {
		return fmt.Errorf("%w: data stream: %w", ErrInterrupted, err)
	}
	defer budget.Give(t.offer.ChunkSize + hashSize)
	buf := getBuffer(t.offer.ChunkSize)
	defer putBuffer(t.offer.ChunkSize, buf)
	for {
		f, err := readFrame(rd)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return t.streamError(ctx, err)
		}
		var seg segmentBody
		if err := decodeEvent(f, opSegment, &seg); err != nil {
			return err
		}
		if err := t.receiveSegment(ctx, br, *buf, seg); err != nil {
			return err
		}
	}
}

// streamError explains a failed read on a data stream: usually the end
// of the transfer or of ctx (the stream's connection) woke it.
func (t *session) streamError(ctx context.Context, err error) error {
	switch {
	case errors.Is(context.Cause(t.ctx), errSessionOver):
		return nil
	case t.ctx.Err() != nil:
		return t.stopReason()
	case ctx.Err() != nil:
		// The stream's connection ended (the caller's ctx is its
		// context).
		return &brokenStream{fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))}
	}
	return &brokenStream{fmt.Errorf("%w: data stream: %w", ErrInterrupted, err)}
}

// brokenStream is a data stream, or its connection, that failed under
// us: usually the sender stopping, whose reason is on its way on the
// control stream.
type brokenStream struct{ err error }

func (e *brokenStream) Error() string { return e.err.Error() }
func (e *brokenStream) Unwrap() error { return e.err }

// receiveSegment receives one segment into the entry's partial file:
// each chunk is read with its hash, checked, written, and only then
// counted. Every SaveInterval the file is synced and its verified
// prefix recorded, beside the stream; whoever leaves a complete entry
// last (segment or sync) seals it. What an attempt leaves unfinished is
// synced and recorded when it ends (closeEntries).
func (t *session) receiveSegment(ctx context.Context, r io.Reader, buf []byte, seg segmentBody) error {
	i := seg.Entry
	first, err := t.startSegment(seg)
	if err != nil {
		return err
	}
	f, err := t.openEntry(ctx, i, first, buf)
	if err == nil {
		err = t.receiveChunks(ctx, r, buf, f, seg)
	}
	if sf := t.endSegment(i, seg); sf != nil {
		// The file is complete: seal it (sync it) and finish it beside
		// this stream, which goes on to the next segment.
		t.sealLater(sf, i, t.cp.Entries[i].Size)
	}
	return err
}

// receiveChunks is the loop of receiveSegment.
func (t *session) receiveChunks(ctx context.Context, r io.Reader, buf []byte, f *os.File, seg segmentBody) error {
	i, cs := seg.Entry, int64(t.offer.ChunkSize)
	path := t.cp.Entries[i].Path
	for pos := seg.Offset; pos < seg.End; {
		if err := t.waitWindow(ctx, i, pos); err != nil {
			return err
		}
		n := min(cs, seg.End-pos)
		rec := buf[:n+hashSize]
		if _, err := io.ReadFull(r, rec); err != nil {
			return t.streamError(ctx, err)
		}
		chunk, sum := rec[:n], [hashSize]byte(rec[n:])
		if sha256.Sum256(chunk) != sum {
			return fmt.Errorf("%w: %s at %d", ErrCorrupt, path, pos)
		}
		if err := t.writeChunk(f, i, chunk, pos); err != nil {
			return err
		}
		save := t.verified(i, pos, chunk, sum)
		pos += n
		t.meter.add(n)
		t.received.Add(n)
		if save >= 0 {
			t.syncLater(f, i, save)
		}
	}
	return nil
}
