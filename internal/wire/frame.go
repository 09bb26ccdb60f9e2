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
	"unicode/utf8"
)

// Version is the protocol version spoken in the hello exchange.
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

// Reader reads frames from a stream, refusing any larger than its limit.
type Reader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// NewReader returns a Reader over r that accepts frames of at most max
// bytes of payload.
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	return &Reader{r: bufio.NewReaderSize(r, 4096), max: max}
}

// ReadFrame reads and decodes the next frame. It returns ErrFrameTooLarge
// or an error wrapping ErrMalformed for bad input, and io.EOF at a clean
// end of stream.
func (r *Reader) ReadFrame() (*Frame, error) {
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
	// Reuse a small buffer; big frames get their own allocation so one
	// large request does not pin memory for the life of the connection.
	var payload []byte
	if n <= 4096 {
		if r.buf == nil {
			r.buf = make([]byte, 4096)
		}
		payload = r.buf[:n]
	} else {
		payload = make([]byte, n)
	}
	if _, err := io.ReadFull(r.r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return DecodeFrame(payload)
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
