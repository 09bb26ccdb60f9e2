package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/transfer"
	"github.com/lanchat/lanchat/transfer/transfertest"
)

// contactHeap is what one contact's streams may grow the daemon's heap
// by, whatever they declare.
const contactHeap = 32 << 20

// extraConns is how many connections beside its first a contact opens
// in TestContactDeclaringLargeFrames.
const extraConns = 4

// heapInUse returns the heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// boundsTest is a daemon reduced to its direct peers and its file
// receiver, with no store and no server link, that admits alice and
// carol; and their transports.
type boundsTest struct {
	d            *Daemon
	bob          *direct.Transport
	bobKey       ed25519.PublicKey
	alice, carol *direct.Transport
}

func newBoundsTest(t *testing.T, budget int) *boundsTest {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := newBareDaemon(t, ctx)
	r, err := transfer.NewReceiver(transfer.ReceiverConfig{
		Decide: func(context.Context, *transfer.Request) transfer.Decision {
			return transfer.Decision{Reason: "not now"}
		},
		Progress: transfertest.NewMemProgress(),
	})
	if err != nil {
		t.Fatal(err)
	}
	d.transfers.receiver = r
	t.Cleanup(func() {
		cancel()
		r.Close()
		done := make(chan struct{})
		go func() { d.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the daemon's goroutines did not end")
		}
	})
	alicePub, aliceKey, _ := ed25519.GenerateKey(rand.Reader)
	carolPub, carolKey, _ := ed25519.GenerateKey(rand.Reader)
	bobPub, bobKey, _ := ed25519.GenerateKey(rand.Reader)
	contacts := func(k ed25519.PublicKey) (string, bool) {
		switch {
		case k.Equal(alicePub):
			return "alice", true
		case k.Equal(carolPub):
			return "carol", true
		}
		return "", false
	}
	onlyBob := func(k ed25519.PublicKey) (string, bool) { return "bob", k.Equal(bobPub) }
	opts := direct.Options{HandshakeIdleTimeout: 2 * time.Second, StreamKindTimeout: time.Minute}
	bt := &boundsTest{d: d, bobKey: bobPub}
	bobOpts := opts
	bobOpts.PeerBudget = budget
	if bt.bob, err = direct.Listen("127.0.0.1:0", bobKey, contacts, bobOpts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bt.bob.Close() })
	if bt.alice, err = direct.Listen("127.0.0.1:0", aliceKey, onlyBob, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bt.alice.Close() })
	if bt.carol, err = direct.Listen("127.0.0.1:0", carolKey, onlyBob, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bt.carol.Close() })
	d.spawn(func() { d.peers.acceptLoop(ctx, bt.bob) })
	return bt
}

// open opens n streams of kind on c, writes head on each and leaves
// them open.
func openStreams(t *testing.T, c *direct.Conn, kind direct.StreamKind, n int, head []byte) []*direct.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*direct.Stream
	for range n {
		s, err := c.OpenStream(ctx, kind)
		if err != nil {
			t.Fatalf("open a %v stream: %v", kind, err)
		}
		if _, err := s.Write(head); err != nil {
			t.Fatalf("write on a %v stream: %v", kind, err)
		}
		out = append(out, s)
	}
	return out
}

// grownBy waits a moment for the daemon to read what was sent and
// returns the largest growth of the heap it sees.
func grownBy(before uint64) uint64 {
	var grown uint64
	for range 5 {
		time.Sleep(100 * time.Millisecond)
		if h := heapInUse(); h > before {
			grown = max(grown, h-before)
		}
	}
	return grown
}

