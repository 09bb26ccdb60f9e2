package direct

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/quic-go/quic-go"
)

// StreamKind says what a stream carries. The opener writes it as the
// stream's first byte; the accepting side reads it before handing the
// stream out, and resets streams of kinds it does not serve.
type StreamKind uint8

// Stream kinds.
const (
	// StreamMessage carries one request frame and one reply frame (see
	// Exchange).
	StreamMessage StreamKind = 1
	// StreamTransfer carries a file transfer.
	StreamTransfer StreamKind = 2
)

// known reports whether this version of the protocol serves kind k.
func (k StreamKind) known() bool {
	return k == StreamMessage || k == StreamTransfer
}

// String names the kind for logs and errors.
func (k StreamKind) String() string {
	switch k {
	case StreamMessage:
		return "message"
	case StreamTransfer:
		return "transfer"
	default:
		return fmt.Sprintf("kind(%d)", uint8(k))
	}
}

// Stream is a bidirectional QUIC stream whose kind has been exchanged.
// Read and Write move the payload after the kind byte. Like a net.Conn,
// Close ends the stream in both directions and CloseWrite only the
// sending one. Errors from a peer's reset are *quic.StreamError values;
// a reset for an unknown kind also matches ErrUnknownStreamKind.
type Stream struct {
	s    *quic.Stream
	kind StreamKind
}

// Kind returns the stream's kind.
func (s *Stream) Kind() StreamKind { return s.kind }

// Read reads payload sent by the peer. It returns io.EOF once the peer
// has closed its sending direction and everything has been read.
func (s *Stream) Read(p []byte) (int, error) {
	n, err := s.s.Read(p)
	if err != nil {
		err = streamError(err)
	}
	return n, err
}

// Write sends payload to the peer. It blocks while flow control does not
// allow more, until the write deadline.
func (s *Stream) Write(p []byte) (int, error) {
	n, err := s.s.Write(p)
	if err != nil {
		err = streamError(err)
	}
	return n, err
}

// CloseWrite ends the sending direction cleanly: the peer reads io.EOF
// after the data already written, which is still delivered. Reading goes
// on.
func (s *Stream) CloseWrite() error {
	if err := s.s.Close(); err != nil {
		// The sending direction was reset: say why, as Write would.
		if cause := context.Cause(s.s.Context()); cause != nil && !errors.Is(cause, context.Canceled) {
			return streamError(cause)
		}
		return err
	}
	return nil
}

// Close ends the sending direction cleanly, like CloseWrite, and stops
// reading: data the peer sends from now on is discarded. A stream is
// released only when both directions are finished, so every stream must
// end with Close, or with CloseWrite after Read has returned io.EOF.
func (s *Stream) Close() error {
	err := s.s.Close()
	s.s.CancelRead(quic.StreamErrorCode(StreamCodeNoError))
	return err
}

// CancelRead aborts the receiving direction and asks the peer to stop
// sending, with code.
func (s *Stream) CancelRead(code StreamErrorCode) {
	s.s.CancelRead(quic.StreamErrorCode(code))
}

// CancelWrite aborts the sending direction with code; data not yet
// delivered may be lost.
func (s *Stream) CancelWrite(code StreamErrorCode) {
	s.s.CancelWrite(quic.StreamErrorCode(code))
}

// SetDeadline sets both the read and write deadlines.
func (s *Stream) SetDeadline(t time.Time) error { return s.s.SetDeadline(t) }

// SetReadDeadline sets the deadline for future and pending Read calls.
func (s *Stream) SetReadDeadline(t time.Time) error { return s.s.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline for future and pending Write calls.
func (s *Stream) SetWriteDeadline(t time.Time) error { return s.s.SetWriteDeadline(t) }

// Context is done when the sending direction is finished or aborted, or
// the connection closes.
func (s *Stream) Context() context.Context { return s.s.Context() }

// abort resets both directions with code.
func (s *Stream) abort(code StreamErrorCode) {
	s.CancelRead(code)
	s.CancelWrite(code)
}
