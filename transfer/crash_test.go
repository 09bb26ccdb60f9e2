package transfer

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/transfer/transfertest"
)

// killedProgress stands for a receiver killed (SIGKILL) between two
// saves: it records no verified length past after, while the chunks
// keep being written to the partial file. A save past after records
// after, as the last save before the kill, so that the checkpoint does
// not depend on which verified lengths the receiver happened to save.
type killedProgress struct {
	Progress
	after int64
}

func (p killedProgress) Save(ctx context.Context, id string, entry int, verified int64) error {
	return p.Progress.Save(ctx, id, entry, min(verified, p.after))
}

// crash makes a first attempt at sending o that ends as if the receiver
// were killed once it had written the chunk at breakAt: its checkpoint
// in prog says after bytes are verified (saving at every chunk up to
// there), its partial file holds every chunk written. It returns the
// length of the partial file, and leaves p on a new connection.
func crash(t *testing.T, p *pair, o *Offer, dst string, prog Progress, after, breakAt int64) int64 {
	t.Helper()
	var written atomic.Int64
	var once sync.Once
	ba := p.ba
	r := newReceiver(t, dst, killedProgress{prog, after}, func(c *ReceiverConfig) {
		if after > 0 {
			c.SaveInterval = time.Nanosecond
		}
		c.writeHook = func(_ int, off int64, n int) error {
			// Striped chunks land in any order: the file ends at the
			// furthest write.
			for end := off + int64(n); ; {
				cur := written.Load()
				if end <= cur || written.CompareAndSwap(cur, end) {
					break
				}
			}
			if off >= breakAt {
				once.Do(func() { ba.CloseWithError(0, "test: receiver killed") })
			}
			return nil
		}
	})
	out := serveConn(t, r, p.ba)
	// One stream, so the partial file is written in order and what the
	// kill leaves is a prefix (striping's resume has tests of its own).
	res, err := Send(context.Background(), p.ab, o, SendOptions{Streams: 1})
	if err == nil {
		t.Fatal("first Send succeeded through a closed connection")
	}
	// The sender wrote each chunk before the receiver could write it.
	if res == nil || res.Bytes < written.Load()-int64(o.ChunkSize) || res.Chunks < written.Load()/int64(o.ChunkSize)-1 {
		t.Errorf("failed Send reports %+v; the receiver wrote %d bytes", res, written.Load())
	}
	if got := waitOutcome(t, out); got.err == nil {
		t.Fatal("first receive succeeded")
	}
	r.Close()
	p.redial(t)

	cp, err := prog.Load(context.Background(), o.ID)
	if err != nil || cp == nil || cp.Entries[0].Verified != after {
		t.Fatalf("checkpoint after the kill: %+v, %v; want %d verified", cp, err, after)
	}
	if info, err := os.Stat(onePartial(t, dst)); err != nil || info.Size() != written.Load() {
		t.Fatalf("partial file after the kill: %v, %v; want %d bytes", info, err, written.Load())
	}
	return written.Load()
}

