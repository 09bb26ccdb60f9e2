package transfer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/transfer/transfertest"
)

// checkClean checks that dir holds nothing and prog forgot transfer id.
func checkClean(t *testing.T, dir string, prog Progress, id string) {
	t.Helper()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("destination holds %v", names)
	}
	if cp, _ := prog.Load(context.Background(), id); cp != nil {
		t.Errorf("checkpoint kept: %+v", cp)
	}
}

func TestReject(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	randomFile(t, filepath.Join(src, "a.bin"), 1<<20)
	prog := transfertest.NewMemProgress()
	var got *Request
	r := newReceiver(t, dst, prog, func(c *ReceiverConfig) {
		c.Decide = func(_ context.Context, req *Request) Decision {
			got = req
			return Decision{Reason: "not now"}
		}
	})
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(filepath.Join(src, "a.bin"))
	_, err := Send(context.Background(), p.ab, o, SendOptions{})
	wantErr(t, "rejected Send", err, ErrRejected)
	if !strings.Contains(err.Error(), "not now") {
		t.Errorf("reason lost: %v", err)
	}
	wantErr(t, "rejected receive", waitOutcome(t, out).err, ErrRejected)
	if got == nil || got.Peer != "alice" || got.Resume || got.Offer.ID != o.ID || got.Offer.Entries[0].Path != "a.bin" {
		t.Errorf("request %+v", got)
	}
	checkClean(t, dst, prog, o.ID)
}

// Rejecting the resume of an interrupted transfer removes what the
// first attempt left.
func TestRejectResume(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	randomFile(t, filepath.Join(src, "dir", "a.bin"), 4<<20)
	prog := transfertest.NewMemProgress()
	var mu sync.Mutex
	accept := true
	r := newReceiver(t, dst, prog, func(c *ReceiverConfig) {
		c.Decide = func(_ context.Context, req *Request) Decision {
			mu.Lock()
			defer mu.Unlock()
			if accept != !req.Resume {
				t.Errorf("request resume=%v", req.Resume)
			}
			return Decision{Accept: accept, Dir: dst}
		}
	})
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(filepath.Join(src, "dir"))
	ctx, cancel := context.WithCancel(context.Background())
	Send(ctx, p.ab, o, SendOptions{chunkHook: func(_ int, off int64, _ []byte) {
		if off == 2*ChunkSize {
			cancel()
			time.Sleep(50 * time.Millisecond)
		}
	}})
	waitOutcome(t, out)
	if len(partials(t, dst)) != 1 {
		t.Fatalf("partial files %v", partials(t, dst))
	}
	mu.Lock()
	accept = false
	mu.Unlock()
	_, err := Send(context.Background(), p.ab, o, SendOptions{})
	wantErr(t, "rejected resume", err, ErrRejected)
	waitOutcome(t, out)
	checkClean(t, dst, prog, o.ID)
}

// A receiver's Cancel stops the sender and removes the partial files.
func TestCancelByReceiver(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	randomFile(t, filepath.Join(src, "a.bin"), 8<<20)
	o, _ := NewOffer(filepath.Join(src, "a.bin"))
	prog := transfertest.NewMemProgress()
	var once sync.Once
	var r *Receiver
	r = newReceiver(t, dst, prog, func(c *ReceiverConfig) {
		c.writeHook = func(_ int, off int64, _ int) error {
			if off >= 2*ChunkSize {
				once.Do(func() {
					if !r.Cancel(context.Background(), o.ID) {
						t.Error("Cancel found no transfer")
					}
				})
			}
			return nil
		}
	})
	out := serveConn(t, r, p.ba)
	_, err := Send(context.Background(), p.ab, o, SendOptions{})
	wantErr(t, "cancelled Send", err, ErrCancelled)
	wantErr(t, "cancelled receive", waitOutcome(t, out).err, ErrCancelled)
	checkClean(t, dst, prog, o.ID)
}

// A sender cancelling with ErrCancelled as its context's cause has the
// receiver remove the partial files; files already complete stay.
func TestCancelBySender(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	small := randomFile(t, filepath.Join(src, "dir", "a-small"), 100)
	randomFile(t, filepath.Join(src, "dir", "b-big"), 8<<20)
	prog := transfertest.NewMemProgress()
	r := newReceiver(t, dst, prog, nil)
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(filepath.Join(src, "dir"))
	ctx, cancel := context.WithCancelCause(context.Background())
	_, err := Send(ctx, p.ab, o, SendOptions{chunkHook: func(entry int, off int64, _ []byte) {
		if entry == 2 && off == 3*ChunkSize {
			cancel(ErrCancelled)
		}
	}})
	wantErr(t, "cancelled Send", err, ErrCancelled)
	wantErr(t, "cancelled receive", waitOutcome(t, out).err, ErrCancelled)
	if ps := partials(t, dst); len(ps) != 0 {
		t.Errorf("partial files left: %v", ps)
	}
	if cp, _ := prog.Load(context.Background(), o.ID); cp != nil {
		t.Errorf("checkpoint kept: %+v", cp)
	}
	mustEqual(t, "completed file", readFile(t, filepath.Join(dst, "dir", "a-small")), small)
	if _, err := os.Stat(filepath.Join(dst, "dir", "b-big")); err == nil {
		t.Error("cancelled file in place")
	}
}

// A sender that gives up while the receiver is still deciding ends the
// decision: Decide's context is done.
func TestSenderGivesUpWhileDeciding(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	randomFile(t, filepath.Join(src, "a.bin"), 10)
	decided := make(chan error, 1)
	r := newReceiver(t, dst, transfertest.NewMemProgress(), func(c *ReceiverConfig) {
		c.Decide = func(ctx context.Context, _ *Request) Decision {
			select {
			case <-ctx.Done():
				decided <- context.Cause(ctx)
			case <-time.After(10 * time.Second):
				decided <- nil
			}
			return Decision{}
		}
	})
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(filepath.Join(src, "a.bin"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Send(ctx, p.ab, o, SendOptions{})
	wantErr(t, "Send that gave up", err, ErrInterrupted)
	select {
	case cause := <-decided:
		wantErr(t, "Decide's context", cause, ErrInterrupted)
	case <-time.After(5 * time.Second):
		t.Fatal("Decide still waiting after the sender left")
	}
	wantErr(t, "receive", waitOutcome(t, out).err, ErrInterrupted)
}
