package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/home"
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
	d := &Daemon{log: slog.New(slog.DiscardHandler), events: newBroker(), ctx: ctx, me: wire.Profile{Username: "bob"}}
	d.peers = newPeerSet(d)
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

func (pt *peerTest) dialData(t *testing.T) *direct.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pt.alice.DialData(ctx, pt.bob.LocalAddr().String(), "bob", pt.bobKey)
	if err != nil {
		t.Fatalf("dial a data connection: %v", err)
	}
	return c
}

// dataIn counts the data connections alice has open to the daemon.
func (pt *peerTest) dataIn() int {
	pt.d.peers.mu.Lock()
	defer pt.d.peers.mu.Unlock()
	return len(pt.d.peers.dataIn["alice"])
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

func TestDataConnsServedApart(t *testing.T) {
	pt := newPeerTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// The contact's connection first: it raises a peer event.
	contact, err := pt.alice.Dial(ctx, pt.bob.LocalAddr().String(), "bob", pt.bobKey)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "alice's connection registered", func() bool { return pt.d.peers.get("alice") != nil })
	select {
	case ev := <-pt.events:
		if ev.Connection == nil || !ev.Connection.Up {
			t.Fatalf("first event %+v, want alice up", ev)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no event for alice's connection")
	}

	// Data connections up to the bound stay open beside it, and are not
	// the contact's connection; one more is closed, at once or as soon
	// as the dialler has read the welcome.
	var data []*direct.Conn
	for range maxDataConns {
		data = append(data, pt.dialData(t))
	}
	eventually(t, "the data connections served", func() bool { return pt.dataIn() == maxDataConns })
	extra, err := pt.alice.DialData(ctx, pt.bob.LocalAddr().String(), "bob", pt.bobKey)
	if err == nil {
		eventually(t, "the extra data connection closed", func() bool { return closed(extra) })
	}
	for i, c := range data {
		if closed(c) {
			t.Fatalf("data connection %d closed: %v", i, context.Cause(c.Context()))
		}
	}
	if n := pt.dataIn(); n != maxDataConns {
		t.Errorf("%d data connections served, want %d", n, maxDataConns)
	}
	if closed(contact) {
		t.Fatal("a data connection replaced the contact's connection")
	}
	if got := pt.d.peers.list(); len(got) != 1 || got[0] != "alice" {
		t.Errorf("connections %q, want alice's alone", got)
	}
	select {
	case ev := <-pt.events:
		t.Fatalf("a data connection raised %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}

	// A data connection carries transfer streams only: a message is
	// refused, and the connection stays up.
	req, _ := wire.NewRequest(1, opMessage, DirectMessage{})
	if _, err := direct.Exchange(ctx, data[0], direct.StreamMessage, req, maxDirectFrame); !errors.Is(err, direct.ErrUnknownStreamKind) {
		t.Errorf("message on a data connection = %v, want ErrUnknownStreamKind", err)
	}
	if closed(data[0]) {
		t.Error("refusing a stream closed the data connection")
	}

	// A closed one frees its place.
	data[0].Close()
	eventually(t, "the closed data connection forgotten", func() bool { return pt.dataIn() == maxDataConns-1 })
	again := pt.dialData(t)
	eventually(t, "a new data connection served", func() bool { return pt.dataIn() == maxDataConns })
	if closed(again) {
		t.Fatal("a data connection within the bound was closed")
	}

	// Closing the contact closes its data connections too.
	pt.d.peers.close("alice")
	for _, c := range append(data[1:maxDataConns], again, contact) {
		eventually(t, "connection closed with the contact", func() bool { return closed(c) })
	}
}

func TestReserveDataBounded(t *testing.T) {
	p := newPeerSet(nil)
	if got := p.reserveData("alice", 3); got != 3 {
		t.Fatalf("first reserve = %d, want 3", got)
	}
	if got := p.reserveData("alice", 3); got != maxDataConns-3 {
		t.Fatalf("second reserve = %d, want %d", got, maxDataConns-3)
	}
	if got := p.reserveData("carol", 2); got != 2 {
		t.Fatalf("another contact's reserve = %d, want 2", got)
	}
	if got := p.reserveData("alice", 1); got != 0 {
		t.Fatalf("reserve past the bound = %d, want 0", got)
	}
	p.releaseData("alice", maxDataConns)
	if got := p.reserveData("alice", 2); got != 2 {
		t.Fatalf("reserve after release = %d, want 2", got)
	}
}

func TestNewTransferConns(t *testing.T) {
	h, err := home.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		n, want int // want 0: an error
	}{{0, DefaultTransferConns}, {1, 1}, {MaxTransferConns, MaxTransferConns}, {-1, 0}, {MaxTransferConns + 1, 0}} {
		d, err := New(Config{Home: h, TransferConns: tt.n})
		switch {
		case tt.want == 0 && err == nil:
			t.Errorf("TransferConns %d accepted", tt.n)
		case tt.want != 0 && err != nil:
			t.Errorf("TransferConns %d: %v", tt.n, err)
		case tt.want != 0 && d.cfg.TransferConns != tt.want:
			t.Errorf("TransferConns %d became %d, want %d", tt.n, d.cfg.TransferConns, tt.want)
		}
	}
}

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
