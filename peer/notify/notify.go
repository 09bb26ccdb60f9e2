// Package notify shows desktop notifications for what arrives while no
// client shows its conversation: messages, friend requests and file
// offers. It reads the daemon's events through Source and tells the
// desktop through Desktop: freedesktop notifications over D-Bus on Linux
// (dbus.go), osascript on macOS and toasts through PowerShell on Windows
// (command.go); Open picks the system's.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// Source is where events come from (the daemon's event broker).
type Source interface {
	Subscribe(ctx context.Context) <-chan api.Event
}

// Desktop shows one notification.
type Desktop interface {
	Notify(ctx context.Context, summary, body string) error
}

// System is the desktop's own notification service (Open): D-Bus on
// Linux, osascript on macOS, toasts on Windows.
type System interface {
	Desktop
	Close() error
}

// FocusTTL is how long a client's "I show this conversation" lasts
// unless the client says it again (clients renew it while open).
const FocusTTL = 60 * time.Second

// maxBody bounds the text of a notification.
const maxBody = 200

// Notifier turns events into notifications. It owns the focus table:
// which conversations a client shows now (Focus), guarded by mu.
type Notifier struct {
	src     Source
	desktop Desktop
	muted   func(conversation string) bool
	log     *slog.Logger
	now     func() time.Time

	mu    sync.Mutex
	focus map[string]map[string]time.Time // conversation → client → until
}

// New makes a Notifier; muted, if not nil, says which conversations stay
// quiet.
func New(src Source, desktop Desktop, muted func(string) bool, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{src: src, desktop: desktop, muted: muted, log: log, now: time.Now, focus: map[string]map[string]time.Time{}}
}

// Focus records that client shows conversation (open) or stopped
// showing it (!open). An open focus lasts FocusTTL.
func (n *Notifier) Focus(client, conversation string, open bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !open {
		delete(n.focus[conversation], client)
		return
	}
	// A client shows one conversation at a time.
	for c, clients := range n.focus {
		delete(clients, client)
		if len(clients) == 0 {
			delete(n.focus, c)
		}
	}
	if n.focus[conversation] == nil {
		n.focus[conversation] = map[string]time.Time{}
	}
	n.focus[conversation][client] = n.now().Add(FocusTTL)
}

// shown reports whether some client shows conversation now.
func (n *Notifier) shown(conversation string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	for client, until := range n.focus[conversation] {
		if now.Before(until) {
			return true
		}
		delete(n.focus[conversation], client)
	}
	return false
}

// Run notifies until ctx ends or the source closes.
func (n *Notifier) Run(ctx context.Context) {
	ch := n.src.Subscribe(ctx)
	for ev := range ch {
		conv, summary, body, ok := describe(ev)
		mention := ev.Message != nil && ev.Message.Mentioned
		if !ok || n.shown(conv) || (n.muted != nil && !mention && n.muted(conv)) {
			continue
		}
		if err := n.desktop.Notify(ctx, summary, body); err != nil {
			n.log.Debug("desktop notification", "err", err)
		}
	}
}

// describe says what ev notifies of, and for which conversation.
func describe(ev api.Event) (conv, summary, body string, ok bool) {
	switch ev.Type {
	case api.EventMessage:
		m := ev.Message
		if m == nil || m.Outgoing || m.Kind == "file" {
			return "", "", "", false // a file's offer notifies as a transfer
		}
		summary = m.From
		if strings.HasPrefix(m.Conversation, "#") {
			summary = m.From + " in " + m.Conversation
		}
		return m.Conversation, summary, short(m.Text), true
	case api.EventFriendRequest:
		if ev.Friend == nil {
			return "", "", "", false
		}
		return ev.Friend.User, "Friend request", ev.Friend.User + " wants to be your friend", true
	case api.EventTransfer:
		t := ev.Transfer
		if t == nil || t.Direction != api.DirectionReceive || t.State != api.TransferOffered {
			return "", "", "", false
		}
		conv = t.Peer
		if t.Group != "" {
			conv = t.Group
		}
		return conv, "File from " + t.Peer, fmt.Sprintf("%s offers %s", t.Peer, short(t.Name)), true
	}
	return "", "", "", false
}

// short cuts text to maxBody runes on one line.
func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxBody {
		return string(r[:maxBody-1]) + "…"
	}
	return s
}
