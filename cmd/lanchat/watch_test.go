package main

import (
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

func TestWatchLines(t *testing.T) {
	now := time.Now()
	msg := func(conv, from string, out bool, text string) api.Event {
		return api.Event{Type: api.EventMessage, Message: &api.Message{ID: "0123456789abcdef", Conversation: conv, From: from, Outgoing: out, Text: text}}
	}
	tests := []struct {
		ev   api.Event
		want string
	}{
		{msg("alice", "alice", false, "lunch?"), "alice → you: lunch?"},
		{msg("bob", "me", true, "sure"), "you → bob: sure"},
		{msg("#team", "carol", false, "hi all"), "carol → #team: hi all"},
		{api.Event{Type: api.EventMessageState, Message: &api.Message{ID: "0123456789abcdef", Conversation: "bob", State: "sent"}}, ""},
		{api.Event{Type: api.EventMessageState, Message: &api.Message{ID: "0123456789abcdef", Conversation: "bob", State: "delivered"}}, "bob received your message"},
		{api.Event{Type: api.EventPresence, Presence: &api.PeerStatus{User: "bob", Presence: api.Presence{Status: api.Online}}}, "bob is online"},
	}
	for _, tc := range tests {
		got := describeEvent(tc.ev, now)
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.ev.Type, got, tc.want)
		}
		if strings.Contains(got, "0123456789abcdef") {
			t.Errorf("%s: the line shows the message id: %q", tc.ev.Type, got)
		}
	}
}
