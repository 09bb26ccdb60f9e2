package transfer

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/transfer/transfertest"
)

// A sender that cancels while the receiver is still deciding tells the
// receiver so: Decide's context ends with ErrCancelled, not as a sender
// that merely went away, and the receive ends cancelled.
func TestCancelWhileDeciding(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	randomFile(t, filepath.Join(src, "a.bin"), 10)
	deciding := make(chan struct{})
	decided := make(chan error, 1)
	r := newReceiver(t, dst, transfertest.NewMemProgress(), func(c *ReceiverConfig) {
		c.Decide = func(ctx context.Context, _ *Request) Decision {
			close(deciding)
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
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		<-deciding
		cancel(ErrCancelled)
	}()
	_, err := Send(ctx, p.ab, o, SendOptions{})
	wantErr(t, "cancelled Send", err, ErrCancelled)
	select {
	case cause := <-decided:
		wantErr(t, "Decide's context", cause, ErrCancelled)
	case <-time.After(5 * time.Second):
		t.Fatal("Decide still waiting after the sender cancelled")
	}
	wantErr(t, "receive", waitOutcome(t, out).err, ErrCancelled)
	checkClean(t, dst, r.cfg.Progress, o.ID)
}

// interruptedTransfer runs a transfer of one 4 MiB file until its third
// chunk, then interrupts it: the receiver keeps a partial file and a
// checkpoint, as a transfer waiting to resume does.
func interruptedTransfer(t *testing.T, p *pair, r *Receiver, out <-chan outcome, src, dst string) *Offer {
	t.Helper()
	randomFile(t, filepath.Join(src, "a.bin"), 4<<20)
	o, err := NewOffer(filepath.Join(src, "a.bin"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	Send(ctx, p.ab, o, SendOptions{chunkHook: func(_ int, off int64, _ []byte) {
		if off == 2*ChunkSize {
			cancel()
			time.Sleep(50 * time.Millisecond)
		}
	}})
	wantErr(t, "interrupted receive", waitOutcome(t, out).err, ErrInterrupted)
	if ps := partials(t, dst); len(ps) != 1 {
		t.Fatalf("partial files after the interruption: %v", ps)
	}
	if cp, _ := r.cfg.Progress.Load(context.Background(), o.ID); cp == nil {
		t.Fatal("no checkpoint after the interruption")
	}
	return o
}

// A receiver's Cancel of a transfer that is not running now (it waits
// for the sender to resume) removes its partial files and checkpoint at
// once, not at the sender's next attempt.
func TestCancelWaitingTransfer(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	prog := transfertest.NewMemProgress()
	r := newReceiver(t, dst, prog, nil)
	out := serveConn(t, r, p.ba)
	o := interruptedTransfer(t, p, r, out, src, dst)
	r.Cancel(context.Background(), o.ID)
	checkClean(t, dst, prog, o.ID)
}

// Received files get the receiver's umask: never more open than
// 0666 &^ umask, the owner's execute bit only when the sender's file had
// it, never set-id.
func TestReceivedFileMode(t *testing.T) {
	old := umaskSet(0o027)
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	r := newReceiver(t, dst, transfertest.NewMemProgress(), nil)
	umaskSet(old)
	out := serveConn(t, r, p.ba)
	cases := []struct {
		name string
		mode uint32
		want os.FileMode
	}{
		{"script", 0o777, 0o740},
		{"doc", 0o644, 0o640},
		{"setuid", 0o4755, 0o740},
		{"private", 0o600, 0o640},
		{"group-exec", 0o654, 0o640},
		{"empty", 0o777, 0o740},
	}
	o := &Offer{ID: NewID(), ChunkSize: ChunkSize}
	for _, c := range cases {
		local := filepath.Join(src, c.name)
		size := 100
		if c.name == "empty" {
			size = 0
		}
		randomFile(t, local, size)
		o.push(local, Entry{Path: c.name, Size: int64(size), Mode: c.mode})
	}
	if _, err := Send(context.Background(), p.ab, o, SendOptions{}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := waitOutcome(t, out); got.err != nil {
		t.Fatalf("receive: %v", got.err)
	}
	for _, c := range cases {
		info, err := os.Stat(filepath.Join(dst, c.name))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != c.want {
			t.Errorf("%s sent with mode %o: received %v, want %v", c.name, c.mode, info.Mode(), c.want)
		}
	}
}

// A sender's cancel notice reaches a receiver whose transfer waits to
// resume: Cancelled is told, and the partial files and checkpoint go.
// The same notice from another peer touches nothing, and is
// acknowledged all the same.
func TestCancelNotice(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	prog := transfertest.NewMemProgress()
	told := make(chan string, 4)
	r := newReceiver(t, dst, prog, func(c *ReceiverConfig) {
		c.Cancelled = func(_ context.Context, peer, id string) { told <- peer + " " + id }
	})
	out := serveConn(t, r, p.ba)
	o := interruptedTransfer(t, p, r, out, src, dst)

	carol := newTestPeer(t, "carol")
	befriend(carol, p.bob)
	cb, bc := dial(t, carol, p.bob)
	serveConn(t, r, bc)
	if err := SendCancel(context.Background(), cb, o.ID); err != nil {
		t.Fatalf("carol's notice: %v", err)
	}
	if got := <-told; got != "carol "+o.ID {
		t.Errorf("Cancelled told %q", got)
	}
	if ps := partials(t, dst); len(ps) != 1 {
		t.Fatalf("carol's notice touched alice's transfer: partial files %v", ps)
	}

	if err := SendCancel(context.Background(), p.ab, o.ID); err != nil {
		t.Fatalf("alice's notice: %v", err)
	}
	if got := <-told; got != "alice "+o.ID {
		t.Errorf("Cancelled told %q", got)
	}
	checkClean(t, dst, prog, o.ID)
	// An unknown transfer's notice is acknowledged too.
	if err := SendCancel(context.Background(), p.ab, NewID()); err != nil {
		t.Fatalf("notice of an unknown transfer: %v", err)
	}
}

// A cancel notice for a transfer running now stops it: the receiver
// ends cancelled and removes its partial files.
func TestCancelNoticeWhileRunning(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	randomFile(t, filepath.Join(src, "a.bin"), 8<<20)
	o, _ := NewOffer(filepath.Join(src, "a.bin"))
	prog := transfertest.NewMemProgress()
	noticed := make(chan error, 1)
	var r *Receiver
	var once sync.Once
	r = newReceiver(t, dst, prog, func(c *ReceiverConfig) {
		c.writeHook = func(_ int, off int64, _ int) error {
			if off >= 2*ChunkSize {
				once.Do(func() { go func() { noticed <- SendCancel(context.Background(), p.ab, o.ID) }() })
			}
			return nil
		}
	})
	out := serveConn(t, r, p.ba)
	_, err := Send(context.Background(), p.ab, o, SendOptions{})
	wantErr(t, "Send", err, ErrCancelled)
	wantErr(t, "receive", waitOutcome(t, out).err, ErrCancelled)
	if err := <-noticed; err != nil {
		t.Fatalf("notice: %v", err)
	}
	checkClean(t, dst, prog, o.ID)
}
