package daemon

import (
	"context"
	"crypto/ed25519"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/transfer"
)

// transferConn is a direct connection as package transfer takes it: its
// streams are transfer streams.
type transferConn struct{ c *direct.Conn }

var _ transfer.Conn = transferConn{}

func (t transferConn) OpenStream(ctx context.Context) (transfer.Stream, error) {
	s, err := t.c.OpenStream(ctx, direct.StreamTransfer)
	if err != nil {
		return nil, err
	}
	return transferStream{s}, nil
}

func (t transferConn) User() string               { return t.c.User() }
func (t transferConn) PeerKey() ed25519.PublicKey { return t.c.PeerKey() }
func (t transferConn) Budget() wire.Budget        { return t.c.Budget() }

// transferStream is a direct stream as package transfer takes it: a
// direction it gives up is reset as cancelled.
type transferStream struct{ *direct.Stream }

func (s transferStream) CancelRead()  { s.Stream.CancelRead(direct.StreamCodeCancelled) }
func (s transferStream) CancelWrite() { s.Stream.CancelWrite(direct.StreamCodeCancelled) }
