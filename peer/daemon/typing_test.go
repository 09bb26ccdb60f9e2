package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// typingEvents drains the typing events published so far. A signal is
// published before its answer, so once an exchange returned its event is
// in the channel.
func typingEvents(evs <-chan api.Event) []string {
	var from []string
	for {
		select {
		case ev := <-evs:
			if ev.Type == api.EventTyping {
				from = append(from, ev.From)
			}
		default:
			return from
		}
	}
}

// forget clears the limiter's tables.
func (t *typing) forget() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sent, t.taken, t.logged = nil, nil, nil
}

// TestTyping: a typing signal goes over the direct connection only, is
// rate-limited on both sides, comes from contacts only, and a group is
// refused.
func TestTyping(t *testing.T) {
	alice, bob := friends(t)
	ctx := context.Background()
	evs := bob.Subscribe(ctx)

	// No direct connection yet: accepted, nothing sent.
	if err := alice.Typing(ctx, api.TypingRequest{To: "bob"}); err != nil {
		t.Fatalf("typing with no connection: %v", err)
	}
	if got := typingEvents(evs); len(got) != 0 {
		t.Fatalf("bob saw typing %v with no direct connection", got)
	}
	// That call sent nothing, so it holds back nothing: the first call
	// once the connection is open is sent at once.

	if c := alice.peers.connect(ctx, "bob", false); c == nil {
		t.Fatal("no direct connection to bob")
	}
	if err := alice.Typing(ctx, api.TypingRequest{To: "bob"}); err != nil {
		t.Fatal(err)
	}
	if got := typingEvents(evs); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("bob's typing events %v, want one from alice", got)
	}
	// Within typingSendEvery: accepted, folded into the one sent.
	for range 5 {
		if err := alice.Typing(ctx, api.TypingRequest{To: "bob"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := typingEvents(evs); len(got) != 0 {
		t.Fatalf("calls within %v sent %d more signals", typingSendEvery, len(got))
	}

	// A flood that skips alice's own limit is dropped by bob.
	c := alice.peers.get("bob")
	bob.messages.typing.forget()
	for range 5 {
		if err := alice.messages.exchange(ctx, c, opTyping, map[string]bool{"active": true}); err != nil {
			t.Fatal(err)
		}
	}
	if got := typingEvents(evs); len(got) != 1 {
		t.Fatalf("a flood of 5 gave %d events, want 1", len(got))
	}
	// Malformed: refused.
	bob.messages.typing.forget()
	err := alice.messages.exchange(ctx, c, opTyping, map[string]any{"active": true, "extra": 1})
	if werr, ok := err.(*wire.Error); !ok || werr.Code != wire.CodeMalformed {
		t.Errorf("a malformed signal: %v, want malformed", err)
	}
	// No longer a contact: dropped.
	bob.roster.Load(history.Roster{})
	if err := alice.messages.exchange(ctx, c, opTyping, map[string]bool{"active": true}); err != nil {
		t.Fatal(err)
	}
	if got := typingEvents(evs); len(got) != 0 {
		t.Errorf("typing from a stranger shown: %v", got)
	}

	// Groups and strangers are refused on the sending side.
	alice.roster.Load(history.Roster{
		Friends: []history.RosterFriend{{Username: "bob"}},
		Groups:  []history.RosterGroup{{ID: teamID, Name: "team", Owner: "bob", Members: []string{"alice", "bob"}}},
	})
	if err := alice.Typing(ctx, api.TypingRequest{To: "#team"}); !isCode(err, api.CodeInvalid) {
		t.Errorf("typing to a group: %v, want invalid", err)
	}
	if err := alice.Typing(ctx, api.TypingRequest{To: "bad name!"}); !isCode(err, api.CodeInvalid) {
		t.Errorf("typing to a bad name: %v, want invalid", err)
	}
}

// The limiter lets one signal per key through per period, and keeps its
// table bounded.
func TestTypingLimiter(t *testing.T) {
	var ty typing
	now := time.Now()
	if !ty.allow(&ty.sent, "u:bob", now, time.Second) || ty.allow(&ty.sent, "u:bob", now.Add(500*time.Millisecond), time.Second) {
		t.Fatal("two signals within the period")
	}
	if !ty.allow(&ty.sent, "u:bob", now.Add(time.Second), time.Second) {
		t.Fatal("a signal after the period was held")
	}
	for i := range maxTypingPeers + 10 {
		ty.allow(&ty.sent, string(rune('a'+i%26))+time.Duration(i).String(), now, time.Second)
	}
	if len(ty.sent) > maxTypingPeers {
		t.Fatalf("table grew to %d", len(ty.sent))
	}
	if !ty.allow(&ty.sent, "u:new", now.Add(time.Hour), time.Second) {
		t.Error("a full table of old entries refused a new one")
	}
}
