package api_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/api/apitest"
)

// shortDir returns a fresh directory with a path short enough for a Unix
// socket (t.TempDir's can pass the 107-byte limit with long test names).
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lcapi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// daemon is a fake Service served by the real handler on a real socket.
type daemon struct {
	svc    *apitest.Service
	socket string
	log    *syncBuffer
	client *api.Client
	stop   func() // cancels Serve and waits for it
}

// startDaemon serves svc on a Unix socket in a short temporary directory
// until the test ends.
func startDaemon(t *testing.T, svc *apitest.Service) *daemon {
	t.Helper()
	d := &daemon{svc: svc, socket: filepath.Join(shortDir(t), "daemon.sock"), log: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(d.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// Listen returns once the socket answers: no wait for it to appear.
	ln, err := api.Listen(d.socket)
	if err != nil {
		cancel()
		t.Fatalf("listen: %v", err)
	}
	go func() {
		done <- api.ServeListener(ctx, ln, api.NewHandler(svc, api.Parts{Library: svc, Rich: svc, Rooms: svc}, logger))
	}()
	var once sync.Once
	d.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Serve did not return after its context ended")
			}
		})
	}
	t.Cleanup(d.stop)
	d.client = api.NewClient(d.socket)
	t.Cleanup(d.client.Close)
	return d
}

// apiError asserts err is an *api.Error with the code.
func apiError(t *testing.T, err error, code string) *api.Error {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *api.Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("error code %q (%s), want %q", e.Code, e.Message, code)
	}
	return e
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
