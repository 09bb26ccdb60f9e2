package daemon

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
)

// Typing signals travel on the direct path only (docs/protocol.md,
// "Typing"): a request frame of op "typing" on a message stream, its body
// a content.Typing. They are never stored and never relayed.
const (
	// opTyping carries a content.Typing.
	opTyping = "typing"
	// typingSendEvery is the least time between two signals to one
	// conversation; calls in between fold into the last one sent.
	typingSendEvery = 3 * time.Second
	// typingRecvEvery is the least time between two signals taken from
	// one contact: a sender keeps typingSendEvery, so more is a flood.
	typingRecvEvery = time.Second
	// typingFloodLog is how often a flood from one contact is logged.
	typingFloodLog = 10 * time.Second
	// typingSendTimeout bounds one signal's exchange.
	typingSendTimeout = 2 * time.Second
	// maxTypingPeers bounds each table of last times; older entries go
	// first when it is full.
	maxTypingPeers = 1024
)

// typing is the rate limiting of typing signals both ways. The zero value
// is ready.
type typing struct {
	mu     sync.Mutex
	sent   map[string]time.Time // by conversation: the last signal sent
	taken  map[string]time.Time // by sender: the last signal taken
	logged map[string]time.Time // by sender: the last flood logged
}

// allow reports whether a signal keyed by key may pass at now, at least
// every apart, and records it if so.
func (t *typing) allow(m *map[string]time.Time, key string, now time.Time, every time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if *m == nil {
		*m = make(map[string]time.Time)
	}
	if last, ok := (*m)[key]; ok && now.Sub(last) < every && !now.Before(last) {
		return false
	}
	if len(*m) >= maxTypingPeers {
		for k, at := range *m {
			if now.Sub(at) >= every {
				delete(*m, k)
			}
		}
		if len(*m) >= maxTypingPeers {
			return false // every entry is recent: a flood of names
		}
	}
	(*m)[key] = now
	return true
}

// Typing tells a contact, over an open direct connection only, that the
// user is typing to them (POST /v1/typing). Groups are refused: the
// signal names only its sender, and a group's members without a direct
// path would see nothing, so a group conversation would show some of its
// members typing to some of the others.
func (ms *messages) Typing(ctx context.Context, req api.TypingRequest) error {
	me, err := ms.session.requireLogin()
	if err != nil {
		return err
	}
	if strings.HasPrefix(req.To, "#") {
		return api.Errorf(api.CodeInvalid, "typing is shown in one-to-one conversations only, not in %s", req.To)
	}
	conv, to, err := ms.recipients(ctx, me, req.To)
	if err != nil {
		return err
	}
	c := ms.peers.get(to[0])
	if c == nil {
		return nil // no direct path: typing is never relayed
	}
	// Only a signal that goes out counts against the rate: a call made
	// before the connection opened holds back none after it.
	if !ms.typing.allow(&ms.typing.sent, conv, time.Now(), typingSendEvery) {
		return nil // folded into the signal sent last
	}
	ctx, cancel := context.WithTimeout(ctx, typingSendTimeout)
	defer cancel()
	if err := ms.exchange(ctx, c, opTyping, content.Typing{Active: true}); err != nil {
		ms.log.Debug("typing signal not sent", "to", to[0], "err", err)
	}
	return nil
}

// receiveTyping takes a typing signal from a contact's direct connection
// (from is who the connection authenticated) and tells local clients. A
// signal from someone who is not a contact, or a held one, or one past
// the rate, is dropped; a malformed one is refused.
func (ms *messages) receiveTyping(ctx context.Context, from string, body json.RawMessage) *wire.Error {
	it, err := content.Decode(content.KindTyping, body)
	if err != nil {
		return wire.Errorf(wire.CodeMalformed, "%v", err)
	}
	if !ms.roster.Related(from) {
		ms.log.Debug("typing signal dropped: not a contact", "from", from)
		return nil
	}
	if held, err := ms.db.Held(ctx, from); err != nil || held {
		return nil
	}
	now := time.Now()
	if !ms.typing.allow(&ms.typing.taken, from, now, typingRecvEvery) {
		if ms.typing.allow(&ms.typing.logged, from, now, typingFloodLog) {
			ms.log.Info("typing signals dropped: more than one a second", "from", from)
		}
		return nil
	}
	if it.(content.Typing).Active {
		ms.notify(api.Event{Type: api.EventTyping, From: from})
	}
	return nil
}
