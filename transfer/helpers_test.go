package transfer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/transfer/transfertest"
)

// testPeer is one test daemon: an identity and a direct.Transport on
// 127.0.0.1 that admits the keys in its friends map.
type testPeer struct {
	name string
	key  ed25519.PrivateKey
	tr   *direct.Transport

	mu      sync.Mutex
	friends map[string]string // string(key) → user
}

func newTestPeer(t testing.TB, name string) *testPeer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPeer{name: name, key: key, friends: map[string]string{}}
	tr, err := direct.Listen("127.0.0.1:0", key, p.authorize, direct.Options{HandshakeIdleTimeout: 3 * time.Second})
	if err != nil {
		t.Fatalf("listen %s: %v", name, err)
	}
	t.Cleanup(func() { tr.Close() })
	p.tr = tr
	return p
}

func (p *testPeer) pub() ed25519.PublicKey { return p.key.Public().(ed25519.PublicKey) }

func (p *testPeer) authorize(key ed25519.PublicKey) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	user, ok := p.friends[string(key)]
	return user, ok
}

// befriend makes a and b friends of each other.
func befriend(a, b *testPeer) {
	a.mu.Lock()
	a.friends[string(b.pub())] = b.name
	a.mu.Unlock()
	b.mu.Lock()
	b.friends[string(a.pub())] = a.name
	b.mu.Unlock()
}

// testConn is a direct connection as package transfer takes it, adapted
// the way peer/daemon adapts its connections; the embedded *direct.Conn
// gives the tests the rest of it.
type testConn struct{ *direct.Conn }

func (c testConn) OpenStream(ctx context.Context) (Stream, error) {
	s, err := c.Conn.OpenStream(ctx, direct.StreamTransfer)
	if err != nil {
		return nil, err
	}
	return testStream{s}, nil
}

func (c testConn) Budget() wire.Budget { return c.Conn.Budget() }

// testStream is a direct stream as package transfer takes it.
type testStream struct{ *direct.Stream }

func (s testStream) CancelRead()  { s.Stream.CancelRead(direct.StreamCodeCancelled) }
func (s testStream) CancelWrite() { s.Stream.CancelWrite(direct.StreamCodeCancelled) }

// The stores of package transfertest are Progress stores.
var (
	_ Progress = (*transfertest.MemProgress)(nil)
	_ Progress = (*transfertest.FileProgress)(nil)
)

// dial has from connect to to, returning both ends.
func dial(t testing.TB, from, to *testPeer) (dialled, accepted testConn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	acc := make(chan *direct.Conn, 1)
	errc := make(chan error, 1)
	go func() {
		c, err := to.tr.Accept(ctx)
		if err != nil {
			errc <- err
			return
		}
		acc <- c
	}()
	d, err := from.tr.Dial(ctx, to.tr.LocalAddr().String(), to.name, to.pub())
	if err != nil {
		t.Fatalf("%s dials %s: %v", from.name, to.name, err)
	}
	var a *direct.Conn
	select {
	case a = <-acc:
	case err := <-errc:
		t.Fatalf("%s accepts: %v", to.name, err)
	}
	t.Cleanup(func() { d.Close(); a.Close() })
	return testConn{d}, testConn{a}
}

// outcome is what one control-stream Serve returned.
type outcome struct {
	res *Result
	err error
}

// serveConn runs a daemon's accept loop on c: every transfer stream goes
// to r.Serve in a goroutine of its own, with c's context, as the daemon
// does; the outcomes of control streams arrive on the returned channel.
// The loop ends when c closes.
func serveConn(t testing.TB, r *Receiver, c testConn) <-chan outcome {
	t.Helper()
	out := make(chan outcome, 16)
	ctx, cancel := context.WithCancel(c.Context())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); c.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			kind, s, err := c.AcceptStream(ctx)
			if err != nil {
				return
			}
			if kind != direct.StreamTransfer {
				s.Close()
				continue
			}
			wg.Go(func() {
				res, err := r.Serve(ctx, c, testStream{s})
				if res != nil || (err != nil && !isDataStreamError(err)) {
					out <- outcome{res, err}
				}
			})
		}
	})
	return out
}

// isDataStreamError tells a data stream's error (reported through the
// control stream's outcome too) from a control stream's.
func isDataStreamError(err error) bool {
	return strings.HasPrefix(err.Error(), "data stream") || strings.HasPrefix(err.Error(), "transfer stream")
}

// newReceiver returns a Receiver that accepts everything into dir.
func newReceiver(t testing.TB, dir string, p Progress, mod func(*ReceiverConfig)) *Receiver {
	t.Helper()
	cfg := ReceiverConfig{
		Decide:   func(context.Context, *Request) Decision { return Decision{Accept: true, Dir: dir} },
		Progress: p,
		Logger:   testLogger(t),
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := NewReceiver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// pair is a sender and a receiver connected over real QUIC.
type pair struct {
	alice, bob *testPeer
	ab, ba     testConn
}

func newPair(t testing.TB) *pair {
	t.Helper()
	alice, bob := newTestPeer(t, "alice"), newTestPeer(t, "bob")
	befriend(alice, bob)
	ab, ba := dial(t, alice, bob)
	return &pair{alice: alice, bob: bob, ab: ab, ba: ba}
}

// redial replaces the pair's connection with a new one.
func (p *pair) redial(t testing.TB) {
	t.Helper()
	p.ab, p.ba = dial(t, p.alice, p.bob)
}

// randomFile writes n random bytes to path and returns them.
func randomFile(t testing.TB, path string, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// waitOutcome waits for the receiver's outcome of a transfer.
func waitOutcome(t testing.TB, out <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-out:
		return o
	case <-time.After(20 * time.Second):
		t.Fatal("no outcome from the receiver")
		return outcome{}
	}
}

// sameTree checks that dir got holds exactly the files and folders of
// dir want, byte for byte.
func sameTree(t testing.TB, want, got string) {
	t.Helper()
	list := func(root string) map[string]string {
		m := map[string]string{}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(root, p)
			switch {
			case d.Type()&fs.ModeSymlink != 0:
			case d.IsDir():
				m[rel] = "dir"
			default:
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				m[rel] = string(b)
			}
			return nil
		})
		return m
	}
	w, g := list(want), list(got)
	for k, v := range w {
		gv, ok := g[k]
		switch {
		case !ok:
			t.Errorf("%s missing", k)
		case gv != v:
			t.Errorf("%s differs (%d bytes, want %d)", k, len(gv), len(v))
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("unexpected %s", k)
		}
	}
}

// partials lists the partial files left under dir.
func partials(t testing.TB, dir string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, partialSuffix) {
			found = append(found, p)
		}
		return nil
	})
	return found
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustEqual(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d sent", what, len(got), len(want))
	}
}

func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}
