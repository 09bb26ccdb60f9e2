package transfer

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/transfer/checkpoint"
	"github.com/lanchat/lanchat/transfer/transfertest"
)

// A big file is cut into pieces that the default data streams all
// carry, and arrives whole.
func TestStriped(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	want := randomFile(t, filepath.Join(src, "big.bin"), 24<<20+777)
	r := newReceiver(t, dst, transfertest.NewMemProgress(), nil)
	out := serveConn(t, r, p.ba)
	o, err := NewOffer(filepath.Join(src, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Send(context.Background(), p.ab, o, SendOptions{})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := waitOutcome(t, out); got.err != nil {
		t.Fatalf("receive: %v", got.err)
	}
	mustEqual(t, "big.bin", readFile(t, filepath.Join(dst, "big.bin")), want)
	if res.Striped != 1 || len(res.StreamBytes) != DefaultStreams || res.Bytes != int64(len(want)) {
		t.Fatalf("send result %+v: want one file striped over %d streams", res, DefaultStreams)
	}
	for k, n := range res.StreamBytes {
		if n < int64(len(want))/(3*DefaultStreams) {
			t.Errorf("stream %d carried %d of %d bytes", k, n, len(want))
		}
	}
	if len(partials(t, dst)) != 0 {
		t.Errorf("partial files left: %v", partials(t, dst))
	}
}

// A file smaller than a stripe goes whole.
func TestNotStriped(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	want := randomFile(t, filepath.Join(src, "f"), stripeMinChunks*ChunkSize-1)
	r := newReceiver(t, dst, transfertest.NewMemProgress(), nil)
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(filepath.Join(src, "f"))
	res, err := Send(context.Background(), p.ab, o, SendOptions{Streams: 2})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := waitOutcome(t, out); got.err != nil {
		t.Fatalf("receive: %v", got.err)
	}
	mustEqual(t, "f", readFile(t, filepath.Join(dst, "f")), want)
	if res.Striped != 0 || res.StreamBytes[0] != int64(len(want)) {
		t.Errorf("send result %+v: want the file whole on one stream", res)
	}
}

// While one stream is stuck, the other runs ahead of the verified
// prefix, but no further than aheadWindow chunks; the file completes
// once the stuck one goes on.
func TestStripeWindow(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	const cs = MinChunkSize
	want := randomFile(t, filepath.Join(src, "f"), 3*aheadWindow*cs+5)
	// Chunk 0 is stuck until it is written: it waits until the other
	// stream waits at the window's edge (or a minute, against a hang).
	var stuck atomic.Bool
	stuck.Store(true)
	var furthest atomic.Int64
	atEdge := make(chan struct{})
	var edgeOnce sync.Once
	r := newReceiver(t, dst, transfertest.NewMemProgress(), func(c *ReceiverConfig) {
		c.writeHook = func(_ int, off int64, _ int) error {
			if off == 0 {
				select {
				case <-atEdge:
				case <-time.After(time.Minute):
					t.Error("the other stream never waited for the window while chunk 0 was stuck")
				}
				stuck.Store(false)
			} else if stuck.Load() {
				furthest.Store(max(furthest.Load(), off))
			}
			return nil
		}
		c.windowHook = func(_ int, off int64) {
			if stuck.Load() {
				edgeOnce.Do(func() { close(atEdge) })
			}
		}
	})
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(filepath.Join(src, "f"))
	o.ChunkSize = cs
	res, err := Send(context.Background(), p.ab, o, SendOptions{Streams: 2})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := waitOutcome(t, out); got.err != nil {
		t.Fatalf("receive: %v", got.err)
	}
	mustEqual(t, "f", readFile(t, filepath.Join(dst, "f")), want)
	if res.Striped != 1 {
		t.Errorf("send result %+v: not striped", res)
	}
	if f := furthest.Load() / cs; f < aheadWindow/2 || f >= aheadWindow {
		t.Errorf("while chunk 0 was stuck the other stream wrote up to chunk %d; want it ahead, below %d", f, aheadWindow)
	}
}

// A striped transfer broken half way resumes from what the partial file
// holds: chunks verified past the prefix by the other stream count too,
// so only the chunks after the first gap go again.
func TestStripedResume(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	const cs = MinChunkSize
	const chunks = 400
	want := randomFile(t, filepath.Join(src, "f"), chunks*cs-99)
	o, _ := NewOffer(filepath.Join(src, "f"))
	o.ChunkSize = cs
	prog := transfertest.NewMemProgress()

	var mu sync.Mutex
	written := map[int64]bool{}
	var once sync.Once
	ba := p.ba
	r := newReceiver(t, dst, prog, func(c *ReceiverConfig) {
		c.writeHook = func(_ int, off int64, _ int) error {
			mu.Lock()
			written[off/cs] = true
			mu.Unlock()
			if off >= chunks/2*cs {
				once.Do(func() { ba.CloseWithError(0, "test: link dropped") })
			}
			return nil
		}
	})
	out := serveConn(t, r, p.ba)
	if _, err := Send(context.Background(), p.ab, o, SendOptions{Streams: 2}); err == nil {
		t.Fatal("first Send succeeded through a closed connection")
	}
	if got := waitOutcome(t, out); got.err == nil {
		t.Fatal("first receive succeeded")
	}
	r.Close()
	p.redial(t)
	mu.Lock()
	var prefix int64
	for written[prefix] {
		prefix++
	}
	mu.Unlock()

	res, got := resume(t, p, o, dst, prog, SendOptions{Streams: 2}, nil)
	mustEqual(t, "f", readFile(t, filepath.Join(dst, "f")), want)
	if res.Striped != 1 {
		t.Errorf("resumed send %+v: not striped", res)
	}
	// Chunks written but cut off by the break, and chunks after the
	// first gap, go again: a few, however many were on their way.
	if again := res.Chunks - (chunks - prefix); again > 4 {
		t.Errorf("resumed send re-sent %d chunks that were written before the break (%d contiguous): %+v", again, prefix, res)
	}
	if got.Resumed < prefix*cs-4*cs {
		t.Errorf("receiver resumed %d bytes, had %d contiguous", got.Resumed, prefix*cs)
	}
}

// The receiver's rules for the segments of a striped entry.
func TestStartSegmentStriped(t *testing.T) {
	const cs = MinChunkSize
	newSess := func() *session {
		s := &session{
			offer:   &Offer{ChunkSize: cs},
			cp:      &checkpoint.Transfer{Entries: []checkpoint.Entry{{Path: "a", Size: 100 * cs}}},
			entries: []entryState{{pos: 2 * cs, held: 3 * cs}},
			resumed: 2 * cs,
			meter:   startMeter(nil, 0, Status{}, 2*cs, 0),
		}
		return s
	}
	seg := func(off, end, from int64) segmentBody {
		return segmentBody{Entry: 0, Offset: off * cs, End: end * cs, From: from * cs}
	}
	s := newSess()
	// Out of order, starting after the held chunks the sender kept.
	for _, g := range []segmentBody{seg(9, 10, 4), seg(4, 5, 4), seg(5, 9, 4)} {
		if _, err := s.startSegment(g); err != nil {
			t.Fatalf("segment %+v: %v", g, err)
		}
	}
	if es := s.entries[0]; es.from != 4*cs || es.pos != 4*cs || s.resumed != 4*cs || len(es.active) != 3 {
		t.Errorf("state %+v, resumed %d", es, s.resumed)
	}
	s.verified(0, 9*cs, make([]byte, cs), [hashSize]byte{})
	for _, tc := range []struct {
		name string
		seg  segmentBody
	}{
		{"overlapping a segment", seg(8, 10, 4)},
		{"overlapping a verified chunk", segmentBody{Entry: 0, Offset: 9 * cs, End: 11 * cs, From: 4 * cs}},
		{"another start", seg(20, 21, 2)},
		{"before the start", seg(3, 4, 4)},
		{"past the end", seg(99, 101, 4)},
		{"not a chunk boundary", segmentBody{Entry: 0, Offset: 30*cs + 1, End: 31 * cs, From: 4 * cs}},
	} {
		if _, err := s.startSegment(tc.seg); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v; want ErrProtocol", tc.name, err)
		}
	}
	for _, tc := range []struct {
		name string
		from int64
	}{{"start past the held chunks", 6}, {"start before the verified prefix", 1}} {
		if _, err := newSess().startSegment(seg(10, 11, tc.from)); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v; want ErrProtocol", tc.name, err)
		}
	}
}
