package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Limits on what the client accepts from an event stream. A message text
// is at most 64 KiB; JSON escaping can grow it up to six times.
const (
	maxEventLine = 1 << 20
	maxEventData = 1 << 20
)

// errLineTooLong is returned for an event-stream line over maxEventLine.
var errLineTooLong = errors.New("event stream line too long")

// EventStream is a subscription to the daemon's events, read with Next.
type EventStream struct {
	ctx  context.Context
	body io.ReadCloser
	rd   *sseReader
}

// Events subscribes to the daemon's event stream (GET /v1/events). It
// returns once the daemon has accepted the subscription, so no event
// published after it returns is missed. The stream ends when ctx ends or
// Close is called.
func (c *Client) Events(ctx context.Context) (*EventStream, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/v1/events", nil)
	if err != nil {
		return nil, fmt.Errorf("make request: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorReply))
		return nil, decodeErrorReply(resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		resp.Body.Close()
		return nil, fmt.Errorf("event stream: daemon replied with %q, not text/event-stream", ct)
	}
	return &EventStream{ctx: ctx, body: resp.Body, rd: newSSEReader(resp.Body)}, nil
}

// Next waits for the next event. It returns io.EOF when the daemon ended
// the stream (it stopped, or dropped this subscriber for falling behind),
// and ctx's error once the stream's context ends.
func (s *EventStream) Next() (Event, error) {
	ev, err := s.rd.nextEvent()
	if err != nil && s.ctx.Err() != nil {
		return Event{}, s.ctx.Err()
	}
	return ev, err
}

// Close ends the subscription.
func (s *EventStream) Close() error { return s.body.Close() }

// sseReader parses a server-sent-events stream: lines ending in "\n" (or
// "\r\n"), fields "event" and "data", comments starting with ":", an event
// dispatched at each blank line. Other fields ("id", "retry") are
// ignored. As the SSE spec says, the stream is UTF-8: a byte that is not
// part of valid UTF-8 in the event name reads as U+FFFD, as encoding/json
// reads one in the data, so every event it yields can be written again
// and read back unchanged.
type sseReader struct {
	r    *bufio.Reader
	line []byte
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// nextEvent reads the next event and decodes its data as an Event. An
// event with no type in its data takes the stream's event name.
func (p *sseReader) nextEvent() (Event, error) {
	name, data, err := p.next()
	if err != nil {
		return Event{}, err
	}
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return Event{}, fmt.Errorf("decode %q event: %w", name, err)
	}
	if ev.Type == "" {
		ev.Type = name
	}
	return ev, nil
}

// next returns the name and data of the next event that has data. It
// returns io.EOF at the end of the stream (a partial event at the end is
// dropped, as the SSE spec says).
func (p *sseReader) next() (name string, data []byte, err error) {
	hasData := false
	for {
		line, err := p.readLine()
		if err != nil {
			return "", nil, err
		}
		if len(line) == 0 {
			if hasData {
				return name, data, nil
			}
			name = ""
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value, _ = bytes.CutPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			name = validUTF8(value)
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			if len(data)+len(value) > maxEventData {
				return "", nil, fmt.Errorf("event data over %d bytes", maxEventData)
			}
			data = append(data, value...)
			hasData = true
		}
	}
}

// readLine returns the next line without its ending. The slice is valid
// until the next call.
func (p *sseReader) readLine() ([]byte, error) {
	p.line = p.line[:0]
	for {
		chunk, err := p.r.ReadSlice('\n')
		if len(p.line)+len(chunk) > maxEventLine {
			return nil, errLineTooLong
		}
		p.line = append(p.line, chunk...)
		switch {
		case err == nil:
			line := bytes.TrimSuffix(p.line[:len(p.line)-1], []byte("\r"))
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(p.line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// validUTF8 returns b as a string, each byte that is not part of valid
// UTF-8 replaced by U+FFFD (what encoding/json does in strings).
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string([]rune(string(b)))
}
