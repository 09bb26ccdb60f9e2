package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// This file tests typing signals and files in the timeline with real
// daemons.

// apiOf is a client of u's daemon.
func (u *user) apiOf() *api.Client { return api.NewClient(filepath.Join(u.home, "daemon.sock")) }

// eventsOf streams u's daemon events into a channel until the test ends.
func eventsOf(t *testing.T, u *user) <-chan api.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := u.apiOf().Events(ctx)
	if err != nil {
		t.Fatalf("%s: events: %v", u.name, err)
	}
	ch := make(chan api.Event, 256)
	go func() {
		defer close(ch)
		defer st.Close()
		for {
			ev, err := st.Next()
			if err != nil {
				return
			}
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// waitEventOf waits for an event that matches and returns the events
// before it.
func waitEventOf(t *testing.T, evs <-chan api.Event, what string, match func(api.Event) bool) []api.Event {
	t.Helper()
	var before []api.Event
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-evs:
			if !ok {
				t.Fatalf("the event stream ended before %s", what)
			}
			if match(ev) {
				return before
			}
			before = append(before, ev)
		case <-deadline:
			t.Fatalf("no event: %s", what)
		}
	}
}

// waitDirect waits until u has a direct connection to other.
func waitDirect(t *testing.T, u *user, other string) {
	t.Helper()
	eventually(t, 30*time.Second, func() (bool, string) {
		st, err := u.apiOf().Status(context.Background())
		return err == nil && slices.Contains(st.Peers, other), u.name + " has no direct connection to " + other
	})
}

func isTyping(from string) func(api.Event) bool {
	return func(ev api.Event) bool { return ev.Type == api.EventTyping && ev.From == from }
}

// TestTypingDirectOnly: typing in the terminal chat reaches the other
// side's event stream and its chat's status line over a direct
// connection; to a contact the relay alone reaches (its daemon listens
// on IPv6 loopback, the sender on IPv4: no direct path), nothing goes.
func TestTypingDirectOnly(t *testing.T) {
	srv := startServer(t)
	alice, bob, carol := newUser(t, srv, "alice"), newUser(t, srv, "bob"), newUser(t, srv, "carol")
	carol.listen = "[::1]:0"
	for _, u := range []*user{alice, bob, carol} {
		u.start(t)
		u.register(t)
	}
	befriendUsers(t, alice, bob)
	befriendUsers(t, alice, carol)
	alice.must(t, "send", "bob", "hello bob")
	waitDirect(t, alice, "bob")

	bobEvents := eventsOf(t, bob)
	bobChat := startTmux(t, 100, 30, bin("lanchat")+" --home "+bob.home+" chat alice")
	bobChat.waitText("hello bob")
	aliceChat := startTmux(t, 100, 30, bin("lanchat")+" --home "+alice.home+" chat bob")
	aliceChat.waitText("you: hello bob")
	aliceChat.keys("I am wri")
	waitEventOf(t, bobEvents, "typing from alice", isTyping("alice"))
	bobChat.waitText("alice is typing…")
	// It goes away a few seconds after the last signal.
	bobChat.waitScreen("the typing note gone", func(s string) bool { return !strings.Contains(s, "alice is typing") })
	aliceChat.keys("ting")
	aliceChat.key("Enter")
	bob.waitMessage(t, "alice", "I am writing", 20*time.Second)

	// The relay alone connects alice and carol.
	out := alice.must(t, "send", "carol", "via the relay")
	if !strings.Contains(out, "(relayed)") {
		t.Fatalf("send to carol: %q; want relayed (no direct path)", out)
	}
	carolEvents := eventsOf(t, carol)
	if err := alice.apiOf().Typing(context.Background(), api.TypingRequest{To: "carol"}); err != nil {
		t.Fatalf("typing to carol: %v", err)
	}
	alice.must(t, "send", "carol", "after typing")
	before := waitEventOf(t, carolEvents, "the message after typing", func(ev api.Event) bool {
		return ev.Type == api.EventMessage && ev.Message != nil && ev.Message.Text == "after typing"
	})
	for _, ev := range before {
		if ev.Type == api.EventTyping {
			t.Fatalf("carol saw typing from %s with only the relay between them", ev.From)
		}
	}

	// A group is refused with a clear error.
	alice.must(t, "group", "create", "team")
	err := alice.apiOf().Typing(context.Background(), api.TypingRequest{To: "#team"})
	if apiErr, ok := err.(*api.Error); !ok || apiErr.Code != api.CodeInvalid || !strings.Contains(apiErr.Message, "one-to-one") {
		t.Errorf("typing to a group: %v, want a clear invalid error", err)
	}
}

// TestFileInTimeline: a send-file is an item of the conversation on
// both sides, its final state done, shown by history, found by search
// and in the conversation list's preview.
func TestFileInTimeline(t *testing.T) {
	_, alice, bob, _ := pairForFiles(t)
	src := filepath.Join(t.TempDir(), "q3-report.pdf")
	if err := os.WriteFile(src, []byte(strings.Repeat("quarterly figures\n", 50_000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := alice.lc(t, "", "send-file", "bob", src); code != 0 || !strings.Contains(out, "done") {
		t.Fatalf("send-file: exit %d\n%s\n%s", code, out, errs)
	}
	item := func(u *user, peer string) *api.FileItem {
		for _, m := range u.history(t, peer) {
			if m.Kind == "file" && m.Transfer != nil && m.Transfer.Name == "q3-report.pdf" {
				return m.Transfer
			}
		}
		return nil
	}
	for _, c := range []struct {
		u         *user
		peer, dir string
		word      string
	}{{alice, "bob", api.DirectionSend, "sent]"}, {bob, "alice", api.DirectionReceive, "received]"}} {
		eventually(t, 20*time.Second, func() (bool, string) {
			f := item(c.u, c.peer)
			return f != nil && f.State == "done" && f.Done == 900_000 && f.Direction == c.dir,
				c.u.name + "'s history has no done " + c.dir + " item for q3-report.pdf"
		})
		if out := c.u.must(t, "history", c.peer); !strings.Contains(out, "[file q3-report.pdf 900.0 kB "+c.word) {
			t.Errorf("%s's history shows:\n%s", c.u.name, out)
		}
		var found []api.Message
		c.u.mustJSON(t, &found, "search", "q3-report")
		if len(found) != 1 || found[0].Kind != "file" || found[0].Transfer == nil {
			t.Errorf("%s's search for q3-report: %+v", c.u.name, found)
		}
		var convs []api.Conversation
		c.u.mustJSON(t, &convs, "recent")
		if len(convs) == 0 || convs[0].Preview != "q3-report.pdf" {
			t.Errorf("%s's conversations: %+v, want the file as the preview", c.u.name, convs)
		}
	}
}
