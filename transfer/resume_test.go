package transfer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lanchat/lanchat/transfer/checkpoint"
	"github.com/lanchat/lanchat/transfer/transfertest"
)

// A connection that breaks half way through a file leaves the verified
// prefix; a new receiver (as after a restart) with the same progress
// store resumes from it, re-sending no chunk the receiver had written.
func TestResumeAfterBrokenConnection(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	const size = 8<<20 + 100
	want := randomFile(t, filepath.Join(src, "film.mkv"), size)
	prog, err := transfertest.NewFileProgress(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	var written atomic.Int64 // end of the last chunk the receiver wrote
	var once sync.Once
	ba := p.ba
	r1 := newReceiver(t, dst, prog, func(c *ReceiverConfig) {
		c.writeHook = func(_ int, off int64, n int) error {
			written.Store(off + int64(n))
			if off >= size/2 {
				once.Do(func() { ba.CloseWithError(0, "test: pulled the cable") })
			}
			return nil
		}
	})
	out := serveConn(t, r1, p.ba)
	o, err := NewOffer(filepath.Join(src, "film.mkv"))
	if err != nil {
		t.Fatal(err)
	}
	// One stream, so chunks are written in order and the last one
	// written ends the verified prefix (striping has tests of its own).
	if _, err := Send(context.Background(), p.ab, o, SendOptions{Streams: 1}); err == nil {
		t.Fatal("first Send succeeded through a closed connection")
	}
	if got := waitOutcome(t, out); got.err == nil {
		t.Fatal("first receive succeeded")
	}
	r1.Close()

	cp, err := prog.Load(context.Background(), o.ID)
	if err != nil || cp == nil {
		t.Fatalf("checkpoint after the break: %v, %v", cp, err)
	}
	verified := cp.Entries[0].Verified
	if verified < size/2 || verified%ChunkSize != 0 || verified != written.Load() {
		t.Fatalf("verified %d after writing %d of %d", verified, written.Load(), size)
	}
	if len(partials(t, dst)) != 1 {
		t.Fatalf("partial files %v", partials(t, dst))
	}

	p.redial(t)
	r2 := newReceiver(t, dst, prog, nil)
	out = serveConn(t, r2, p.ba)
	res, err := Send(context.Background(), p.ab, o, SendOptions{})
	if err != nil {
		t.Fatalf("resumed Send: %v", err)
	}
	if got := waitOutcome(t, out); got.err != nil {
		t.Fatalf("resumed receive: %v", got.err)
	}
	resent := res.Bytes - (size - written.Load())
	if res.Resumed != verified || resent > 2*ChunkSize {
		t.Errorf("resume sent %d bytes (%d again) from %d", res.Bytes, resent, res.Resumed)
	}
	mustEqual(t, "film.mkv", readFile(t, filepath.Join(dst, "film.mkv")), want)
	if cp, _ := prog.Load(context.Background(), o.ID); cp != nil {
		t.Error("checkpoint kept after completion")
	}
}

// A Send whose context ends (not cancelled by the user) interrupts the
// transfer; the next Send on the same connection resumes it.
func TestResumeAfterInterruptedSend(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	const size = 6 << 20
	want := randomFile(t, filepath.Join(src, "a.bin"), size)
	prog := transfertest.NewMemProgress()
	r := newReceiver(t, dst, prog, nil)
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(filepath.Join(src, "a.bin"))

	ctx, cancel := context.WithCancel(context.Background())
	_, err := Send(ctx, p.ab, o, SendOptions{chunkHook: func(_ int, off int64, _ []byte) {
		if off == 3*ChunkSize {
			cancel()
			time.Sleep(50 * time.Millisecond)
		}
	}})
	wantErr(t, "interrupted Send", err, ErrInterrupted)
	wantErr(t, "interrupted receive", waitOutcome(t, out).err, ErrInterrupted)
	cp, _ := prog.Load(context.Background(), o.ID)
	if cp == nil || cp.Entries[0].Verified == 0 || cp.Entries[0].Verified > 3*ChunkSize {
		t.Fatalf("checkpoint %+v", cp)
	}

	res, err := Send(context.Background(), p.ab, o, SendOptions{})
	if err != nil {
		t.Fatalf("resumed Send: %v", err)
	}
	if res.Resumed != cp.Entries[0].Verified || res.Bytes != size-res.Resumed {
		t.Errorf("resume %+v from %d", res, cp.Entries[0].Verified)
	}
	if got := waitOutcome(t, out); got.err != nil {
		t.Fatalf("resumed receive: %v", got.err)
	}
	mustEqual(t, "a.bin", readFile(t, filepath.Join(dst, "a.bin")), want)
}

// A chunk altered after it was hashed is caught, not written and not
// counted; a retry resumes right before it.
func TestCorruptChunk(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	const size = 6<<20 + 5
	want := randomFile(t, filepath.Join(src, "a.bin"), size)
	prog := transfertest.NewMemProgress()
	r := newReceiver(t, dst, prog, nil)
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(filepath.Join(src, "a.bin"))

	res, err := Send(context.Background(), p.ab, o, SendOptions{chunkHook: func(_ int, off int64, chunk []byte) {
		if off == 3*ChunkSize {
			chunk[1234] ^= 0x40
		}
	}})
	wantErr(t, "Send of a corrupt chunk", err, ErrCorrupt)
	// The fourth chunk's write may still be returning when the
	// receiver's reset arrives; the third's has returned. The stream's
	// window may have taken all of them, the short last one included.
	if res == nil || res.Chunks < 3 || (res.Bytes != res.Chunks*ChunkSize && res.Bytes != size) {
		t.Errorf("failed Send reports %+v, want the chunks it sent", res)
	}
	wantErr(t, "receive of a corrupt chunk", waitOutcome(t, out).err, ErrCorrupt)
	cp, _ := prog.Load(context.Background(), o.ID)
	if cp == nil || cp.Entries[0].Verified != 3*ChunkSize {
		t.Fatalf("checkpoint %+v, want 3 chunks verified", cp)
	}
	ps := partials(t, dst)
	if len(ps) != 1 {
		t.Fatalf("partial files %v", ps)
	}
	mustEqual(t, "partial file", readFile(t, ps[0]), want[:3*ChunkSize])

	res, err = Send(context.Background(), p.ab, o, SendOptions{})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if res.Bytes != size-3*ChunkSize {
		t.Errorf("retry sent %d bytes, want %d", res.Bytes, size-3*ChunkSize)
	}
	if got := waitOutcome(t, out); got.err != nil {
		t.Fatalf("retry receive: %v", got.err)
	}
	mustEqual(t, "a.bin", readFile(t, filepath.Join(dst, "a.bin")), want)
}

// A source file that changed between attempts without its size or time
// changing fails the whole-file hash; the file then starts over.
func TestWholeFileMismatch(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	name := filepath.Join(src, "a.bin")
	want := randomFile(t, name, 4<<20)
	prog := transfertest.NewMemProgress()
	r := newReceiver(t, dst, prog, nil)
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(name)

	ctx, cancel := context.WithCancel(context.Background())
	Send(ctx, p.ab, o, SendOptions{chunkHook: func(_ int, off int64, _ []byte) {
		if off == 2*ChunkSize {
			cancel()
			time.Sleep(50 * time.Millisecond)
		}
	}})
	waitOutcome(t, out)

	info, _ := os.Stat(name)
	want[0] ^= 1 // in the prefix the receiver has
	os.WriteFile(name, want, 0o644)
	os.Chtimes(name, info.ModTime(), info.ModTime())

	_, err := Send(context.Background(), p.ab, o, SendOptions{})
	wantErr(t, "Send of a changed file", err, ErrMismatch)
	wantErr(t, "receive of a changed file", waitOutcome(t, out).err, ErrMismatch)
	if len(partials(t, dst)) != 0 {
		t.Errorf("partial file kept after a mismatch: %v", partials(t, dst))
	}
	res, err := Send(context.Background(), p.ab, o, SendOptions{})
	if err != nil || res.Bytes != int64(len(want)) {
		t.Fatalf("third Send: %+v, %v", res, err)
	}
	if got := waitOutcome(t, out); got.err != nil {
		t.Fatal(got.err)
	}
	mustEqual(t, "a.bin", readFile(t, filepath.Join(dst, "a.bin")), want)
}

// A full disk mid-way stops the transfer with ErrDiskFull and keeps
// what was verified.
func TestDiskFull(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	want := randomFile(t, filepath.Join(src, "a.bin"), 6<<20)
	prog := transfertest.NewMemProgress()
	r := newReceiver(t, dst, prog, func(c *ReceiverConfig) {
		c.writeHook = func(_ int, off int64, _ int) error {
			if off == 4*ChunkSize {
				return &os.PathError{Op: "write", Path: "a.bin", Err: syscall.ENOSPC}
			}
			return nil
		}
	})
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(filepath.Join(src, "a.bin"))
	_, err := Send(context.Background(), p.ab, o, SendOptions{})
	wantErr(t, "Send to a full disk", err, ErrDiskFull)
	wantErr(t, "receive to a full disk", waitOutcome(t, out).err, ErrDiskFull)
	cp, _ := prog.Load(context.Background(), o.ID)
	if cp == nil || cp.Entries[0].Verified != 4*ChunkSize {
		t.Fatalf("checkpoint %+v, want 4 chunks verified", cp)
	}
	ps := partials(t, dst)
	if len(ps) != 1 {
		t.Fatalf("partial files %v", ps)
	}
	mustEqual(t, "partial file", readFile(t, ps[0]), want[:4*ChunkSize])
}

// An offer bigger than the free space is refused before any byte moves.
func TestNoSpace(t *testing.T) {
	if _, ok := freeSpace(t.TempDir()); !ok {
		t.Skip("free space unknown on this system")
	}
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	randomFile(t, filepath.Join(src, "a.bin"), 1000)
	prog := transfertest.NewMemProgress()
	r := newReceiver(t, dst, prog, func(c *ReceiverConfig) { c.Reserve = 1 << 62 })
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(filepath.Join(src, "a.bin"))
	res, err := Send(context.Background(), p.ab, o, SendOptions{})
	wantErr(t, "Send to a full disk", err, ErrNoSpace)
	wantErr(t, "receive to a full disk", waitOutcome(t, out).err, ErrNoSpace)
	if res.Bytes != 0 {
		t.Errorf("sent %d bytes", res.Bytes)
	}
	if entries, _ := os.ReadDir(dst); len(entries) != 0 {
		t.Errorf("destination not empty: %v", entries)
	}
}

// planResume takes only answers in Version within the rules: resume
// points on chunk boundaries before the last chunk, held chunks
// bounded, with well-formed hashes.
func TestPlanResume(t *testing.T) {
	const cs = MinChunkSize
	entries := []Entry{
		{Path: "d", Dir: true},
		{Path: "d/a", Size: 10*cs + 5},
		{Path: "d/empty"},
		{Path: "big", Size: 2000 * cs},
	}
	h := strings.Repeat("ab", hashSize)
	held := func(n int) []string { return slices.Repeat([]string{h}, n) }
	for _, tc := range []struct {
		name    string
		ans     answerBody
		want    error
		resumed int64
	}{
		{"nothing", answerBody{Version: Version}, nil, 0},
		{"done and resumed", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1, Offset: cs}}, Done: []int{3}}, nil, cs + 2000*cs},
		{"held", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1, Offset: cs, Held: held(9)}}}, nil, cs},
		{"held from 0", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1, Held: held(1)}}}, nil, 0},
		{"held at the bounds", answerBody{Version: Version, Resume: []resumePoint{{Entry: 3, Offset: 5 * cs, Held: held(maxHeldChunks)}}}, nil, 5 * cs},
		{"offset 0 without held", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1}}}, ErrProtocol, 0},
		{"no version", answerBody{Resume: []resumePoint{{Entry: 1, Offset: cs, Held: held(1)}}}, ErrVersion, 0},
		{"older version", answerBody{Version: Version - 1}, ErrVersion, 0},
		{"newer version", answerBody{Version: Version + 1}, ErrVersion, 0},
		{"held into the last chunk", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1, Offset: cs, Held: held(10)}}}, ErrProtocol, 0},
		{"too many held", answerBody{Version: Version, Resume: []resumePoint{{Entry: 3, Held: held(maxHeldChunks + 1)}}}, ErrProtocol, 0},
		{"short hash", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1, Offset: cs, Held: []string{h[2:]}}}}, ErrProtocol, 0},
		{"long hash", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1, Offset: cs, Held: []string{h + "ab"}}}}, ErrProtocol, 0},
		{"not hex", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1, Offset: cs, Held: []string{"zz" + h[2:]}}}}, ErrProtocol, 0},
		{"unaligned", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1, Offset: cs + 1}}}, ErrProtocol, 0},
		{"at the end", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1, Offset: 11 * cs}}}, ErrProtocol, 0},
		{"negative", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1, Offset: -cs, Held: held(1)}}}, ErrProtocol, 0},
		{"folder", answerBody{Version: Version, Resume: []resumePoint{{Entry: 0, Held: held(1)}}}, ErrProtocol, 0},
		{"empty file", answerBody{Version: Version, Resume: []resumePoint{{Entry: 2, Held: held(1)}}}, ErrProtocol, 0},
		{"twice", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1, Offset: cs}, {Entry: 1, Offset: 2 * cs}}}, ErrProtocol, 0},
		{"done and resumed the same", answerBody{Version: Version, Resume: []resumePoint{{Entry: 1, Offset: cs}}, Done: []int{1}}, ErrProtocol, 0},
		{"no such entry", answerBody{Version: Version, Resume: []resumePoint{{Entry: 4, Offset: cs}}}, ErrProtocol, 0},
	} {
		p, err := planResume(&tc.ans, entries, cs)
		switch {
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %+v, %v; want %v", tc.name, p, err, tc.want)
		case tc.want == nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want == nil && p.resumed != tc.resumed:
			t.Errorf("%s: resumed %d, want %d", tc.name, p.resumed, tc.resumed)
		}
	}
}

