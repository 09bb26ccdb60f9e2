package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

func TestHelloRefused(t *testing.T) {
	s := startFake(t, func(s *fakeServer) {
		s.helloErr = wire.Errorf(wire.CodeUnsupportedVersion, "server speaks version 2")
	})
	_, err := Dial(context.Background(), s.addr, Options{Fingerprint: s.fp})
	var werr *wire.Error
	if !errors.As(err, &werr) || werr.Code != wire.CodeUnsupportedVersion {
		t.Fatalf("err = %v, want %s", err, wire.CodeUnsupportedVersion)
	}

	s = startFake(t, func(s *fakeServer) { s.hello.Version = wire.Version + 1 })
	if _, err := Dial(context.Background(), s.addr, Options{Fingerprint: s.fp}); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("err = %v, want a version error", err)
	}
}

func TestInterleaving(t *testing.T) {
	s := startFake(t, nil)
	c := s.dial(t, Options{})
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			var got int
			if err := call(t, c, "echo", i, &got); err != nil || got != i {
				errs <- errors.New("echo mismatch")
			}
		}()
		go func() {
			defer wg.Done()
			errs <- call(t, c, "events", map[string]int{"n": 3}, nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := len(c.Events()); got != 3*n {
		t.Fatalf("%d events queued, want %d", got, 3*n)
	}

	// Events arrive in the order sent, around the reply.
	for len(c.Events()) > 0 {
		<-c.Events()
	}
	if err := call(t, c, "events", map[string]int{"n": 10}, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		f := <-c.Events()
		var ev struct{ Seq int }
		if err := json.Unmarshal(f.Body, &ev); err != nil || f.Op != "tick" || ev.Seq != i {
			t.Fatalf("event %d = %s %s", i, f.Op, f.Body)
		}
	}
}

func TestErrorResponse(t *testing.T) {
	s := startFake(t, nil)
	c := s.dial(t, Options{})
	err := call(t, c, "fail", nil, nil)
	var werr *wire.Error
	if !errors.As(err, &werr) {
		t.Fatalf("err = %v (%T), want *wire.Error", err, err)
	}
	if werr.Code != wire.CodeInvalid || werr.Field != "username" {
		t.Errorf("err = %+v", werr)
	}
	err = call(t, c, "nonesuch", nil, nil)
	if !errors.As(err, &werr) || werr.Code != wire.CodeUnknownOp {
		t.Errorf("err = %v, want unknown_op", err)
	}
	// An error reply does not end the connection.
	if err := call(t, c, "echo", nil, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCallContext(t *testing.T) {
	s := startFake(t, nil)
	c := s.dial(t, Options{})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Call(ctx, "echo", nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("call with canceled ctx: %v", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Call(ctx, "hang", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang: err = %v, want deadline exceeded", err)
	}
	// The server now answers "hang" late, then this call; the late reply
	// must be dropped, not taken for this one.
	var got string
	if err := call(t, c, "echo", "mine", &got); err != nil || got != "mine" {
		t.Fatalf("echo after abandoned call = %q, %v", got, err)
	}
	c.mu.Lock()
	n := len(c.pending)
	c.mu.Unlock()
	if n != 0 {
		t.Errorf("%d requests still pending", n)
	}
}

func TestMaxFrameFromHello(t *testing.T) {
	s := startFake(t, func(s *fakeServer) { s.hello.MaxFrame = wire.MinMaxFrame })
	c := s.dial(t, Options{})
	big := strings.Repeat("x", wire.MinMaxFrame)
	if err := call(t, c, "echo", big, nil); !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Fatalf("oversized request: err = %v", err)
	}
	if err := call(t, c, "echo", big[:wire.MinMaxFrame/2], nil); err != nil {
		t.Fatalf("request under the limit: %v", err)
	}
}

func TestHeartbeat(t *testing.T) {
	s := startFake(t, nil)
	s.dial(t, Options{Heartbeat: 30 * time.Millisecond})
	deadline := time.Now().Add(5 * time.Second)
	for s.pings.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d pings in 5s, want 3", s.pings.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHeartbeatQuietWhileBusy(t *testing.T) {
	s := startFake(t, nil)
	c := s.dial(t, Options{Heartbeat: 300 * time.Millisecond})
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		if err := call(t, c, "echo", nil, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := s.pings.Load(); n != 0 {
		t.Errorf("%d pings sent on a busy connection", n)
	}
}

func TestHeartbeatInterval(t *testing.T) {
	for _, tt := range []struct {
		opt      time.Duration
		serverMS int64
		want     time.Duration
	}{
		{0, 0, DefaultHeartbeat},
		{0, -5, DefaultHeartbeat},
		{0, 30000, 30 * time.Second},
		{0, 10, minServerHeartbeat},
		{50 * time.Millisecond, 30000, 50 * time.Millisecond},
	} {
		if got := heartbeatInterval(tt.opt, tt.serverMS); got != tt.want {
			t.Errorf("heartbeatInterval(%v, %d) = %v, want %v", tt.opt, tt.serverMS, got, tt.want)
		}
	}
}

func TestServerErrorFrame(t *testing.T) {
	s := startFake(t, nil)
	c := s.dial(t, Options{})
	err := call(t, c, "kill", nil, nil)
	var werr *wire.Error
	if !errors.As(err, &werr) || werr.Code != wire.CodeShuttingDown {
		t.Fatalf("call: err = %v, want shutting_down", err)
	}
	waitDone(t, c)
	if !errors.As(c.Err(), &werr) || werr.Code != wire.CodeShuttingDown {
		t.Fatalf("Err() = %v, want shutting_down", c.Err())
	}
	if _, ok := <-c.Events(); ok {
		t.Error("Events not closed")
	}
	if err := call(t, c, "echo", nil, nil); !errors.As(err, &werr) {
		t.Errorf("call after the end: %v", err)
	}
}

func TestServerDrop(t *testing.T) {
	s := startFake(t, nil)
	c := s.dial(t, Options{})
	if err := call(t, c, "drop", nil, nil); err == nil {
		t.Fatal("call on a dropped connection succeeded")
	}
	waitDone(t, c)
	if !errors.Is(c.Err(), io.EOF) {
		t.Errorf("Err() = %v, want EOF", c.Err())
	}
}

func TestSlowConsumer(t *testing.T) {
	s := startFake(t, nil)
	c := s.dial(t, Options{EventBuffer: 4})
	call(t, c, "events", map[string]int{"n": 100}, nil)
	waitDone(t, c)
	if !errors.Is(c.Err(), ErrSlowConsumer) {
		t.Fatalf("Err() = %v, want ErrSlowConsumer", c.Err())
	}
	n := 0
	for range c.Events() {
		n++
	}
	if n != 4 {
		t.Errorf("%d events delivered, want the 4 buffered", n)
	}
}

func TestClose(t *testing.T) {
	// Slow every goroutine's exit down, so that a Close that did not wait
	// would return before they were done.
	var exited atomic.Int32
	testHookExit = func() {
		time.Sleep(20 * time.Millisecond)
		exited.Add(1)
	}
	t.Cleanup(func() { testHookExit = nil })

	s := startFake(t, nil)
	c := s.dial(t, Options{Heartbeat: 10 * time.Millisecond})
	errc := make(chan error, 1)
	go func() { errc <- call(t, c, "hang", nil, nil) }()
	time.Sleep(50 * time.Millisecond)

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := exited.Load(); n != 3 {
		t.Errorf("Close returned when %d of 3 goroutines had finished", n)
	}
	// The reader closes Events just before it returns; Close must have
	// waited for that.
	select {
	case _, ok := <-c.Events():
		if ok {
			t.Error("event delivered after Close")
		}
	default:
		t.Error("Events still open when Close returned")
	}
	// A goroutine may still be unwinding after its last deferred call, but
	// none may be left blocked.
	if stacks := clientGoroutines(200 * time.Millisecond); stacks != "" {
		t.Fatalf("goroutines left after Close:\n%s", stacks)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("pending call: %v, want ErrClosed", err)
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done not closed after Close")
	}
	if !errors.Is(c.Err(), ErrClosed) {
		t.Errorf("Err() = %v, want ErrClosed", c.Err())
	}
	if err := call(t, c, "echo", nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("call after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// clientGoroutines returns the stacks of the goroutines a Client owns
// that are still there after waiting up to grace for them to finish.
func clientGoroutines(grace time.Duration) string {
	deadline := time.Now().Add(grace)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var out []string
		for _, g := range bytes.Split(buf, []byte("\n\n")) {
			for _, fn := range []string{"readLoop", "writeLoop", "heartbeat"} {
				if bytes.Contains(g, []byte("rendezvous/client.(*Client)."+fn+"(")) {
					out = append(out, string(g))
					break
				}
			}
		}
		if len(out) == 0 || time.Now().After(deadline) {
			return strings.Join(out, "\n\n")
		}
		time.Sleep(time.Millisecond)
	}
}
