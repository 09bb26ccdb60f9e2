package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"
)

// heartbeat is how often an event stream gets a comment line, so both
// sides notice a dead connection (a variable for tests).
var heartbeat = 15 * time.Second

// eventWriteTimeout bounds each write to a stream: a client that stops
// reading is cut off instead of holding its subscription.
const eventWriteTimeout = 10 * time.Second

// events serves GET /v1/events: server-sent events, one per Event, until
// the client leaves, the request context ends (the daemon stops) or the
// Service closes the subscription.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rc := http.NewResponseController(w)

	ch := h.svc.Subscribe(ctx)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	// write sends one chunk and flushes it; false means the client is gone.
	write := func(chunk []byte) bool {
		rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
		if _, err := w.Write(chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte(": lanchat events\n\n")) {
		return
	}

	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if !write([]byte(": heartbeat\n\n")) {
				return
			}
		case ev, ok := <-ch:
			if !ok {
				h.log.Debug("event subscription closed by the daemon")
				return
			}
			chunk, err := formatEvent(ev)
			if err != nil {
				h.log.Error("encode event", "type", ev.Type, "err", err)
				continue
			}
			if !write(chunk) {
				return
			}
		}
	}
}

// formatEvent renders ev as one server-sent event. JSON never holds a raw
// newline, so the data fits on one line.
func formatEvent(ev Event) ([]byte, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	name := ev.Type
	if !validEventName(name) {
		return nil, fmt.Errorf("event type %q cannot be an SSE event name", name)
	}
	out := make([]byte, 0, len(name)+len(data)+16)
	out = append(out, "event: "...)
	out = append(out, name...)
	out = append(out, "\ndata: "...)
	out = append(out, data...)
	out = append(out, "\n\n"...)
	return out, nil
}

// validEventName reports whether name can follow "event: " without
// breaking the stream's framing, and reads back as the same string (the
// stream is UTF-8, and the name is repeated as JSON in the data).
func validEventName(name string) bool {
	if name == "" || !utf8.ValidString(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '\n' || c == '\r' || c == 0 {
			return false
		}
	}
	return true
}