// A contact that opens every stream it may, on its connection and on
// more connections beside it (its budget is per key, not per
// connection), each declaring the largest frame there is, grows the
// daemon's heap by less than 32 MiB, and the daemon goes on serving
// another contact.
func TestContactDeclaringLargeFrames(t *testing.T) {
	bt := newBoundsTest(t, 0)
	before := heapInUse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	addr := bt.bob.LocalAddr().String()

	contact, err := bt.alice.Dial(ctx, addr, "bob", bt.bobKey)
	if err != nil {
		t.Fatal(err)
	}
	conns := []*direct.Conn{contact}
	for range extraConns {
		c, err := bt.alice.Dial(ctx, addr, "bob", bt.bobKey)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	header := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	half := int(direct.DefaultMaxIncomingStreams / 2)
	check := func(what string) {
		t.Helper()
		grown := grownBy(before)
		t.Logf("after %s: the heap grew by %.1f MiB", what, float64(grown)/(1<<20))
		if grown >= contactHeap {
			t.Fatalf("after %s the heap grew by %d MiB, want under %d MiB", what, grown>>20, contactHeap>>20)
		}
	}
	openStreams(t, contact, direct.StreamMessage, half, header(maxDirectFrame))
	openStreams(t, contact, direct.StreamTransfer, half, header(16<<20))
	check("the contact's connection")
	for _, c := range conns[1:] {
		openStreams(t, c, direct.StreamTransfer, 2*half, header(16<<20))
	}
	check("its other connections")

	// Another contact is served: its offer is answered.
	cc, err := bt.carol.Dial(ctx, addr, "bob", bt.bobKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "a.txt")
	if err := os.WriteFile(file, []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := transfer.NewOffer(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := transfer.Send(ctx, transferConn{cc}, o, transfer.SendOptions{}); !errors.Is(err, transfer.ErrRejected) {
		t.Errorf("carol's offer beside alice's streams: %v, want rejected", err)
	}
}

// A contact that sends what its frames declare, on every stream it may
// open, is held to its budget: the daemon's heap grows by less than the
// budget and what QUIC buffers beside it, the streams past the budget
// are refused, and once they are gone the budget is whole again.
func TestContactSendingLargeFrames(t *testing.T) {
	const budget = 8 << 20
	bt := newBoundsTest(t, budget)
	before := heapInUse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	contact, err := bt.alice.Dial(ctx, bt.bob.LocalAddr().String(), "bob", bt.bobKey)
	if err != nil {
		t.Fatal(err)
	}
	half := int(direct.DefaultMaxIncomingStreams / 2)
	const sent = 400 << 10 // of each frame
	msg := binary.BigEndian.AppendUint32(nil, maxDirectFrame)
	msg = append(msg, `{"t":"req","id":1,"op":"message","body":{"body":"`...)
	msg = append(msg, make([]byte, sent)...)
	offer := binary.BigEndian.AppendUint32(nil, 16<<20)
	offer = append(offer, `{"t":"event","op":"transfer.offer","body":{"entries":[`...)
	offer = append(offer, make([]byte, sent)...)

	var wg sync.WaitGroup
	var refused atomic.Int32
	send := func(kind direct.StreamKind, head []byte) {
		for _, s := range openStreams(t, contact, kind, half, nil) {
			wg.Go(func() {
				s.SetWriteDeadline(time.Now().Add(20 * time.Second))
				if _, err := s.Write(head); err != nil {
					refused.Add(1)
				}
			})
		}
	}
	send(direct.StreamMessage, msg)
	send(direct.StreamTransfer, offer)
	wg.Wait()
	grown := grownBy(before)
	t.Logf("%d streams sending %d KiB each: the heap grew by %.1f MiB; %d refused",
		2*half, sent>>10, float64(grown)/(1<<20), refused.Load())
	// Beside the budget: the streams' state and buffers, and what QUIC
	// has received but nobody read yet.
	if limit := uint64(budget + 16<<20); grown >= limit {
		t.Errorf("the heap grew by %d MiB, want under %d MiB", grown>>20, limit>>20)
	}
	if refused.Load() == 0 {
		t.Error("no stream was refused")
	}
	in := bt.d.peers.get("alice")
	if in == nil {
		t.Fatal("alice's connection is gone")
	}
	if used := in.Budget().Used(); used > budget {
		t.Errorf("alice holds %d bytes of a budget of %d", used, budget)
	}
	contact.Close()
	eventually(t, "alice's budget given back", func() bool { return in.Budget().Used() == 0 })
}
