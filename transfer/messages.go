package transfer

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/lanchat/lanchat/internal/wire"
)

// Frame ops of the transfer protocol. Every control message, and the
// headers on data streams, is a wire event frame (4-byte length, JSON).
const (
	opOffer   = "transfer.offer"   // sender → receiver, first frame of the control stream
	opAnswer  = "transfer.answer"  // receiver → sender: accepted, resume from here
	opData    = "transfer.data"    // first frame of a data stream: which transfer
	opSegment = "transfer.segment" // data stream: a range of one entry follows
	opFile    = "transfer.file"    // sender → receiver: a file's whole SHA-256
	opDone    = "transfer.done"    // sender: all sent; receiver: all verified
	opAbort   = "transfer.abort"   // either way: stop, with a code
)

// Frame size limits. An offer of MaxEntries long paths needs room, and
// so may the answer to it; every other frame is small: the first frame
// of a stream is at most maxDataHeader unless it is an offer, and so are
// the sender's control frames after the offer and the frames on data
// streams.
const (
	maxControlFrame = 16 << 20
	maxDataHeader   = 4 << 10
)

// hashSize is the length of the SHA-256 that follows each chunk.
const hashSize = 32

// offerBody is the transfer.offer frame: the offer and the protocol
// version the sender speaks, which the receiver checks first.
type offerBody struct {
	*Offer
	Version int `json:"version,omitempty"`
}

// answerBody accepts an offer. Entries listed in Done are already
// complete at the receiver; entries in Resume start at Offset; all
// others start at 0. Version is the receiver's, the offer's.
type answerBody struct {
	Version int           `json:"version,omitempty"`
	Resume  []resumePoint `json:"resume,omitempty"`
	Done    []int         `json:"done,omitempty"`
}

// resumePoint is where one partly received entry resumes. Held has the
// SHA-256, in hex, of each whole chunk the receiver's
// partial file holds past Offset, unverified; the sender confirms the
// leading ones that match its file by starting the entry's segment
// after them.
type resumePoint struct {
	Entry  int      `json:"entry"`
	Offset int64    `json:"offset"`
	Held   []string `json:"held,omitempty"`
}

// dataBody opens a data stream.
type dataBody struct {
	ID string `json:"id"`
}

// segmentBody announces the bytes [Offset, End) of entry Entry; the
// chunks follow it on the data stream. From is where this
// attempt's data of the entry starts, the same in each of its segments:
// the receiver's verified prefix plus the held chunks the sender kept.
type segmentBody struct {
	Entry  int   `json:"entry"`
	Offset int64 `json:"offset"`
	End    int64 `json:"end"`
	From   int64 `json:"from,omitempty"`
}

// fileBody carries a file's whole SHA-256, in hex.
type fileBody struct {
	Entry  int    `json:"entry"`
	SHA256 string `json:"sha256"`
}

// abortBody stops a transfer; Code is one of abortCodes.
type abortBody struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// writeEvent writes one event frame with body encoded as JSON.
func writeEvent(w io.Writer, op string, body any) error {
	if body == nil {
		body = struct{}{}
	}
	f, err := wire.NewEvent(op, body)
	if err != nil {
		return err
	}
	if err := wire.WriteFrame(w, f); err != nil {
		return fmt.Errorf("send %s: %w", op, err)
	}
	return nil
}

// writeAbort tells the peer why the transfer stops.
func writeAbort(w io.Writer, err error) error {
	msg := err.Error()
	if ve, ok := errors.AsType[*versionError](err); ok {
		msg = ve.toPeer()
	}
	if len(msg) > maxAbortMessage {
		msg = msg[:maxAbortMessage]
	}
	return writeEvent(w, opAbort, abortBody{Code: codeOf(err), Message: msg})
}

// frameReader returns the reader of the frames on a stream whose
// buffered reader br also carries raw chunk bytes after them: since br
// holds at least 4 KiB, the wire.Reader reads through br itself, exactly
// the frames' bytes and nothing past them. Each frame grows as its bytes
// arrive, up to max, taken from the peer's budget b.
func frameReader(br *bufio.Reader, max int, b wire.Budget) *wire.Reader {
	rd := wire.NewReader(br, max)
	rd.SetBudget(b)
	return rd
}

// readFrame reads the next frame from rd; what it holds stays taken from
// the budget until the next readFrame or rd.Release. A frame that breaks
// the limits is a protocol error.
func readFrame(rd *wire.Reader) (*wire.Frame, error) {
	f, err := rd.ReadFrame()
	if errors.Is(err, wire.ErrFrameTooLarge) || errors.Is(err, wire.ErrMalformed) {
		err = fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return f, err
}

// decodeEvent checks that f is the event op and decodes its body into v.
// An abort frame turns into the error it carries.
func decodeEvent(f *wire.Frame, op string, v any) error {
	if f.Kind == wire.KindEvent && f.Op == opAbort && op != opAbort {
		var a abortBody
		if err := wire.DecodeBody(f.Body, &a); err != nil {
			return fmt.Errorf("%w: abort: %w", ErrProtocol, err)
		}
		return errorOf(a.Code, a.Message)
	}
	if f.Kind != wire.KindEvent || f.Op != op {
		return fmt.Errorf("%w: got %s %q, want %s", ErrProtocol, f.Kind, f.Op, op)
	}
	if v == nil {
		v = &struct{}{}
	}
	if err := wire.DecodeBody(json.RawMessage(f.Body), v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrProtocol, op, err)
	}
	return nil
}
