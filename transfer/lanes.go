package transfer

// The receiver's side of an entry's segments: admitting them, opening
// the partial file once for all of them, ordering their verified chunks
// into the prefix the checkpoint records, and keeping what an attempt
// leaves unfinished. A sender may stripe a big file: its segments arrive
// at once on several data streams, in any order.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"
)

// aheadWindow is how far, in chunks, a segment may write past the
// verified prefix of its entry; a stream that would go further waits
// (and, through QUIC flow control, so does the sender). It bounds the
// chunk hashes kept in memory per entry, and what a crash can leave
// outside the prefix.
const aheadWindow = 64

// startSegment checks a segment header against the entry's state and
// registers it. Segments of an entry start on chunk boundaries at or
// after this attempt's start (from), inside the file, and overlap
// neither one being received nor a chunk verified. The first segment of
// the attempt fixes from, which may lie past the verified prefix by
// chunks the partial file held, which the sender thereby confirms;
// first reports it.
func (t *session) startSegment(seg segmentBody) (first bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := seg.Entry
	if i < 0 || i >= len(t.entries) {
		return false, fmt.Errorf("%w: segment for entry %d of %d", ErrProtocol, i, len(t.entries))
	}
	es, st := &t.entries[i], t.cp.Entries[i]
	cs := int64(t.offer.ChunkSize)
	bad := func(why string) error {
		return fmt.Errorf("%w: segment [%d, %d) from %d of entry %d, which has %d of %d bytes: %s",
			ErrProtocol, seg.Offset, seg.End, seg.From, i, es.pos, st.Size, why)
	}
	from := seg.From
	switch {
	case st.Dir || es.finished || es.dataDone || es.sealed:
		return false, bad("unexpected")
	case seg.End <= seg.Offset || seg.End > st.Size || seg.Offset%cs != 0 || (seg.End != st.Size && seg.End%cs != 0):
		return false, bad("not whole chunks of the file")
	case !es.started && (from < es.pos || from > es.pos+es.held || from%cs != 0):
		return false, bad("starts outside what the receiver has")
	case es.started && from != es.from:
		return false, bad("another start for the same attempt")
	case seg.Offset < from || seg.Offset < es.pos:
		return false, bad("before the data it resumes")
	}
	for _, a := range es.active {
		if seg.Offset < a[1] && a[0] < seg.End {
			return false, bad("overlaps another segment")
		}
	}
	for off := range es.ahead {
		if off >= seg.Offset && off < seg.End {
			return false, bad("overlaps verified data")
		}
	}
	if !es.started {
		kept := from - es.pos
		es.started, es.opening, es.from = true, true, from
		es.pos, es.held = from, 0
		t.resumed += kept
		t.meter.addDone(kept)
		first = true
	}
	es.active = append(es.active, [2]int64{seg.Offset, seg.End})
	return first, nil
}

// openEntry returns entry i's partial file for a segment. The first
// segment of the attempt opens it, records the held chunks the sender
// confirmed, and reads back the whole-file hash of what the file holds
// before this attempt's data; the others wait for it.
func (t *session) openEntry(ctx context.Context, i int, first bool, buf []byte) (*os.File, error) {
	es, st := &t.entries[i], t.cp.Entries[i]
	if !first {
		t.mu.Lock()
		defer t.mu.Unlock()
		for es.opening && t.ctx.Err() == nil && ctx.Err() == nil {
			t.moved.Wait()
		}
		if es.f == nil {
			return nil, fmt.Errorf("%w: %s is not open", ErrInterrupted, st.Path)
		}
		return es.f, nil
	}
	f, err := t.openFirst(i, buf)
	t.mu.Lock()
	es.f, es.opening, es.lastSave = f, false, time.Now()
	t.moved.Broadcast()
	t.mu.Unlock()
	return f, err
}

// openFirst is openEntry's work for the first segment; it needs no lock,
// as the other segments wait.
func (t *session) openFirst(i int, buf []byte) (*os.File, error) {
	es, st := &t.entries[i], t.cp.Entries[i]
	f, err := openPartial(t.root, partialName(st.Path, t.id, i), es.from == 0)
	if err != nil {
		return nil, rootError(err)
	}
	if es.from > es.saved {
		// The sender confirmed chunks the partial file held past the
		// checkpoint: they are verified now, once on disk for sure.
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("sync %s: %w", st.Path, err)
		}
		t.save(i, es.from)
		es.saved = es.from
	}
	es.top = es.from
	if es.hash == nil {
		// On a resume, the whole-file hash is over what the partial
		// file holds, read back: never over what a checkpoint claims.
		es.hash = newWholeHash(st.Size)
		if err := es.hash.read(f, 0, es.from, int64(t.offer.ChunkSize), buf); err != nil {
			f.Close()
			return nil, fmt.Errorf("read back partial %s: %w", st.Path, err)
		}
	}
	es.direct = t.openDirectFor(f, partialName(st.Path, t.id, i), st.Size)
	return f, nil
}

