// Package wire is the framing and message vocabulary shared by the
// rendezvous server and the peer daemon. A frame is a 4-byte big-endian
// length followed by that many bytes of JSON; docs/protocol.md describes
// every frame and operation.
package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Version is the protocol version spoken in the hello exchange.
//
//	1: the first.
//	2: register and login prove the identity key; relayed messages are identified by (sender, id): relay.ack takes
//	   {from, id} pairs and may refuse envelopes; relay.dropped tells a
//	   sender what the relay dropped for good.
const Version = 2

// DefaultMaxFrame is the largest frame payload accepted unless configured
// otherwise.
const DefaultMaxFrame = 1 << 20

// MinMaxFrame is the smallest frame limit that can be configured; the
// protocol's fixed-size replies must fit.
const MinMaxFrame = 16 << 10

// headerSize is the size of the length prefix.
const headerSize = 4

// Frame kinds.
const (
	KindRequest  = "req"
	KindResponse = "res"
	KindEvent    = "event"
	KindError    = "error" // connection-level error; the sender closes next
)

// maxOpLen bounds the op name.
const maxOpLen = 64

// Errors returned by Reader.
var (
	ErrFrameTooLarge = errors.New("frame too large")
	ErrMalformed     = errors.New("malformed frame")
)

// Frame is one protocol message. Requests carry an ID that the matching
// response repeats; events and connection errors carry none.
type Frame struct {
	Kind  string          `json:"t"`
	ID    uint64          `json:"id,omitempty"`
	Op    string          `json:"op,omitempty"`
	Body  json.RawMessage `json:"body,omitempty"`
	Error *Error          `json:"error,omitempty"`
}

// firstStep is how much of a frame's payload is allocated before any of
// it has arrived. The buffer then doubles each time the bytes fill it,
// so a peer that declares a large frame and sends little of it costs
// little: memory grows with the data, never with the declared length.
const firstStep = 512

// Budget lends the memory a Reader holds for a frame. A peer's streams
// share one (peer/direct.Budget), so that what the peer makes us buffer
// across all of them stays bounded.
type Budget interface {
	// Take reserves n more bytes, or fails, reserving nothing, when
	// that would pass the budget's limit.
	Take(n int) error
	// Give returns n bytes taken before.
	Give(n int)
}

// Reader reads frames from a stream, refusing any larger than its limit.
// It reads exactly the frames' bytes from its own buffer; when r is a
// *bufio.Reader of at least 4 KiB that buffer is r itself, so the
// caller may go on reading r past a frame.
type Reader struct {
	r      *bufio.Reader
	max    int
	budget Budget
	held   int // taken from budget for the last frame

	// small and large: a frame over small bytes must be a large one
	// (SetLarge).
	small int
	large string
}

// NewReader returns a Reader over r that accepts frames of at most max
// bytes of payload.
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	return &Reader{r: bufio.NewReaderSize(r, 4096), max: max}
}

// NewReaderSize is NewReader with a read buffer of size bytes (at least
// 16). A stream that buffers itself (a TLS connection holds a decrypted
// record) needs little more: a small buffer keeps idle connections small.
func NewReaderSize(r io.Reader, max, size int) *Reader {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	return &Reader{r: bufio.NewReaderSize(r, size), max: max}
}

// SetMax changes the frame limit for the frames read from now on.
func (r *Reader) SetMax(max int) {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	r.max = max
}

// SetBudget makes the Reader take the memory of each frame from b as
// the frame arrives. A frame that would pass the budget fails with the
// error of b.Take. What a frame took stays taken until the next
// ReadFrame or Release, so the caller may keep the frame until then.
func (r *Reader) SetBudget(b Budget) { r.budget = b }

// SetLarge allows frames over small bytes only if they name op: such a
// frame's first small bytes must name it (its "op" before its "body",
// as AppendFrame writes them), or it is refused as malformed before the
// rest is read. small <= 0 lifts the rule.
func (r *Reader) SetLarge(small int, op string) {
	r.small, r.large = small, op
}

// Release gives back to the budget what the last frame took.
func (r *Reader) Release() {
	if r.held > 0 {
		r.budget.Give(r.held)
		r.held = 0
	}
}

// ReadFrame reads and decodes the next frame. It returns ErrFrameTooLarge
// or an error wrapping ErrMalformed for bad input, and io.EOF at a clean
// end of stream.
func (r *Reader) ReadFrame() (*Frame, error) {
	payload, err := r.ReadPayload()
	if err != nil {
		return nil, err
	}
	f, err := DecodeFrame(payload)
	if err == nil && r.small > 0 && len(payload) > r.small && f.Op != r.large {
		err = fmt.Errorf("%w: a frame of %d bytes must be %s", ErrMalformed, len(payload), r.large)
	}
	if err != nil {
		r.Release()
		return nil, err
	}
	return f, nil
}

// ReadPayload reads the next frame's payload without decoding it, under
// the same limits as ReadFrame; DecodeFrame decodes it. A server reads
// with it so that decoding runs elsewhere than its idle read loop, whose
// stack then stays small.
func (r *Reader) ReadPayload() ([]byte, error) {
	r.Release()
	var hdr [headerSize]byte
	if _, err := io.ReadFull(r.r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return nil, fmt.Errorf("%w: empty frame", ErrMalformed)
	}
	if uint64(n) > uint64(r.max) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, r.max)
	}
	payload, err := r.readPayload(int(n))
	if err != nil {
		r.Release()
		return nil, err
	}
	return payload, nil
}

