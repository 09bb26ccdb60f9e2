package messaging

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

func TestRequests(t *testing.T) {
	text := `lanchat_rendezvous_requests_total{code="ok",op="relay.send"} 12
lanchat_rendezvous_requests_total{code="rate_limited",op="relay.send"} 3
lanchat_rendezvous_requests_total{code="ok",op="keys.get"} 1.5e+01
lanchat_rendezvous_requests_total_other{code="ok",op="x"} 99
lanchat_rendezvous_requests_total{code="ok"} 7
`
	got := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if m := reRequests.FindStringSubmatch(line); m != nil {
			got[m[1]]++
		}
	}
	if len(got) != 2 || got["relay.send"] != 2 || got["keys.get"] != 1 {
		t.Errorf("series matched: %v", got)
	}
	per := perMessage(map[string]float64{"relay.send": 5, "ping": 2}, map[string]float64{"relay.send": 15, "ping": 2, "keys.get": 10}, 5)
	if got := opsString(per); got != "keys.get 2.00, relay.send 2.00" {
		t.Errorf("opsString(perMessage) = %q", got)
	}
	if got := opsString(perMessage(nil, per, 0)); got != "none" {
		t.Errorf("no messages: %q", got)
	}
}

// TestArrivals feeds events to an arrivals record by hand: it keeps the
// first sighting of each message from the watched sender and nothing
// else, and wakes waiters.
func TestArrivals(t *testing.T) {
	a := &arrivals{from: "alice", cancel: func() {}, done: make(chan struct{}), got: map[string]arrival{}, changed: make(chan struct{})}
	close(a.done)
	msg := func(id, from, via string, outgoing bool) api.Event {
		return api.Event{Type: api.EventMessage, Message: &api.Message{ID: id, From: from, Outgoing: outgoing, Via: via}}
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		a.see(msg("m1", "carol", "x", false), nil)                                                         // another sender
		a.see(msg("m1", "alice", "x", true), nil)                                                          // our own copy
		a.see(api.Event{Type: api.EventMessageState, Message: &api.Message{ID: "m1", From: "alice"}}, nil) // not an arrival
		a.see(msg("m1", "alice", "direct", false), nil)
		a.see(msg("m1", "alice", "relay", false), nil) // a redelivery
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if got, err := a.wait(ctx, "m1"); err != nil || got.via != "direct" {
		t.Errorf("m1 = %+v, %v; want the first sighting", got, err)
	}
	short, scancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer scancel()
	if _, err := a.wait(short, "m2"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("missing message: %v", err)
	}
	a.see(api.Event{}, errors.New("stream ended"))
	if _, err := a.wait(ctx, "m9"); err == nil || !strings.Contains(err.Error(), "stream ended") {
		t.Errorf("wait after the stream failed = %v", err)
	}
}