// waitWindow waits until the chunk of entry i at off is within
// aheadWindow chunks of the verified prefix. The chunk at the prefix
// never waits, so some segment can always go on.
func (t *session) waitWindow(ctx context.Context, i int, off int64) error {
	limit := int64(aheadWindow) * int64(t.offer.ChunkSize)
	t.mu.Lock()
	defer t.mu.Unlock()
	es := &t.entries[i]
	for off-es.pos >= limit {
		if t.ctx.Err() != nil || ctx.Err() != nil {
			return t.streamError(ctx, context.Cause(ctx))
		}
		if hook := t.r.cfg.windowHook; hook != nil {
			hook(i, off)
		}
		t.moved.Wait()
	}
	return nil
}

// verified records that the chunk of entry i at off, with hash sum, is
// written and verified. It returns the prefix the caller should sync and
// record now, or -1.
func (t *session) verified(i int, off int64, chunk []byte, sum [hashSize]byte) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	es := &t.entries[i]
	n := int64(len(chunk))
	es.top = max(es.top, off+n)
	if off != es.pos {
		if es.ahead == nil {
			es.ahead = make(map[int64]aheadChunk, aheadWindow)
		}
		es.ahead[off] = aheadChunk{sum: sum, n: n}
		return -1
	}
	es.hash.add(sum[:])
	es.pos += n
	for a, ok := es.ahead[es.pos]; ok; a, ok = es.ahead[es.pos] {
		delete(es.ahead, es.pos)
		es.hash.add(a.sum[:])
		es.pos += a.n
	}
	t.moved.Broadcast()
	if es.pos == t.cp.Entries[i].Size || es.saving || es.pos == es.saved || time.Since(es.lastSave) < t.r.cfg.SaveInterval {
		return -1
	}
	es.saving = true
	return es.pos
}

// syncLater syncs entry i's partial file and records its first
// verified bytes, in a goroutine of its own, so that the data streams go
// on meanwhile (a sync of a second's data can take longer than the next
// second's data takes to arrive); verified cleared the way for it. The
// caller's data stream holds t.data, so the goroutine may join it.
func (t *session) syncLater(f *os.File, i int, verified int64) {
	t.data.Add(1)
	go func() {
		defer t.data.Done()
		err := f.Sync()
		if err == nil {
			t.save(i, verified)
		}
		t.mu.Lock()
		es := &t.entries[i]
		es.saving, es.lastSave = false, time.Now()
		var sf *os.File
		if err == nil {
			es.saved = max(es.saved, verified)
			sf = t.sealable(i)
		}
		t.mu.Unlock()
		if err != nil {
			t.fail(fmt.Errorf("sync %s: %w", t.cp.Entries[i].Path, err))
			return
		}
		if sf != nil {
			t.sealLater(sf, i, t.cp.Entries[i].Size)
		}
	}()
}

// endSegment unregisters a segment. When it was the last one of a
// complete entry, it returns the partial file for the caller to seal.
func (t *session) endSegment(i int, seg segmentBody) *os.File {
	t.mu.Lock()
	defer t.mu.Unlock()
	es := &t.entries[i]
	if k := slices.Index(es.active, [2]int64{seg.Offset, seg.End}); k >= 0 {
		es.active = slices.Delete(es.active, k, k+1)
	}
	return t.sealable(i)
}

// sealable returns entry i's partial file, to be sealed, once all its
// data is verified and nothing else uses the file: no segment, no sync.
// It returns it only once. The caller holds t.mu.
func (t *session) sealable(i int) *os.File {
	es := &t.entries[i]
	if len(es.active) > 0 || es.saving || es.sealed || es.f == nil || es.pos != t.cp.Entries[i].Size {
		return nil
	}
	es.sealed = true
	es.closeDirect()
	return es.f
}

// closeEntries keeps what an ended attempt verified of the files it did
// not complete: each open partial file is cut after its last verified
// chunk (a chunk half written when the attempt broke goes), synced, and
// its verified prefix recorded. Chunks verified past the prefix stay in
// the file: the next attempt offers them as held. It runs once no data
// stream is left.
func (t *session) closeEntries() {
	for i := range t.entries {
		es := &t.entries[i]
		if es.f == nil || es.sealed {
			continue
		}
		f := es.f
		es.f = nil
		es.closeDirect()
		if info, err := f.Stat(); err == nil && info.Size() > es.top {
			f.Truncate(es.top)
		}
		err := f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.log.Warn("cannot keep partial file", "entry", i, "err", err)
			continue
		}
		if es.pos != es.saved {
			t.save(i, es.pos)
			es.saved = es.pos
		}
	}
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
