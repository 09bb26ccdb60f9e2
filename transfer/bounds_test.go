package transfer

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/direct"
	"github.com/quic-go/quic-go"
)

// dialData has from open a data connection to to, returning both ends.
func dialData(t testing.TB, from, to *testPeer) (dialled, accepted *direct.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	acc := make(chan *direct.Conn, 1)
	go func() {
		if c, err := to.tr.Accept(ctx); err == nil {
			acc <- c
		}
		close(acc)
	}()
	dialled, err := from.tr.DialData(ctx, to.tr.LocalAddr().String(), to.name, to.pub())
	if err != nil {
		t.Fatalf("%s dials a data connection to %s: %v", from.name, to.name, err)
	}
	accepted = <-acc
	if accepted == nil || !accepted.IsData() {
		t.Fatalf("%s accepted %v, want a data connection", to.name, accepted)
	}
	t.Cleanup(func() { dialled.Close(); accepted.Close() })
	return dialled, accepted
}

// reset reports whether the peer reset s instead of answering: reading
// it gives neither a frame nor a clean end.
func reset(t *testing.T, s *direct.Stream) bool {
	t.Helper()
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.ReadAll(s)
	serr, ok := errors.AsType[*quic.StreamError](err)
	return ok && serr.Remote
}

// A data connection carries data streams only: an offer on it is
// refused without asking anyone, and so is a first frame larger than a
// data stream's.
func TestDataConnRefusesOffers(t *testing.T) {
	p := newPair(t)
	dab, dba := dialData(t, p.alice, p.bob)
	var asked atomic.Bool
	dst := t.TempDir()
	r := newReceiver(t, dst, NewMemProgress(), func(c *ReceiverConfig) {
		c.Decide = func(context.Context, *Request) Decision { asked.Store(true); return Decision{Accept: true, Dir: dst} }
	})
	serveConn(t, r, dba)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	o := &Offer{ID: NewID(), ChunkSize: ChunkSize, Entries: []Entry{{Path: "a.txt", Size: 1}}}
	s, err := dab.OpenStream(ctx, direct.StreamTransfer)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := writeEvent(s, opOffer, offerBody{Offer: o, Version: Version}); err != nil {
		t.Fatal(err)
	}
	if !reset(t, s) {
		t.Error("an offer on a data connection was not refused")
	}
	if asked.Load() {
		t.Error("Decide was asked about an offer on a data connection")
	}

	// A first frame over the data streams' limit is refused at its
	// header, before any of it is sent.
	s, err = dab.OpenStream(ctx, direct.StreamTransfer)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Write(binary.BigEndian.AppendUint32(nil, maxDataHeader+1))
	if !reset(t, s) {
		t.Error("a large first frame on a data connection was not refused")
	}
}

// On a contact's connection the first frame of a transfer stream is
// small unless it is an offer: a large one of another op is refused
// once its first 4 KiB have come, without waiting for the rest.
func TestLargeFirstFrameMustBeOffer(t *testing.T) {
	p := newPair(t)
	r := newReceiver(t, t.TempDir(), NewMemProgress(), nil)
	serveConn(t, r, p.ba)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := p.ab.OpenStream(ctx, direct.StreamTransfer)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	head := binary.BigEndian.AppendUint32(nil, 1<<20)
	head = append(head, `{"t":"event","op":"transfer.data","body":{"id":"`+strings.Repeat("a", 5000)...)
	s.Write(head)
	if !reset(t, s) {
		t.Error("a large first frame that is not an offer was not refused")
	}
}