// A segment may start after chunks held past the verified length, which
// it keeps, but nowhere else.
func TestStartSegmentHeld(t *testing.T) {
	const cs = MinChunkSize
	for _, tc := range []struct {
		name   string
		offset int64
		kept   int64
		ok     bool
	}{
		{"at the verified length", 2 * cs, 0, true},
		{"after one held chunk", 3 * cs, cs, true},
		{"after every held chunk", 5 * cs, 3 * cs, true},
		{"past the held chunks", 6 * cs, 0, false},
		{"before the verified length", cs, 0, false},
		{"inside a held chunk", 3*cs + 1, 0, false},
	} {
		s := &session{
			offer:   &Offer{ChunkSize: cs},
			cp:      &checkpoint.Transfer{Entries: []checkpoint.Entry{{Path: "a", Size: 10 * cs}}},
			entries: []entryState{{pos: 2 * cs, held: 3 * cs}},
			resumed: 2 * cs,
			meter:   startMeter(nil, 0, Status{}, 2*cs, 0),
		}
		first, err := s.startSegment(segmentBody{Entry: 0, Offset: tc.offset, End: 10 * cs, From: tc.offset})
		switch {
		case !tc.ok:
			if !errors.Is(err, ErrProtocol) {
				t.Errorf("%s: %v; want ErrProtocol", tc.name, err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !first || s.entries[0].pos != tc.offset || s.entries[0].from != tc.offset || s.entries[0].held != 0 || s.resumed != 2*cs+tc.kept:
			t.Errorf("%s: first %v, state %+v, resumed %d", tc.name, first, s.entries[0], s.resumed)
		}
	}
}

// A Send that cannot start still says what it moved: nothing.
func TestSendResultOnFailure(t *testing.T) {
	p := newPair(t)
	res, err := Send(context.Background(), p.ab, &Offer{ID: "not an id"}, SendOptions{})
	if err == nil || res == nil || res.Bytes != 0 || res.Chunks != 0 || res.Resumed != 0 {
		t.Errorf("Send of a bad offer: %+v, %v", res, err)
	}
}
