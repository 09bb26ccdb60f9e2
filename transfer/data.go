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
	"sync"
	"time"

	"github.com/lanchat/lanchat/peer/direct"
)

// chunkPool recycles the buffers of the default chunk size: one chunk
// and its hash, per data stream, whatever the size of the files.
var chunkPool = sync.Pool{New: func() any {
	b := make([]byte, ChunkSize+hashSize)
	return &b
}}

func getBuffer(chunkSize int) *[]byte {
	if chunkSize == ChunkSize {
		return chunkPool.Get().(*[]byte)
	}
	b := make([]byte, chunkSize+hashSize)
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
// at once; the whole-file hash of version 2 is made of the chunk hashes,
// so it costs no pass of its own. On a resume the prefix the receiver
// already has is read and hashed first, without being sent, and so are
// the chunks it holds past off (held) as long as they match: the segment
// starts after them.
func (s *sender) sendEntry(w io.Writer, buf []byte, i int, off int64, held [][hashSize]byte) ([hashSize]byte, error) {
	var sum [hashSize]byte
	e := s.offer.Entries[i]
	f, err := s.offer.openSource(i)
	if err != nil {
		return sum, fmt.Errorf("entry %d: %w", i, err)
	}
	defer f.Close()

	cs := int64(s.offer.ChunkSize)
	whole := newWholeHash(s.version, e.Size)
	if off > 0 {
		if err := whole.read(f, 0, off, cs, buf); err != nil {
			return sum, fmt.Errorf("%w: entry %d: first %d bytes: %w", ErrSource, i, off, err)
		}
	}
	if len(held) > 0 {
		kept, err := matchHeld(f, whole, off, cs, held, buf)
		if err != nil {
			return sum, fmt.Errorf("entry %d: %w", i, err)
		}
		off += kept
		s.resumed.Add(kept)
		s.meter.addDone(kept)
	}
	if off < e.Size {
		if err := writeEvent(w, opSegment, segmentBody{Entry: i, Offset: off, End: e.Size}); err != nil {
			return sum, err
		}
	}
	for pos := off; pos < e.Size; {
		n := min(cs, e.Size-pos)
		chunk := buf[:n]
		if _, err := f.ReadAt(chunk, pos); err != nil {
			return sum, fmt.Errorf("%w: entry %d at %d: %w", ErrSource, i, pos, err)
		}
		rec := buf[:n+hashSize]
		*(*[hashSize]byte)(rec[n:]) = sha256.Sum256(chunk)
		whole.add(chunk, rec[n:])
		if s.opts.chunkHook != nil {
			s.opts.chunkHook(i, pos, chunk)
		}
		if _, err := w.Write(rec); err != nil {
			return sum, fmt.Errorf("send entry %d at %d: %w", i, pos, err)
		}
		pos += n
		s.meter.add(n)
		s.bytes.Add(n)
		s.chunks.Add(1)
	}
	return whole.sum(), nil
}

// serveData receives the segments of one data stream until the sender
// ends it.
func (t *session) serveData(ctx context.Context, s *direct.Stream, br *bufio.Reader) error {
	// Either context ending wakes the reads below.
	stopT := context.AfterFunc(t.ctx, func() { s.CancelRead(direct.StreamCodeCancelled) })
	defer stopT()
	stopC := context.AfterFunc(ctx, func() { s.CancelRead(direct.StreamCodeCancelled) })
	defer stopC()
	buf := getBuffer(t.offer.ChunkSize)
	defer putBuffer(t.offer.ChunkSize, buf)
	for {
		f, err := readFrame(br, maxDataHeader)
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
// of the transfer or of ctx woke it.
func (t *session) streamError(ctx context.Context, err error) error {
	switch {
	case errors.Is(context.Cause(t.ctx), errSessionOver):
		return nil
	case t.ctx.Err() != nil:
		return t.stopReason()
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))
	}
	return &brokenStream{fmt.Errorf("%w: data stream: %w", ErrInterrupted, err)}
}

// brokenStream is a data stream that failed under us: usually the
// sender stopping, whose reason is on its way on the control stream.
type brokenStream struct{ err error }

func (e *brokenStream) Error() string { return e.err.Error() }
func (e *brokenStream) Unwrap() error { return e.err }

// receiveSegment receives one segment into the entry's partial file:
// each chunk is read with its hash, checked, written, and only then
// counted. Progress is synced and saved every SaveInterval and when the
// segment ends, however it ends.
func (t *session) receiveSegment(ctx context.Context, r io.Reader, buf []byte, seg segmentBody) (err error) {
	i := seg.Entry
	kept, err := t.startSegment(seg)
	if err != nil {
		return err
	}
	es, st := &t.entries[i], t.cp.Entries[i]
	f, err := openPartial(t.root, partialName(st.Path, t.id, i), seg.Offset == 0)
	if err != nil {
		t.dataDone(i)
		return rootError(err)
	}
	pos, saved := seg.Offset, seg.Offset-kept
	defer func() {
		if err == nil && pos == st.Size {
			// The file is complete: seal it (sync it) and finish it
			// beside this stream, which goes on to the next file.
			t.sealLater(f, i, pos)
			return
		}
		// Keep what was verified: sync it, record it, and cut off any
		// half-written chunk after it.
		if err != nil {
			f.Truncate(pos)
		}
		serr := f.Sync()
		if cerr := f.Close(); serr == nil {
			serr = cerr
		}
		if serr == nil && pos != saved {
			t.save(i, pos)
		}
		es.pos = pos
		if err == nil && serr != nil {
			err = fmt.Errorf("sync %s: %w", st.Path, serr)
		}
		if derr := t.dataDone(i); err == nil {
			err = derr
		}
	}()
	if kept > 0 {
		// The sender confirmed chunks the partial file held past the
		// checkpoint: they are verified now, once on disk for sure.
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", st.Path, err)
		}
		t.save(i, pos)
		saved = pos
	}

	cs := int64(t.offer.ChunkSize)
	if es.hash == nil {
		// On a resume, the whole-file hash is over what the partial
		// file holds, read back: never over what a checkpoint claims.
		es.hash = newWholeHash(t.version, st.Size)
		if err := es.hash.read(f, 0, seg.Offset, cs, buf); err != nil {
			return fmt.Errorf("read back partial %s: %w", st.Path, err)
		}
	}
	lastSave := time.Now()
	for pos < seg.End {
		n := min(cs, seg.End-pos)
		rec := buf[:n+hashSize]
		if _, err := io.ReadFull(r, rec); err != nil {
			return t.streamError(ctx, err)
		}
		chunk := rec[:n]
		if sha256.Sum256(chunk) != [hashSize]byte(rec[n:]) {
			return fmt.Errorf("%w: %s at %d", ErrCorrupt, st.Path, pos)
		}
		if err := t.write(f, i, chunk, pos); err != nil {
			return err
		}
		es.hash.add(chunk, rec[n:])
		pos += n
		t.meter.add(n)
		t.received.Add(n)
		if time.Since(lastSave) >= t.r.cfg.SaveInterval {
			if err := f.Sync(); err != nil {
				return fmt.Errorf("sync %s: %w", st.Path, err)
			}
			t.save(i, pos)
			saved, lastSave = pos, time.Now()
		}
	}
	return nil
}

