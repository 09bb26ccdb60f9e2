package direct

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// A peer may answer before it has read the whole request (a refusal, a
// request too large for it) and close the stream, which stops our
// sending. The answer is still there to read: Exchange returns it
// instead of failing on the write the peer stopped.
func TestExchangeEarlyAnswer(t *testing.T) {
	ca, cb := newContacts(), newContacts()
	opts := testOptions()
	opts.InitialStreamReceiveWindow = 32 << 10 // the request outgrows it
	alice := newPeer(t, "alice", ca)
	bob := newPeerAt(t, "bob", "127.0.0.1:0", cb, opts)
	ca.add("bob", bob.pub())
	cb.add("alice", alice.pub())
	ab, ba := dialAccept(t, alice, bob)

	go func() {
		_, s, err := ba.AcceptStream(context.Background())
		if err != nil {
			return
		}
		reply, _ := wire.NewResponse(1, map[string]string{"error": "too large"})
		wire.WriteFrame(s, reply)
		s.Close()
	}()

	req, err := wire.NewRequest(1, "big", map[string]string{"pad": strings.Repeat("x", 512<<10)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply, err := Exchange(ctx, ab, StreamMessage, req, 1024)
	if err != nil {
		t.Fatalf("Exchange: %v, want the peer's early answer", err)
	}
	if string(reply.Body) != `{"error":"too large"}` {
		t.Fatalf("reply %s", reply.Body)
	}
}

// Once the peer has stopped our sending, closing it says so, as a
// write would, so that Exchange goes on to read the answer.
func TestCloseWriteAfterPeerStopped(t *testing.T) {
	_, _, ab, ba := connected(t)
	go func() {
		_, s, err := ba.AcceptStream(context.Background())
		if err == nil {
			s.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := ab.OpenStream(ctx, StreamMessage)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case <-s.Context().Done():
	case <-ctx.Done():
		t.Fatal("the peer's stop never arrived")
	}
	if err := s.CloseWrite(); !stoppedByPeer(err) {
		t.Fatalf("CloseWrite after the peer stopped: %v, want the peer's stop", err)
	}
}
