package transfer

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/lanchat/lanchat/transfer/transfertest"
)

// reset reports whether the peer reset s instead of answering: reading
// it gives neither a frame nor a clean end.
func reset(t *testing.T, s Stream) bool {
	t.Helper()
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.ReadAll(s)
	serr, ok := errors.AsType[*quic.StreamError](err)
	return ok && serr.Remote
}

// On a contact's connection the first frame of a transfer stream is
// small unless it is an offer: a large one of another op is refused
// once its first 4 KiB have come, without waiting for the rest.
func TestLargeFirstFrameMustBeOffer(t *testing.T) {
	p := newPair(t)
	r := newReceiver(t, t.TempDir(), transfertest.NewMemProgress(), nil)
	serveConn(t, r, p.ba)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := p.ab.OpenStream(ctx)
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
