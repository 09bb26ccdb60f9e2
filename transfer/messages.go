package transfer

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
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

// Frame size limits. An offer of MaxEntries long paths needs room; the
// frames on data streams are small.
const (
	maxControlFrame = 16 << 20
	maxDataHeader   = 4 << 10
)

// hashSize is the length of the SHA-256 that follows each chunk.
const hashSize = 32

// offerBody is the transfer.offer frame: the offer and, from version 2
// on, the newest protocol version the sender speaks (absent: 1).
type offerBody struct {
	*Offer
	Version int `json:"version,omitempty"`
}

// answerBody accepts an offer. Entries listed in Done are already
// complete at the receiver; entries in Resume start at Offset; all
// others start at 0. Version, from version 2 on, is the version the
// receiver answers in: the lower of the sender's and its own.
type answerBody struct {
	Version int           `json:"version,omitempty"`
	Resume  []resumePoint `json:"resume,omitempty"`
	Done    []int         `json:"done,omitempty"`
}

// resumePoint is where one partly received entry resumes. Held (version
// 2) has the SHA-256, in hex, of each whole chunk the receiver's
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
// chunks follow it on the data stream. From (version 3) is where this
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
	if len(msg) > maxAbortMessage {
		msg = msg[:maxAbortMessage]
	}
	return writeEvent(w, opAbort, abortBody{Code: codeOf(err), Message: msg})
}

// readFrame reads one frame from r, which also carries raw chunk bytes
// after it: unlike wire.Reader it reads exactly the frame and nothing
// past it.
func readFrame(r *bufio.Reader, max int) (*wire.Frame, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || uint64(n) > uint64(max) {
		return nil, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrProtocol, n, max)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	f, err := wire.DecodeFrame(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return f, nil
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
