package direct

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/quic-go/quic-go"
)

// The welcome tells a dialling peer that we admitted it. In TLS 1.3 the
// client finishes its handshake before the server has checked the client's
// certificate, so without it Dial would return connections that the peer
// is about to refuse. The listening side sends it on the connection's only
// unidirectional stream once the connection is authorized; Dial returns
// after reading it.
const welcome = byte(1)

// sendWelcome admits a connection the listening side accepted. Writing one
// byte fits in any flow-control window, so it does not wait for the peer.
func sendWelcome(qc *quic.Conn, timeout time.Duration) error {
	s, err := qc.OpenUniStream()
	if err != nil {
		return fmt.Errorf("send welcome: %w", err)
	}
	if err := s.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("send welcome: %w", err)
	}
	if _, err := s.Write([]byte{welcome}); err != nil {
		return fmt.Errorf("send welcome: %w", err)
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("send welcome: %w", err)
	}
	return nil
}

// awaitWelcome waits at most timeout for the peer to admit a connection
// we dialled. A refusal arrives as the connection's close error.
func awaitWelcome(ctx context.Context, qc *quic.Conn, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	s, err := qc.AcceptUniStream(ctx)
	if err != nil {
		return fmt.Errorf("await welcome: %w", connError(err))
	}
	deadline, _ := ctx.Deadline()
	if err := s.SetReadDeadline(deadline); err != nil {
		return fmt.Errorf("await welcome: %w", err)
	}
	// Read one byte past the welcome: the stream must end right after it.
	var b [2]byte
	n, err := io.ReadFull(s, b[:])
	switch {
	case n == 1 && b[0] == welcome && err == io.ErrUnexpectedEOF:
		return nil
	case err != nil && err != io.EOF && err != io.ErrUnexpectedEOF:
		return fmt.Errorf("await welcome: %w", connError(err))
	default:
		s.CancelRead(quic.StreamErrorCode(StreamCodeNoError))
		return fmt.Errorf("await welcome: %w: malformed welcome", ErrProtocol)
	}
}
