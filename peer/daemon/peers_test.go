package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/direct"
)

// peerTest is a daemon reduced to its direct peers, with no store and no
// server link, listening on loopback for alice, and alice's transport.
type peerTest struct {
	d      *Daemon
	bob    *direct.Transport
	bobKey ed25519.PublicKey
	alice  *direct.Transport
	events <-chan api.Event
}

func newPeerTest(t *testing.T) *peerTest {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := newBareDaemon(t, ctx)
	// Cleanups run last first: the transports close, then the daemon's
	// goroutines must all end.
	t.Cleanup(func() {
		cancel()
		done := make(chan struct{})
		go func() { d.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("the daemon's goroutines did not end")
		}
	})
	alicePub, aliceKey, _ := ed25519.GenerateKey(rand.Reader)
	bobPub, bobKey, _ := ed25519.GenerateKey(rand.Reader)
	onlyAlice := func(k ed25519.PublicKey) (string, bool) { return "alice", k.Equal(alicePub) }
	onlyBob := func(k ed25519.PublicKey) (string, bool) { return "bob", k.Equal(bobPub) }
	opts := direct.Options{HandshakeIdleTimeout: 2 * time.Second}
	bob, err := direct.Listen("127.0.0.1:0", bobKey, onlyAlice, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	alice, err := direct.Listen("127.0.0.1:0", aliceKey, onlyBob, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alice.Close() })
	pt := &peerTest{d: d, bob: bob, bobKey: bobPub, alice: alice, events: d.events.subscribe(ctx)}
	d.spawn(func() { d.peers.acceptLoop(ctx, bob) })
	return pt
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after 3s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func closed(c *direct.Conn) bool { return c.Context().Err() != nil }

// A dialler that tries several addresses at once may get two connections
// through and keep either; the one it keeps must survive on our side.
func TestParallelDialKeepsTheDiallersChoice(t *testing.T) {
	pt := newPeerTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	first, err := pt.alice.Dial(ctx, pt.bob.LocalAddr().String(), "bob", pt.bobKey)
	if err != nil {
		t.Fatal(err)
	}
	waitUp := func() {
		t.Helper()
		for {
			select {
			case ev := <-pt.events:
				if ev.Connection != nil && ev.Connection.Up {
					return
				}
			case <-time.After(3 * time.Second):
				t.Fatal("no up event for alice's connection")
			}
		}
	}
	waitUp()
	second, err := pt.alice.Dial(ctx, pt.bob.LocalAddr().String(), "bob", pt.bobKey)
	if err != nil {
		t.Fatal(err)
	}
	waitUp()
	// Alice keeps the first, as her dial does with the one that won.
	second.CloseWithError(0, "duplicate")
	time.Sleep(200 * time.Millisecond)
	if closed(first) {
		t.Fatalf("the connection alice kept was closed: %v", context.Cause(first.Context()))
	}
	if got := pt.d.peers.get("alice"); got == nil {
		t.Fatal("no connection to alice left")
	}
	// Closing one of two raised no "down" event; closing the last does.
	for {
		select {
		case ev := <-pt.events:
			if ev.Connection != nil && !ev.Connection.Up {
				t.Fatalf("alice reported down while a connection was open: %+v", ev)
			}
			continue
		default:
		}
		break
	}
	first.Close()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case ev := <-pt.events:
			if ev.Connection != nil && !ev.Connection.Up {
				return
			}
		case <-deadline:
			t.Fatal("no down event after alice's last connection closed")
		}
	}
}