// killedAt leaves dst as a receiver killed after writing the first
// held bytes of the file want, with its checkpoint at after: a first
// attempt that breaks at once makes the checkpoint and the partial file,
// which are then set by hand.
func killedAt(t *testing.T, p *pair, o *Offer, dst string, prog Progress, want []byte, after, held int64) {
	t.Helper()
	crash(t, p, o, dst, prog, 0, 0)
	if err := os.WriteFile(onePartial(t, dst), want[:held], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := prog.Save(context.Background(), o.ID, 0, after); err != nil {
		t.Fatal(err)
	}
}

// resume sends o again to a fresh receiver (as after a restart) and
// returns what both sides report.
func resume(t *testing.T, p *pair, o *Offer, dst string, prog Progress, opts SendOptions, mod func(*ReceiverConfig)) (*SendResult, *Result) {
	t.Helper()
	r := newReceiver(t, dst, prog, mod)
	out := serveConn(t, r, p.ba)
	res, err := Send(context.Background(), p.ab, o, opts)
	if err != nil {
		t.Fatalf("resumed Send: %v", err)
	}
	got := waitOutcome(t, out)
	if got.err != nil {
		t.Fatalf("resumed receive: %v", got.err)
	}
	return res, got.res
}

// onePartial returns the one partial file under dir.
func onePartial(t *testing.T, dir string) string {
	t.Helper()
	ps := partials(t, dir)
	if len(ps) != 1 {
		t.Fatalf("partial files %v, want one", ps)
	}
	return ps[0]
}

// alterFile writes b at off in the file name, as a disk or another
// program might.
func alterFile(t *testing.T, name string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// checkResumed checks that a resume kept exactly kept bytes of a file
// of size and sent the rest, each chunk once.
func checkResumed(t *testing.T, res *SendResult, got *Result, size, kept int64) {
	t.Helper()
	chunks := (size - kept + ChunkSize - 1) / ChunkSize // offers from NewOffer use ChunkSize
	if res.Resumed != kept || res.Bytes != size-kept || res.Chunks != chunks {
		t.Errorf("sender: %+v, want %d resumed, %d bytes in %d chunks", res, kept, size-kept, chunks)
	}
	if got.Resumed != kept || got.Bytes != size-kept {
		t.Errorf("receiver: %d resumed, %d received; want %d and %d", got.Resumed, got.Bytes, kept, size-kept)
	}
}

// A receiver killed half way, whose checkpoint lags its partial file,
// keeps on resuming the chunks the file holds that match the sender's:
// nothing it had written is sent again, the chunk the kill cut short
// aside.
func TestResumeAfterKill(t *testing.T) {
	const size = 8<<20 + 100
	for _, tc := range []struct {
		name  string
		after int64 // verified length the checkpoint recorded
	}{
		{"never saved", 0},
		{"saved at two chunks", 2 * ChunkSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t)
			src, dst := t.TempDir(), t.TempDir()
			want := randomFile(t, filepath.Join(src, "film.mkv"), size)
			prog, err := transfertest.NewFileProgress(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			o, err := NewOffer(filepath.Join(src, "film.mkv"))
			if err != nil {
				t.Fatal(err)
			}
			held := crash(t, p, o, dst, prog, tc.after, size/2)
			if held < tc.after+2*ChunkSize {
				t.Fatalf("partial file holds %d bytes, verified %d: nothing to test", held, tc.after)
			}
			// The kill also left half a chunk written after the others.
			alterFile(t, onePartial(t, dst), held, want[held:held+ChunkSize/2])

			res, got := resume(t, p, o, dst, prog, SendOptions{}, nil)
			checkResumed(t, res, got, size, held)
			mustEqual(t, "film.mkv", readFile(t, filepath.Join(dst, "film.mkv")), want)
			if cp, _ := prog.Load(context.Background(), o.ID); cp != nil {
				t.Error("checkpoint kept after completion")
			}
		})
	}
}

// Chunks held past the checkpoint that were damaged on disk are sent
// again, from the first damaged one on.
func TestResumeAfterKillDamagedChunk(t *testing.T) {
	const size = 6<<20 + 100
	const after = 2 * ChunkSize
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	want := randomFile(t, filepath.Join(src, "a.bin"), size)
	prog := transfertest.NewMemProgress()
	o, _ := NewOffer(filepath.Join(src, "a.bin"))
	killedAt(t, p, o, dst, prog, want, after, after+3*ChunkSize)
	// Damage the second chunk past the checkpoint; the third is intact.
	alterFile(t, onePartial(t, dst), after+ChunkSize+12345, []byte{want[after+ChunkSize+12345] ^ 0x80})

	res, got := resume(t, p, o, dst, prog, SendOptions{}, nil)
	checkResumed(t, res, got, size, after+ChunkSize)
	mustEqual(t, "a.bin", readFile(t, filepath.Join(dst, "a.bin")), want)
}

// A partial file shorter than the checkpoint says (cut on disk) resumes
// from what it really holds.
func TestResumeShortPartialFile(t *testing.T) {
	const size = 4<<20 + 100
	const after = 3 * ChunkSize
	for _, tc := range []struct {
		name   string
		cut    func(t *testing.T, partial string)
		resume int64
	}{
		{"cut inside a chunk", func(t *testing.T, partial string) {
			if err := os.Truncate(partial, 2*ChunkSize-500); err != nil {
				t.Fatal(err)
			}
		}, ChunkSize},
		{"emptied", func(t *testing.T, partial string) {
			if err := os.Truncate(partial, 0); err != nil {
				t.Fatal(err)
			}
		}, 0},
		{"removed", func(t *testing.T, partial string) {
			if err := os.Remove(partial); err != nil {
				t.Fatal(err)
			}
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t)
			src, dst := t.TempDir(), t.TempDir()
			want := randomFile(t, filepath.Join(src, "a.bin"), size)
			prog := transfertest.NewMemProgress()
			o, _ := NewOffer(filepath.Join(src, "a.bin"))
			killedAt(t, p, o, dst, prog, want, after, after)
			tc.cut(t, onePartial(t, dst))

			res, got := resume(t, p, o, dst, prog, SendOptions{}, nil)
			checkResumed(t, res, got, size, tc.resume)
			mustEqual(t, "a.bin", readFile(t, filepath.Join(dst, "a.bin")), want)
		})
	}
}

// The answer reports at most maxHeldChunks chunks of one file; the
// chunks held past them are sent again.
func TestResumeHeldBound(t *testing.T) {
	const cs = MinChunkSize
	const size = (maxHeldChunks+20)*cs + 100
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	want := randomFile(t, filepath.Join(src, "a.bin"), size)
	prog := transfertest.NewMemProgress()
	o, _ := NewOffer(filepath.Join(src, "a.bin"))
	o.ChunkSize = cs
	killedAt(t, p, o, dst, prog, want, 0, (maxHeldChunks+10)*cs)
	r := newReceiver(t, dst, prog, nil)
	out := serveConn(t, r, p.ba)
	res, err := Send(context.Background(), p.ab, o, SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := waitOutcome(t, out); got.err != nil {
		t.Fatal(got.err)
	}
	if res.Resumed != maxHeldChunks*cs || res.Bytes != size-maxHeldChunks*cs {
		t.Errorf("resume %+v, want %d resumed", res, maxHeldChunks*cs)
	}
	mustEqual(t, "a.bin", readFile(t, filepath.Join(dst, "a.bin")), want)
}