// readPayload reads n bytes into a buffer that grows as they arrive,
// taking each growth from the budget first.
func (r *Reader) readPayload(n int) ([]byte, error) {
	var buf []byte
	have := 0
	for have < n {
		size := min(n, max(2*len(buf), firstStep))
		if r.budget != nil {
			if err := r.budget.Take(size - r.held); err != nil {
				return nil, fmt.Errorf("frame of %d bytes: %w", n, err)
			}
			r.held = size
		}
		grown := make([]byte, size)
		copy(grown, buf[:have])
		buf = grown
		m, err := io.ReadFull(r.r, buf[have:])
		have += m
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if r.small > 0 && n > r.small && have >= r.small && have-m < r.small {
			if op := opOf(buf[:have]); op != r.large {
				return nil, fmt.Errorf("%w: a frame of %d bytes must be %s", ErrMalformed, n, r.large)
			}
		}
	}
	return buf, nil
}

// opOf returns the op that the first bytes of a frame's payload name
// before its body, or "" if they name none.
func opOf(prefix []byte) string {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	for {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok || key == "body" {
			return ""
		}
		tok, err = dec.Token()
		if err != nil {
			return ""
		}
		if _, ok := tok.(json.Delim); ok {
			return ""
		}
		if key == "op" {
			op, _ := tok.(string)
			return op
		}
	}
}

// DecodeFrame parses one frame payload (without its length prefix) and
// checks its shape. The returned frame does not alias payload.
func DecodeFrame(payload []byte) (*Frame, error) {
	if !utf8.Valid(payload) {
		return nil, fmt.Errorf("%w: invalid UTF-8", ErrMalformed)
	}
	var f Frame
	if err := json.Unmarshal(payload, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(f.Op) > maxOpLen {
		return nil, fmt.Errorf("%w: op name too long", ErrMalformed)
	}
	switch f.Kind {
	case KindRequest:
		if f.Op == "" || f.ID == 0 {
			return nil, fmt.Errorf("%w: request needs op and id", ErrMalformed)
		}
	case KindResponse:
		if f.ID == 0 {
			return nil, fmt.Errorf("%w: response needs id", ErrMalformed)
		}
	case KindEvent:
		if f.Op == "" {
			return nil, fmt.Errorf("%w: event needs op", ErrMalformed)
		}
	case KindError:
		if f.Error == nil {
			return nil, fmt.Errorf("%w: error frame needs error", ErrMalformed)
		}
	default:
		return nil, fmt.Errorf("%w: unknown kind %q", ErrMalformed, f.Kind)
	}
	if len(f.Body) > 0 {
		// Keep the body independent of the reader's buffer.
		f.Body = append(json.RawMessage(nil), f.Body...)
	}
	return &f, nil
}

// AppendFrame appends the encoded frame, length prefix included, to buf.
func AppendFrame(buf []byte, f *Frame) ([]byte, error) {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0)
	body, err := json.Marshal(f)
	if err != nil {
		return buf[:start], fmt.Errorf("encode frame: %w", err)
	}
	buf = append(buf, body...)
	binary.BigEndian.PutUint32(buf[start:], uint32(len(body)))
	return buf, nil
}

// AppendMessage appends, length prefix included, the frame of kind with
// id, op and body (nil: none) encoded as JSON: what AppendFrame writes
// for the frame NewRequest, NewResponse or NewEvent makes, without
// checking and compacting the body a second time (relayed envelopes make
// bodies large: that second pass was a tenth of the server's time under
// relay load). Frames with an error go through AppendFrame.
func AppendMessage(buf []byte, kind string, id uint64, op string, body any) ([]byte, error) {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0)
	buf = append(buf, `{"t":`...)
	buf = appendString(buf, kind)
	if id != 0 {
		buf = append(buf, `,"id":`...)
		buf = strconv.AppendUint(buf, id, 10)
	}
	if op != "" {
		buf = append(buf, `,"op":`...)
		buf = appendString(buf, op)
	}
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return buf[:start], fmt.Errorf("encode frame: %w", err)
		}
		if len(raw) > 0 {
			buf = append(buf, `,"body":`...)
			buf = append(buf, raw...)
		}
	}
	buf = append(buf, '}')
	binary.BigEndian.PutUint32(buf[start:], uint32(len(buf)-start-headerSize))
	return buf, nil
}

// appendString appends s as a JSON string, escaped as json.Marshal does.
func appendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(buf, q...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// WriteFrame encodes f and writes it to w in one call.
func WriteFrame(w io.Writer, f *Frame) error {
	buf, err := AppendFrame(nil, f)
	if err != nil {
		return err
	}
	_, err = w.Write(buf)
	return err
}

// NewRequest builds a request frame with body encoded as JSON.
func NewRequest(id uint64, op string, body any) (*Frame, error) {
	raw, err := marshalBody(body)
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", op, err)
	}
	return &Frame{Kind: KindRequest, ID: id, Op: op, Body: raw}, nil
}

// NewResponse builds a successful response to request id.
func NewResponse(id uint64, body any) (*Frame, error) {
	raw, err := marshalBody(body)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return &Frame{Kind: KindResponse, ID: id, Body: raw}, nil
}

// NewEvent builds a server-pushed event frame.
func NewEvent(op string, body any) (*Frame, error) {
	raw, err := marshalBody(body)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", op, err)
	}
	return &Frame{Kind: KindEvent, Op: op, Body: raw}, nil
}

func marshalBody(body any) (json.RawMessage, error) {
	if body == nil {
		return nil, nil
	}
	return json.Marshal(body)
}

// DecodeBody decodes a frame body into v, rejecting unknown fields so that
// typos and version skew are caught early. An empty body decodes as {}.
func DecodeBody(body json.RawMessage, v any) error {
	if len(body) == 0 {
		body = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: body: %v", ErrMalformed, err)
	}
	// dec.More would miss a stray '}' or ']'; only the end of input will do.
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after body", ErrMalformed)
	}
	return nil
}
