package direct

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/quic-go/quic-go"
)

// Conn is an authenticated connection to a friend's daemon: the peer has
// proved the identity key of User in the TLS handshake. Both sides may
// open streams on it.
type Conn struct {
	qc          *quic.Conn
	user        string
	key         ed25519.PublicKey
	budget      *Budget // the peer's, shared by its connections (set by track)
	kindTimeout time.Duration
	exchange    time.Duration // default bound for Exchange
	log         *slog.Logger
}

func newConn(qc *quic.Conn, user string, key ed25519.PublicKey, opts Options) *Conn {
	return &Conn{
		qc:          qc,
		user:        user,
		key:         key,
		kindTimeout: opts.StreamKindTimeout,
		exchange:    opts.ExchangeTimeout,
		log:         opts.Logger.With("user", user, "addr", qc.RemoteAddr().String()),
	}
}

// User returns the contact the peer belongs to: the user given to Dial,
// or the name the Authorizer returned for an accepted connection.
func (c *Conn) User() string { return c.user }

// Budget returns the memory budget of the peer, shared by every
// connection that proved its key: readers of the peer's streams take
// from it what they hold for the peer.
func (c *Conn) Budget() *Budget { return c.budget }

// PeerKey returns the identity key the peer proved.
func (c *Conn) PeerKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), c.key...)
}

// RemoteAddr returns the peer's current UDP address.
func (c *Conn) RemoteAddr() net.Addr { return c.qc.RemoteAddr() }

// LocalAddr returns our end's UDP address.
func (c *Conn) LocalAddr() net.Addr { return c.qc.LocalAddr() }

// Context is done when the connection is closed, by either side or by a
// timeout. context.Cause returns the reason.
func (c *Conn) Context() context.Context { return c.qc.Context() }

// Close closes the connection with CodeNoError. Streams still open fail.
func (c *Conn) Close() error {
	return c.CloseWithError(CodeNoError, "")
}

// CloseWithError closes the connection, telling the peer code and msg.
// msg is sent in clear text to the peer only; it should be short.
func (c *Conn) CloseWithError(code ErrorCode, msg string) error {
	return c.qc.CloseWithError(quic.ApplicationErrorCode(code), msg)
}

// OpenStream opens a stream of the given kind, waiting while the peer's
// limit on concurrent streams is reached.
func (c *Conn) OpenStream(ctx context.Context, kind StreamKind) (*Stream, error) {
	if !kind.known() {
		return nil, fmt.Errorf("open stream: %w: %v", ErrUnknownStreamKind, kind)
	}
	qs, err := c.qc.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("open %v stream to %s: %w", kind, c.user, connError(err))
	}
	// One byte always fits in the flow-control window: no wait.
	if _, err := qs.Write([]byte{byte(kind)}); err != nil {
		qs.CancelRead(quic.StreamErrorCode(StreamCodeCancelled))
		qs.CancelWrite(quic.StreamErrorCode(StreamCodeCancelled))
		return nil, fmt.Errorf("open %v stream to %s: %w", kind, c.user, streamError(err))
	}
	return &Stream{s: qs, kind: kind}, nil
}

// AcceptStream returns the next stream the peer opened, with its kind.
// Streams of unknown kinds, and streams whose kind byte does not arrive
// within Options.StreamKindTimeout, are reset and skipped; the connection
// stays up. A stalled stream delays the streams opened after it by that
// timeout at most.
func (c *Conn) AcceptStream(ctx context.Context) (StreamKind, *Stream, error) {
	for {
		qs, err := c.qc.AcceptStream(ctx)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				err = ctxErr
			}
			return 0, nil, fmt.Errorf("accept stream from %s: %w", c.user, connError(err))
		}
		s := &Stream{s: qs}
		kind, code, err := c.readKind(ctx, qs)
		if err == nil {
			s.kind = kind
			return kind, s, nil
		}
		s.abort(code)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return 0, nil, fmt.Errorf("accept stream from %s: %w", c.user, ctxErr)
		}
		if c.qc.Context().Err() != nil {
			return 0, nil, fmt.Errorf("accept stream from %s: %w", c.user, connError(context.Cause(c.qc.Context())))
		}
		c.log.Debug("reset incoming stream", "stream", int64(qs.StreamID()), "err", err)
	}
}

// readKind reads a new stream's kind byte within the kind timeout or
// until ctx is done. On failure it says which code to reset the stream
// with.
func (c *Conn) readKind(ctx context.Context, qs *quic.Stream) (StreamKind, StreamErrorCode, error) {
	deadline := time.Now().Add(c.kindTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := qs.SetReadDeadline(deadline); err != nil {
		return 0, StreamCodeCancelled, err
	}
	// Cancelling ctx moves the deadline to now, which wakes the read.
	stop := context.AfterFunc(ctx, func() { qs.SetReadDeadline(time.Now()) })
	var b [1]byte
	_, err := io.ReadFull(qs, b[:])
	if !stop() || err != nil {
		switch {
		case err == nil || ctx.Err() != nil:
			return 0, StreamCodeCancelled, errors.New("cancelled while reading stream kind")
		case errors.Is(err, io.EOF):
			return 0, StreamCodeUnknownKind, errors.New("stream ended before its kind")
		case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			return 0, StreamCodeTimeout, fmt.Errorf("no stream kind within %v", c.kindTimeout)
		default:
			return 0, StreamCodeCancelled, fmt.Errorf("read stream kind: %w", err)
		}
	}
	if err := qs.SetReadDeadline(time.Time{}); err != nil {
		return 0, StreamCodeCancelled, err
	}
	kind := StreamKind(b[0])
	if !kind.known() {
		return 0, StreamCodeUnknownKind, fmt.Errorf("%w: %v", ErrUnknownStreamKind, kind)
	}
	return kind, 0, nil
}

// isTimeout reports whether err is a deadline expiry.
func isTimeout(err error) bool {
	nerr, ok := errors.AsType[net.Error](err)
	return ok && nerr.Timeout()
}
