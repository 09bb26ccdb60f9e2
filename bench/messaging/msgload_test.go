package messaging

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/peer/api"
)

func TestRoundRate(t *testing.T) {
	r := round{arrived: 300, elapsed: 2 * time.Second}
	if got := r.rate(); got != 150 {
		t.Errorf("rate = %v, want 150", got)
	}
	if got := (round{arrived: 5}).rate(); got != 0 {
		t.Errorf("rate with no elapsed time = %v, want 0", got)
	}
}

func TestMessageText(t *testing.T) {
	for _, size := range []int{16, 100, 4096} {
		s := messageText("latency-direct-1", 42, size)
		if !strings.HasPrefix(s, "msgload latency-direct-1 #42 ") {
			t.Errorf("messageText(…, %d) = %q: no label", size, s)
		}
		if size >= 40 && len(s) != size {
			t.Errorf("messageText(…, %d) is %d bytes", size, len(s))
		}
	}
}

func TestErrorCode(t *testing.T) {
	if got := errorCode(api.Errorf(api.CodeRateLimited, "slow down")); got != api.CodeRateLimited {
		t.Errorf("errorCode(api error) = %q", got)
	}
	if got := errorCode(errors.New("connection reset")); got != "transport" {
		t.Errorf("errorCode(other) = %q", got)
	}
}

func TestParseRequests(t *testing.T) {
	text := `# HELP lanchat_rendezvous_requests_total Requests by operation and result code.
# TYPE lanchat_rendezvous_requests_total counter
lanchat_rendezvous_requests_total{code="ok",op="relay.send"} 12
lanchat_rendezvous_requests_total{code="rate_limited",op="relay.send"} 3
lanchat_rendezvous_requests_total{code="ok",op="keys.get"} 1.5e+01
lanchat_rendezvous_requests_total_other{code="ok",op="x"} 99
lanchat_rendezvous_relay_queued_total 4
lanchat_rendezvous_requests_total{code="ok"} 7
`
	series, err := stats.ParseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	got := requestsByOp(series)
	want := map[string]float64{"relay.send": 15, "keys.get": 15}
	if len(got) != len(want) || got["relay.send"] != 15 || got["keys.get"] != 15 {
		t.Errorf("requestsByOp = %v, want %v", got, want)
	}
	per := perMessage(map[string]float64{"relay.send": 5, "ping": 2}, map[string]float64{"relay.send": 15, "ping": 2, "keys.get": 10}, 5)
	if len(per) != 2 || per["relay.send"] != 2 || per["keys.get"] != 2 {
		t.Errorf("perMessage = %v", per)
	}
	if got := opsString(per); got != "keys.get 2.00, relay.send 2.00" {
		t.Errorf("opsString = %q", got)
	}
	if got := len(perMessage(nil, want, 0)); got != 0 {
		t.Errorf("perMessage with no messages has %d entries", got)
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.rounds != 3 || c.n != 500 || c.concurrency != 4 || c.Bin != "bin" {
		t.Errorf("defaults: %+v", c)
	}
	for _, args := range [][]string{
		{"--rounds", "0"},
		{"--n", "-1"},
		{"--concurrency", "100"},
		{"--size", "100"},
		{"extra"},
	} {
		if _, err := parseConfig(args, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("parseConfig(%q) = %v, want a usage error", args, err)
		}
	}
}

// TestArrivals feeds events to an arrivals record by hand: it keeps the
// first sighting of each message from the watched sender and nothing
// else, and wakes waiters.
func TestArrivals(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	a := &arrivals{from: "alice", cancel: cancel, done: make(chan struct{}),
		got: make(map[string]arrival), changed: make(chan struct{})}
	close(a.done)
	defer a.close()

	t0 := time.Now()
	msg := func(id, from string, outgoing bool) api.Event {
		return api.Event{Type: api.EventMessage, Message: &api.Message{ID: id, From: from, Outgoing: outgoing, Via: "direct"}}
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		a.see(msg("m1", "carol", false), t0)                                                              // another sender
		a.see(msg("m1", "alice", true), t0)                                                               // our own copy
		a.see(api.Event{Type: api.EventMessageState, Message: &api.Message{ID: "m1", From: "alice"}}, t0) // not an arrival
		a.see(msg("m1", "alice", false), t0.Add(time.Second))
		a.see(msg("m1", "alice", false), t0.Add(2*time.Second)) // a redelivery
		a.see(msg("m2", "alice", false), t0.Add(3*time.Second))
	}()
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	got, err := a.wait(wctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.at.Equal(t0.Add(time.Second)) || got.via != "direct" {
		t.Errorf("m1 arrived %v via %q, want the first sighting", got.at.Sub(t0), got.via)
	}
	all, err := a.waitAll(wctx, []string{"m1", "m2"})
	if err != nil || len(all) != 2 {
		t.Fatalf("waitAll = %v, %v", all, err)
	}

	short, scancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer scancel()
	part, err := a.waitAll(short, []string{"m3", "m2"})
	if err != nil || len(part) != 1 {
		t.Errorf("waitAll with a missing id = %v, %v; want m2 only and no error", part, err)
	}

	a.fail(errors.New("stream ended"))
	if _, err := a.wait(wctx, "m9"); err == nil || !strings.Contains(err.Error(), "stream ended") {
		t.Errorf("wait after the stream failed = %v", err)
	}
}
