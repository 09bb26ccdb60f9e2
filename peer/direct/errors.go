package direct

import (
	"errors"
	"fmt"

	"github.com/quic-go/quic-go"
)

// Errors callers branch on. They are matched with errors.Is; the errors
// returned carry more context (addresses, fingerprints).
var (
	// ErrWrongKey means the peer at the dialled address proved a key other
	// than the one expected: a stale address, or someone else's daemon.
	ErrWrongKey = errors.New("peer has the wrong key")
	// ErrBadCertificate means the peer's certificate is not a lanchat
	// certificate: not exactly one self-signed Ed25519 certificate.
	ErrBadCertificate = errors.New("not a lanchat certificate")
	// ErrUnauthorized means the connection was refused because its key
	// belongs to no friend: by us (incoming) or by the peer (Dial).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrUnknownStreamKind means a stream was opened with a kind the
	// receiving side does not serve; only that stream is reset.
	ErrUnknownStreamKind = errors.New("unknown stream kind")
	// ErrVersion means the peer speaks another version of the peer
	// protocol (another ALPN): one of the two daemons must be updated.
	ErrVersion = errors.New("peer speaks another version of the peer protocol")
	// ErrProtocol means the peer broke the connection protocol, for example
	// by not sending its welcome after the handshake.
	ErrProtocol = errors.New("protocol violation")
)

// ErrorCode is an application error code sent to the peer when a
// connection is closed.
type ErrorCode uint64

// Connection error codes.
const (
	CodeNoError      ErrorCode = 0x0
	CodeShutdown     ErrorCode = 0x1 // our Transport is closing
	CodeUnauthorized ErrorCode = 0x2 // the peer's key belongs to no friend
	CodeProtocol     ErrorCode = 0x3 // the peer broke the protocol
)

// StreamErrorCode is an application error code sent to the peer when one
// direction of a stream is aborted.
type StreamErrorCode uint64

// Stream error codes.
const (
	StreamCodeNoError     StreamErrorCode = 0x0
	StreamCodeUnknownKind StreamErrorCode = 0x1 // kind byte missing or not served
	StreamCodeTimeout     StreamErrorCode = 0x2 // the peer was too slow
	StreamCodeCancelled   StreamErrorCode = 0x3 // the local side gave up
)

// TLS alerts crypto/tls sends, which QUIC carries as CRYPTO_ERROR
// 0x100+alert: when a VerifyConnection callback fails, and when the
// client offers no application protocol the server speaks.
const (
	alertBadCertificate        = 42
	alertNoApplicationProtocol = 120
)

// connError turns quic-go's connection errors into ours where a caller
// may want to branch on them, keeping the original in the chain. This is
// the one place where protocol codes map to sentinel errors.
func connError(err error) error {
	if err == nil {
		return nil
	}
	if aerr, ok := errors.AsType[*quic.ApplicationError](err); ok && aerr.Remote {
		switch ErrorCode(aerr.ErrorCode) {
		case CodeUnauthorized:
			return fmt.Errorf("%w: peer refused us: %w", ErrUnauthorized, err)
		case CodeProtocol:
			return fmt.Errorf("%w: peer says: %w", ErrProtocol, err)
		}
	}
	if terr, ok := errors.AsType[*quic.TransportError](err); ok && terr.Remote &&
		terr.ErrorCode == quic.TransportErrorCode(0x100+alertBadCertificate) {
		// Our certificate is always well formed, so a peer that rejects it
		// does not count us among its friends.
		return fmt.Errorf("%w: peer refused our certificate: %w", ErrUnauthorized, err)
	}
	if terr, ok := errors.AsType[*quic.TransportError](err); ok && terr.Remote &&
		terr.ErrorCode == quic.TransportErrorCode(0x100+alertNoApplicationProtocol) {
		return fmt.Errorf("%w (this daemon speaks %s): %w", ErrVersion, alpn, err)
	}
	return err
}

// streamError marks a peer's reset of a stream with an unknown kind.
// io.EOF and deadline errors pass through unchanged, as io.Reader and
// net.Conn callers expect.
func streamError(err error) error {
	if serr, ok := errors.AsType[*quic.StreamError](err); ok && serr.Remote &&
		StreamErrorCode(serr.ErrorCode) == StreamCodeUnknownKind {
		return fmt.Errorf("%w: %w", ErrUnknownStreamKind, err)
	}
	return connError(err)
}
