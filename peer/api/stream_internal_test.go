package api

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oneEventService is a Service that only streams: one event at once, then
// nothing until ctx ends.
type oneEventService struct{ Service }

func (oneEventService) Subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, 1)
	ch <- Event{Type: EventPresence, Presence: &PeerStatus{User: "bob"}}
	context.AfterFunc(ctx, func() { close(ch) })
	return ch
}

// TestStreamOutlivesReadTimeout checks that an event stream is not cut by
// the server's read timeout, and that it carries heartbeats.
func TestStreamOutlivesReadTimeout(t *testing.T) {
	oldBeat := heartbeat
	heartbeat = 50 * time.Millisecond
	t.Cleanup(func() { heartbeat = oldBeat })

	dir, err := os.MkdirTemp("", "lcapi")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "s")
	ln, err := listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := newServer(ctx, NewHandler(oneEventService{}, Parts{}, slog.New(slog.DiscardHandler)))
	srv.ReadTimeout = 100 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, srv) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	conn, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /v1/events HTTP/1.1\r\nHost: lanchat\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Closing the connection ends the stream; closing the body would
	// wait for its end.
	rd := newSSEReader(resp.Body)
	if ev, err := rd.nextEvent(); err != nil || ev.Type != EventPresence {
		t.Fatalf("first event: %+v, %v", ev, err)
	}
	// Count heartbeats for well past the read timeout.
	beats := 0
	until := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(until) {
		line, err := rd.readLine()
		if err != nil {
			t.Fatalf("stream cut after %d heartbeats: %v", beats, err)
		}
		if strings.HasPrefix(string(line), ": heartbeat") {
			beats++
		}
	}
	if beats < 3 {
		t.Errorf("%d heartbeats in 500ms at 50ms intervals", beats)
	}
}

func TestSSEReader(t *testing.T) {
	in := ": comment\n" +
		"event: presence\r\n" +
		"data: {\"type\":\"presence\",\"presence\":{\"user\":\"bob\",\"presence\":{\"status\":\"online\"}}}\n\n" +
		"\n\n" + // blank lines between events
		"id: 7\nretry: 100\nunknown: x\n" +
		"event: server\n" +
		"data:{\"connection\":\n" + // no space after the colon; data split over two lines
		"data: {\"up\":true}}\n\n" +
		"event: partial\ndata: {}\n" // no final blank line: dropped
	rd := newSSEReader(strings.NewReader(in))
	ev, err := rd.nextEvent()
	if err != nil || ev.Type != EventPresence || ev.Presence.User != "bob" {
		t.Fatalf("first: %+v, %v", ev, err)
	}
	ev, err = rd.nextEvent()
	if err != nil || ev.Type != EventServer || ev.Connection == nil || !ev.Connection.Up {
		t.Fatalf("second (type from the event name): %+v, %v", ev, err)
	}
	if _, err := rd.nextEvent(); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}

	long := "data: \"" + strings.Repeat("x", maxEventLine) + "\"\n\n"
	if _, err := newSSEReader(strings.NewReader(long)).nextEvent(); err != errLineTooLong {
		t.Errorf("over-long line: %v", err)
	}
	many := strings.Repeat("data: "+strings.Repeat("x", 1000)+"\n", maxEventData/1000+1) + "\n"
	if _, err := newSSEReader(strings.NewReader(many)).nextEvent(); err == nil {
		t.Error("over-long event data accepted")
	}
	if _, err := newSSEReader(strings.NewReader("data: {\"x\"")).nextEvent(); err != io.ErrUnexpectedEOF {
		t.Errorf("cut line: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestFormatEventRefusesBadNames(t *testing.T) {
	for _, name := range []string{"", "a\nb", "a\rb", "a\x00b", "\xeb", "ok\xff"} {
		if _, err := formatEvent(Event{Type: name}); err == nil {
			t.Errorf("event type %q accepted", name)
		}
	}
}

// TestSSEReaderInvalidUTF8 checks that an event name that is not UTF-8
// reads as U+FFFD, like a string in the data, and survives a round trip.
func TestSSEReaderInvalidUTF8(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"event:\xeb\ndata:{}\n\n", "\ufffd"},
		{"event: a\xff\xfeb\ndata: {}\n\n", "a\ufffd\ufffdb"},
		{"event: x\ndata: {\"type\":\"t\xeb\"}\n\n", "t\ufffd"},
		{"event: caf\xc3\xa9\ndata: {}\n\n", "caf\u00e9"},
	} {
		ev, err := newSSEReader(strings.NewReader(tc.in)).nextEvent()
		if err != nil || ev.Type != tc.want {
			t.Errorf("%q: type %q, %v; want %q", tc.in, ev.Type, err, tc.want)
			continue
		}
		chunk, err := formatEvent(ev)
		if err != nil {
			t.Errorf("%q: format: %v", tc.in, err)
			continue
		}
		again, err := newSSEReader(strings.NewReader(string(chunk))).nextEvent()
		if err != nil || again.Type != ev.Type {
			t.Errorf("%q: reread %q, %v", tc.in, again.Type, err)
		}
	}
}
