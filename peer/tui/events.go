package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/lanchat/lanchat/peer/api"
)

// nextEvent waits for the daemon's next event.
func (m *model) nextEvent() tea.Cmd {
	st := m.stream
	return func() tea.Msg {
		ev, err := st.Next()
		if err != nil {
			return streamEnd{err: err}
		}
		return eventMsg{ev: ev}
	}
}

// event applies one event of the daemon; it may return a command (to
// mark the open conversation read, or reload the list).
func (m *model) event(ev api.Event) tea.Cmd {
	switch ev.Type {
	case api.EventMessage:
		if ev.Message == nil {
			return nil
		}
		msg := *ev.Message
		m.stoppedTyping(msg.From) // typing.go
		if msg.Conversation == m.open {
			m.upsert(msg)
			if !msg.Outgoing {
				return m.markRead(m.open)
			}
			return m.loadRecent()
		}
		return m.loadRecent()
	case api.EventMessageState, api.EventMessageChanged:
		if ev.Message != nil && ev.Message.Conversation == m.open {
			m.upsert(*ev.Message)
		}
	case api.EventPresence:
		if p := ev.Presence; p != nil {
			f := m.friends[p.User]
			was := f.Presence.Status
			f.Username, f.Presence = p.User, p.Presence
			m.friends[p.User] = f
			if was != p.Presence.Status {
				m.refresh()
			}
		}
	case api.EventFriendRequest:
		if f := ev.Friend; f != nil {
			m.requests[f.User] = true
			m.note(f.User, fmt.Sprintf("%s wants to be your friend: /accept or /reject", f.User), false)
			if m.open != f.User {
				m.setStatus(fmt.Sprintf("friend request from %s (Ctrl+N to reach their conversation)", f.User), false)
			}
			return m.loadRecent()
		}
	case api.EventFriendAccepted:
		if f := ev.Friend; f != nil {
			delete(m.requests, f.User)
			m.note(f.User, f.User+" and you are friends now", false)
			return tea.Batch(m.loadFriends(), m.loadRecent())
		}
	case api.EventFriendRemoved:
		if f := ev.Friend; f != nil {
			delete(m.requests, f.User)
			delete(m.friends, f.User)
			m.note(f.User, f.User+" is no longer a friend", true)
		}
	case api.EventKeyChanged:
		if k := ev.KeyChange; k != nil {
			if k.Restored {
				delete(m.keyChanged, k.User)
				m.note(k.User, k.User+"'s key is the pinned one again: nothing is held", false)
			} else {
				m.keyChanged[k.User] = true
				m.note(k.User, k.User+"'s identity key CHANGED: messages to them are held. Compare safety numbers (/verify), then /verify confirm", true)
			}
		}
	case api.EventKeyShared:
		if k := ev.KeyChange; k != nil {
			m.note(k.User, fmt.Sprintf("%s's key is also pinned for %s: none of them is admitted", k.User, strings.Join(k.SameKey, ", ")), true)
		}
	case api.EventServer:
		if c := ev.Connection; c != nil {
			m.server = c.Up
		}
	case api.EventPeer:
		if c := ev.Connection; c != nil {
			if c.Up {
				m.peers[c.Peer] = true
			} else {
				delete(m.peers, c.Peer)
			}
		}
	case api.EventTransfer:
		if t := ev.Transfer; t != nil {
			_, known := m.transfers[t.ID]
			m.transfers[t.ID] = *t
			if !known && t.Direction == api.DirectionReceive && convOf(*t) != m.open {
				m.setStatus(fmt.Sprintf("%s offers %s", t.Peer, t.Name), false)
			}
			m.refresh()
		}
	case api.EventTyping:
		if ev.From != "" && ev.From != m.me {
			return m.typingFrom(ev.From) // typing.go
		}
	case api.EventSignedOut:
		m.setStatus("signed out: "+ev.Text, true)
	}
	return nil
}

// upsert adds msg to the open conversation or updates the copy shown,
// keeping the furthest delivery state.
func (m *model) upsert(msg api.Message) {
	for i := range m.items {
		if old := m.items[i].msg; old != nil && old.ID == msg.ID {
			if stateRank(msg.State) < stateRank(old.State) {
				msg.State = old.State
			}
			if msg.Text == "" {
				msg.Text = old.Text
			}
			m.items[i].msg = &msg
			m.refresh()
			return
		}
	}
	if msg.Text == "" && msg.From == "" {
		return // a state change of a message not shown
	}
	m.items = append(m.items, item{at: msg.Sent, msg: &msg})
	m.refresh()
}

