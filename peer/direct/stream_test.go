package direct

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/lanchat/lanchat/internal/wire"
)

// serve answers the streams c's peer opens until c closes: a message
// stream gets its request echoed back as the reply body (or, for op
// "silent", no reply until the stream or connection ends), a transfer
// stream gets the SHA-256 of everything sent on it.
func serve(t *testing.T, c *Conn) {
	t.Helper()
	var wg sync.WaitGroup
	t.Cleanup(func() { c.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			kind, s, err := c.AcceptStream(context.Background())
			if err != nil {
				return
			}
			wg.Go(func() {
				defer s.Close()
				switch kind {
				case StreamMessage:
					s.SetDeadline(time.Now().Add(5 * time.Second))
					f, err := wire.NewReader(s, wire.DefaultMaxFrame).ReadFrame()
					if err != nil {
						return
					}
					if f.Op == "silent" {
						<-s.Context().Done()
						return
					}
					reply, _ := wire.NewResponse(f.ID, f.Body)
					wire.WriteFrame(s, reply)
				case StreamTransfer:
					h := sha256.New()
					if _, err := io.Copy(h, s); err != nil {
						s.CancelWrite(StreamCodeCancelled)
						return
					}
					s.Write(h.Sum(nil))
				}
			})
		}
	})
}

func TestExchange(t *testing.T) {
	_, _, ab, ba := connected(t)
	serve(t, ba)
	req, err := wire.NewRequest(7, "ping", map[string]string{"hello": "bob"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // several exchanges on one connection
		reply, err := Exchange(context.Background(), ab, StreamMessage, req, 1024)
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		if reply.Kind != wire.KindResponse || reply.ID != 7 || string(reply.Body) != `{"hello":"bob"}` {
			t.Fatalf("reply %+v", reply)
		}
	}
}

func TestExchangeBounds(t *testing.T) {
	_, _, ab, ba := connected(t)
	serve(t, ba)

	big, _ := wire.NewRequest(1, "echo", map[string]string{"pad": string(make([]byte, 4000))})
	if _, err := Exchange(context.Background(), ab, StreamMessage, big, 1024); !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Errorf("oversized reply: %v, want ErrFrameTooLarge", err)
	}

	silent, _ := wire.NewRequest(2, "silent", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := Exchange(ctx, ab, StreamMessage, silent, 1024); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("exchange without a reply: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("exchange gave up after %v, context allowed 200ms", d)
	}

	// A cancelled context stops a pending exchange at once.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := Exchange(ctx, ab, StreamMessage, silent, 1024); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled exchange: %v, want context.Canceled", err)
	}

	if _, err := Exchange(context.Background(), ab, StreamKind(9), silent, 1024); !errors.Is(err, ErrUnknownStreamKind) {
		t.Errorf("unknown kind: %v, want ErrUnknownStreamKind", err)
	}
}

// rawStream opens a stream on c without going through OpenStream, as a
// peer speaking another protocol version would.
func rawStream(t *testing.T, c *Conn, first []byte) *quic.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s, err := c.qc.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) > 0 {
		if _, err := s.Write(first); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// resetCode waits for the peer to reset s and returns the code.
func resetCode(t *testing.T, s *quic.Stream) StreamErrorCode {
	t.Helper()
	s.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err := s.Read(make([]byte, 1))
	var serr *quic.StreamError
	if !errors.As(err, &serr) || !serr.Remote {
		t.Fatalf("read on a refused stream: %v, want a reset from the peer", err)
	}
	return StreamErrorCode(serr.ErrorCode)
}

func TestUnknownKindResetsOnlyThatStream(t *testing.T) {
	_, _, ab, ba := connected(t)
	serve(t, ba)

	s := rawStream(t, ab, []byte{99, 'h', 'i'})
	if code := resetCode(t, s); code != StreamCodeUnknownKind {
		t.Fatalf("reset with code %d, want %d", code, StreamCodeUnknownKind)
	}
	// Through the Stream wrapper the reset reads as ErrUnknownStreamKind.
	w := &Stream{s: rawStream(t, ab, []byte{42})}
	w.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := w.Read(make([]byte, 1)); !errors.Is(err, ErrUnknownStreamKind) {
		t.Fatalf("read: %v, want ErrUnknownStreamKind", err)
	}
	// A stream ended before its kind is refused the same way.
	empty := rawStream(t, ab, nil)
	empty.Close()
	if code := resetCode(t, empty); code != StreamCodeUnknownKind {
		t.Fatalf("empty stream reset with code %d, want %d", code, StreamCodeUnknownKind)
	}

	req, _ := wire.NewRequest(1, "ping", nil)
	if _, err := Exchange(context.Background(), ab, StreamMessage, req, 1024); err != nil {
		t.Fatalf("exchange after a refused stream: %v", err)
	}
	if ab.Context().Err() != nil {
		t.Fatal("connection closed")
	}
}

func TestStalledStreamTimesOut(t *testing.T) {
	_, _, ab, ba := connected(t)

	// QUIC opens streams in order: a later stream's first packet makes
	// the peer see the earlier one too, kind byte or not.
	stalled := rawStream(t, ab, nil)
	good, err := ab.OpenStream(context.Background(), StreamMessage)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()

	start := time.Now()
	kind, s, err := ba.AcceptStream(context.Background())
	if err != nil {
		t.Fatalf("AcceptStream: %v", err)
	}
	defer s.Close()
	waited := time.Since(start)
	if kind != StreamMessage || s.Kind() != StreamMessage {
		t.Fatalf("accepted kind %v", kind)
	}
	if waited < testOptions().StreamKindTimeout/2 || waited > 3*time.Second {
		t.Errorf("good stream accepted after %v; stall timeout is %v", waited, testOptions().StreamKindTimeout)
	}
	if code := resetCode(t, stalled); code != StreamCodeTimeout {
		t.Fatalf("stalled stream reset with code %d, want %d", code, StreamCodeTimeout)
	}

	// AcceptStream itself returns when its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := ba.AcceptStream(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AcceptStream with no streams: %v, want DeadlineExceeded", err)
	}
	if ab.Context().Err() != nil || ba.Context().Err() != nil {
		t.Fatal("connection closed")
	}
}

func TestLargeTransfer(t *testing.T) {
	size := 64 << 20
	if testing.Short() {
		size = 8 << 20
	}
	_, _, ab, ba := connected(t)
	serve(t, ba)

	// A guard against a hang, not a speed test: -race on a loaded
	// machine moves 64 MiB slowly.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := ab.OpenStream(ctx, StreamTransfer)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline, _ := ctx.Deadline()
	s.SetDeadline(deadline)

	start := time.Now()
	h := sha256.New()
	src := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{1}), int64(size)), h)
	if _, err := io.CopyBuffer(s, src, make([]byte, 256<<10)); err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("read digest: %v", err)
	}
	if string(got) != string(h.Sum(nil)) {
		t.Fatal("digest mismatch: data corrupted in transit")
	}
	d := time.Since(start)
	t.Logf("%d MiB in %v (%.0f MB/s), GSO %v", size>>20, d.Round(time.Millisecond),
		float64(size)/d.Seconds()/1e6, ab.qc.ConnectionState().GSO)
}
