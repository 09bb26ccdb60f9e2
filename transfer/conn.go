package transfer

import (
	"context"
	"crypto/ed25519"
	"io"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// Conn is an authenticated connection to one peer, as much of it as a
// transfer needs: the daemon adapts its QUIC connections (peer/direct)
// to it, and this package names nothing else of them. Both ends of a
// transfer run on one Conn: the sender opens every stream of it, and
// the receiver's daemon accepts them and hands each to Receiver.Serve
// with the Conn it came on.
type Conn interface {
	// OpenStream opens a new transfer stream to the peer.
	OpenStream(ctx context.Context) (Stream, error)
	// User names the contact the peer belongs to, and PeerKey is the
	// identity key it proved.
	User() string
	PeerKey() ed25519.PublicKey
	// Budget bounds what the peer's streams, on all its connections
	// together, make this side hold: frames as they arrive and the chunk
	// buffers of data streams are taken from it.
	Budget() wire.Budget
}

// Stream is one transfer stream, carrying bytes both ways. Close ends
// this side's writing; CancelRead and CancelWrite give up a direction
// at once (the peer's writes, or reads, of it fail).
type Stream interface {
	io.ReadWriteCloser
	SetDeadline(t time.Time) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	CancelRead()
	CancelWrite()
}
