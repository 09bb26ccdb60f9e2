package tui

import (
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/lanchat/lanchat/peer/api"
)

// Typing: while the user types in a one-to-one conversation the chat
// tells the daemon (at most every typingEvery; the daemon folds and
// sends over a direct connection only), and the status line shows who is
// typing to this user for typingShown after their last signal.
const (
	typingEvery = 3 * time.Second
	typingShown = 5 * time.Second
)

// typingExpired asks Update to redraw once a typing note may have ended.
type typingExpired struct{}

// typingState is the model's part for typing.
type typingState struct {
	lastSent time.Time            // our last call, for the open conversation
	sentTo   string               // the conversation lastSent was for
	until    map[string]time.Time // who types to us, until when
}

// typed tells the daemon the user is typing in the open conversation,
// unless it did so less than typingEvery ago. Groups get no signal.
func (m *model) typed() tea.Cmd {
	to := m.open
	if to == "" || strings.HasPrefix(to, "#") {
		return nil
	}
	now := time.Now()
	if m.typing.sentTo == to && now.Sub(m.typing.lastSent) < typingEvery {
		return nil
	}
	m.typing.sentTo, m.typing.lastSent = to, now
	ctx, d := m.ctx, m.d
	return func() tea.Msg {
		d.Typing(ctx, api.TypingRequest{To: to}) // best effort: an indicator
		return nil
	}
}

// typingFrom notes a typing signal from user and asks for a redraw when
// it runs out.
func (m *model) typingFrom(user string) tea.Cmd {
	if m.typing.until == nil {
		m.typing.until = map[string]time.Time{}
	}
	m.typing.until[user] = time.Now().Add(typingShown)
	return tea.Tick(typingShown, func(time.Time) tea.Msg { return typingExpired{} })
}

// stoppedTyping forgets user's typing: their message came.
func (m *model) stoppedTyping(user string) { delete(m.typing.until, user) }

// typingNote is "alice is typing…", or "" when nobody is.
func (m *model) typingNote() string {
	now := time.Now()
	var who []string
	for u, until := range m.typing.until {
		if now.Before(until) {
			who = append(who, u)
		} else {
			delete(m.typing.until, u)
		}
	}
	switch len(who) {
	case 0:
		return ""
	case 1:
		return who[0] + " is typing…"
	}
	sort.Strings(who)
	return strings.Join(who[:len(who)-1], ", ") + " and " + who[len(who)-1] + " are typing…"
}
