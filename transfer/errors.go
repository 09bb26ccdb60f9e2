package transfer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors callers branch on, matched with errors.Is. The errors returned
// wrap them with what was being done and, for a peer's abort, its message.
var (
	// ErrRejected means the receiver declined the offer.
	ErrRejected = errors.New("transfer rejected")
	// ErrCancelled means a user cancelled the transfer, on either side.
	// The receiver removes its partial files. Cancel a Send by cancelling
	// its context with this error as the cause
	// (context.WithCancelCause).
	ErrCancelled = errors.New("transfer cancelled")
	// ErrInterrupted means one side stopped (shutdown, context done) and
	// expects to resume later: the verified prefix is kept.
	ErrInterrupted = errors.New("transfer interrupted")
	// ErrNoSpace means the receiver's disk has too little free space for
	// what the offer still needs; it was refused before any byte moved.
	ErrNoSpace = errors.New("not enough free disk space")
	// ErrDiskFull means the receiver's disk filled up during the
	// transfer. What was verified is kept for a later resume.
	ErrDiskFull = errors.New("disk full")
	// ErrCorrupt means a chunk did not match the hash sent with it; it was
	// not written, and the verified prefix before it is kept.
	ErrCorrupt = errors.New("chunk hash mismatch")
	// ErrMismatch means a whole file did not match its SHA-256; the
	// receiver discards that file's partial data.
	ErrMismatch = errors.New("file hash mismatch")
	// ErrSource means the sender could not read a file as offered (it
	// vanished, shrank or became unreadable).
	ErrSource = errors.New("source file changed or unreadable")
	// ErrInvalidOffer means an offer broke the rules (names, counts,
	// sizes, chunk size, id).
	ErrInvalidOffer = errors.New("invalid offer")
	// ErrUnsafePath means writing a received entry would have gone
	// through a symbolic link or outside the destination directory.
	ErrUnsafePath = errors.New("unsafe destination path")
	// ErrProtocol means the peer broke the transfer protocol.
	ErrProtocol = errors.New("transfer protocol violation")
	// ErrUnknownTransfer means a data stream named a transfer that is not
	// running on this receiver.
	ErrUnknownTransfer = errors.New("unknown transfer")
	// ErrLimit means the receiver refused an offer over one of its caps
	// on what one peer may ask (limits.go): too many offers in flight, or
	// too many offers or entries in the last hour. It is not final: the
	// same offer may be made again later.
	ErrLimit = errors.New("over the receiver's limit for this peer")
	// ErrVersion means the peers speak different versions of the
	// transfer protocol: the offer was refused before anything else of
	// it was read. It is final until one side is updated.
	ErrVersion = errors.New("transfer protocol versions differ")
	// ErrRemote means the peer aborted for a reason this package does
	// not know, or a failure of its own (code "internal").
	ErrRemote = errors.New("peer aborted the transfer")
)

// Abort codes carried in transfer.abort frames (see docs/protocol.md). This
// table is the one place that maps them to the sentinel errors.
var abortCodes = []struct {
	code string
	err  error
}{
	{"rejected", ErrRejected},
	{"cancelled", ErrCancelled},
	{"interrupted", ErrInterrupted},
	{"no_space", ErrNoSpace},
	{"disk_full", ErrDiskFull},
	{"corrupt", ErrCorrupt},
	{"mismatch", ErrMismatch},
	{"source", ErrSource},
	{"invalid", ErrInvalidOffer},
	{"unsafe_path", ErrUnsafePath},
	{"protocol", ErrProtocol},
	{"unknown_transfer", ErrUnknownTransfer},
	{"limit", ErrLimit},
	{"version", ErrVersion},
	{"internal", ErrRemote},
}

// codeOf returns the abort code that tells the peer about err.
func codeOf(err error) string {
	for _, c := range abortCodes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "internal"
}

// detailOf returns msg without the leading text of err's sentinel,
// which the abort's code already says: the peer puts it back.
func detailOf(err error, msg string) string {
	if ve, ok := errors.AsType[*versionError](err); ok {
		return ve.toPeer()
	}
	for _, c := range abortCodes {
		if errors.Is(err, c.err) {
			return strings.TrimPrefix(msg, c.err.Error()+": ")
		}
	}
	return msg
}

// errorOf turns a peer's abort into an error wrapping the matching
// sentinel. The peer's message is quoted and bounded: it is untrusted
// text that ends up in logs.
func errorOf(code, message string) error {
	if len(message) > maxAbortMessage {
		message = message[:maxAbortMessage]
	}
	for _, c := range abortCodes {
		if c.code == code {
			if message == "" {
				return &peerError{fmt.Errorf("%w (said the peer)", c.err)}
			}
			return &peerError{fmt.Errorf("%w: peer says %s", c.err, strconv.Quote(message))}
		}
	}
	return &peerError{fmt.Errorf("%w: code %s: %s", ErrRemote, strconv.Quote(code), strconv.Quote(message))}
}

// versionError is an offer, or an answer, in a protocol version other
// than Version.
type versionError struct{ peer int }

func (e *versionError) Error() string {
	return fmt.Sprintf("%v: peer speaks transfer protocol %d, this daemon speaks %d: update lanchat", ErrVersion, e.peer, Version)
}

func (e *versionError) Unwrap() error { return ErrVersion }

// toPeer says the same from the peer's side, for an abort: the peer
// puts the sentinel's text back.
func (e *versionError) toPeer() string {
	return fmt.Sprintf("this daemon speaks transfer protocol %d, yours %d: update lanchat", Version, e.peer)
}

// peerError is an abort the peer sent: the transfer has stopped on its
// side already, so nothing is sent back.
type peerError struct{ err error }

func (e *peerError) Error() string { return e.err.Error() }
func (e *peerError) Unwrap() error { return e.err }

// isPeerError reports whether err carries the peer's abort.
func isPeerError(err error) bool {
	_, ok := errors.AsType[*peerError](err)
	return ok
}

// maxAbortMessage bounds the human-readable part of an abort.
const maxAbortMessage = 256
