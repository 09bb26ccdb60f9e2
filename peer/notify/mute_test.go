package notify

import (
	"context"
	"testing"

	"github.com/lanchat/lanchat/peer/api"
)

// desktopFunc is a Desktop that records what it shows.
type desktopFunc func(summary, body string)

func (f desktopFunc) Notify(ctx context.Context, summary, body string) error {
	f(summary, body)
	return nil
}

// TestMutedButMentioned: a muted conversation notifies only of messages
// that mention the user.
func TestMutedButMentioned(t *testing.T) {
	events := make(feed, 4)
	var got []string
	n := New(events, desktopFunc(func(s, b string) { got = append(got, b) }), func(c string) bool { return c == "#noisy" }, nil)
	events <- api.Event{Type: api.EventMessage, Message: &api.Message{Conversation: "#noisy", From: "dave", Text: "quiet"}}
	events <- api.Event{Type: api.EventMessage, Message: &api.Message{Conversation: "#noisy", From: "dave", Text: "@alice look", Mentioned: true}}
	events <- api.Event{Type: api.EventMessage, Message: &api.Message{Conversation: "bob", From: "bob", Text: "hello"}}
	close(events)
	n.Run(context.Background())
	if len(got) != 2 || got[0] != "@alice look" || got[1] != "hello" {
		t.Fatalf("notified %q; want the mention and bob's message", got)
	}
}