// startSegment checks a segment header against the entry's state and
// marks the entry busy. Segments of an entry must come in order, each
// starting where the verified data ends, on chunk boundaries; the first
// may start further, after chunks the partial file held whose hashes
// the answer sent (version 2), which the sender thereby confirms. It
// returns how many such bytes it kept.
func (t *session) startSegment(seg segmentBody) (kept int64, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := seg.Entry
	if i < 0 || i >= len(t.entries) {
		return 0, fmt.Errorf("%w: segment for entry %d of %d", ErrProtocol, i, len(t.entries))
	}
	es, st := &t.entries[i], t.cp.Entries[i]
	cs := int64(t.offer.ChunkSize)
	switch {
	case st.Dir || es.finished || es.dataDone || es.busy:
		return 0, fmt.Errorf("%w: unexpected segment for entry %d", ErrProtocol, i)
	case seg.Offset < es.pos || seg.Offset > es.pos+es.held || seg.End <= seg.Offset || seg.End > st.Size ||
		seg.Offset%cs != 0 || (seg.End != st.Size && seg.End%cs != 0):
		return 0, fmt.Errorf("%w: segment [%d, %d) of entry %d, which has %d of %d bytes", ErrProtocol, seg.Offset, seg.End, i, es.pos, st.Size)
	}
	kept = seg.Offset - es.pos
	es.pos, es.held, es.busy = seg.Offset, 0, true
	t.resumed += kept
	t.meter.addDone(kept)
	return kept, nil
}

// write writes a verified chunk at off, telling a full disk apart.
func (t *session) write(f interface {
	WriteAt([]byte, int64) (int, error)
}, i int, chunk []byte, off int64) error {
	var err error
	if hook := t.r.cfg.writeHook; hook != nil {
		err = hook(i, off, len(chunk))
	}
	if err == nil {
		_, err = f.WriteAt(chunk, off)
	}
	switch {
	case err == nil:
		return nil
	case isDiskFull(err):
		return fmt.Errorf("%w: writing %s at %d: %w", ErrDiskFull, t.cp.Entries[i].Path, off, err)
	default:
		return fmt.Errorf("write %s at %d: %w", t.cp.Entries[i].Path, off, err)
	}
}