func stateRank(s string) int {
	switch s {
	case "queued":
		return 0
	case "sent":
		return 1
	case "delivered":
		return 2
	}
	return 1
}

// sent shows a message the daemon took.
func (m *model) sent(s sentMsg) {
	if s.target != m.open {
		return
	}
	state := "sent"
	if s.res.Via == api.ViaQueued || s.res.Via == api.ViaHeld {
		state = "queued"
	}
	m.upsert(api.Message{ID: s.res.ID, Conversation: s.target, From: m.me, Text: s.text, Sent: time.Now(), Outgoing: true, State: state, Via: s.res.Via})
}

// setHistory shows a conversation's messages and its transfers.
func (m *model) setHistory(ms []api.Message) {
	m.items = m.items[:0]
	for i := range ms {
		m.items = append(m.items, item{at: ms[i].Sent, msg: &ms[i]})
	}
	m.loaded = true
	m.refresh()
}

// note shows a line of the chat's own in conversation target, or on the
// status line when another conversation is open.
func (m *model) note(target, text string, warn bool) {
	if target == "" || target == m.open {
		m.items = append(m.items, item{at: time.Now(), note: text, warn: warn})
		m.refresh()
		return
	}
	m.setStatus(target+": "+text, warn)
}

// convNames lists the conversations of the left pane: recent ones first,
// then friends and requests without messages.
func (m *model) convNames() []string {
	seen := map[string]bool{}
	var names []string
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, c := range m.convs {
		add(c.Target)
	}
	var rest []string
	for n := range m.friends {
		rest = append(rest, n)
	}
	for n := range m.requests {
		rest = append(rest, n)
	}
	sort.Strings(rest)
	for _, n := range rest {
		add(n)
	}
	add(m.open)
	return names
}

// API calls, each a command whose reply comes back as a message.

func (m *model) loadStatus() tea.Cmd {
	ctx, d := m.ctx, m.d
	return func() tea.Msg {
		s, err := d.Status(ctx)
		if err != nil {
			return errMsg{err}
		}
		return statusMsg{s}
	}
}

func (m *model) loadFriends() tea.Cmd {
	ctx, d := m.ctx, m.d
	return func() tea.Msg {
		fs, err := d.Friends(ctx)
		if err != nil {
			return errMsg{err}
		}
		return friendsMsg{fs}
	}
}

func (m *model) loadRequests() tea.Cmd {
	ctx, d := m.ctx, m.d
	return func() tea.Msg {
		r, err := d.FriendRequests(ctx)
		if err != nil {
			return errMsg{err}
		}
		return requestsMsg{r}
	}
}

func (m *model) loadRecent() tea.Cmd {
	ctx, d := m.ctx, m.d
	return func() tea.Msg {
		cs, err := d.Recent(ctx)
		if err != nil {
			return errMsg{err}
		}
		return recentMsg{cs}
	}
}

func (m *model) loadTransfers() tea.Cmd {
	ctx, d := m.ctx, m.d
	return func() tea.Msg {
		ts, err := d.Transfers(ctx)
		if err != nil {
			return errMsg{err}
		}
		return transfersMsg{ts}
	}
}

// loadHistory reads target's last messages; the daemon marks them read.
func (m *model) loadHistory(target string) tea.Cmd {
	ctx, d := m.ctx, m.d
	return func() tea.Msg {
		ms, err := d.History(ctx, target, historyLimit, "", "")
		if err != nil {
			return noteMsg{target: target, text: errText(err), warn: true}
		}
		return historyMsg{target: target, ms: ms}
	}
}

// markRead marks target read (a History call does) once the chat has
// shown its new message, then reloads the list's unread counts.
func (m *model) markRead(target string) tea.Cmd {
	ctx, d := m.ctx, m.d
	return func() tea.Msg {
		if _, err := d.History(ctx, target, 1, "", ""); err != nil {
			return errMsg{err}
		}
		cs, err := d.Recent(ctx)
		if err != nil {
			return errMsg{err}
		}
		return recentMsg{cs}
	}
}
