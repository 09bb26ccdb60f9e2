package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/rich"
	"github.com/lanchat/lanchat/peer/history"
)

// Replies, reactions, edits and recall (package rich does the checks).
// The daemon's part: the receive hook, the local API and the display.

// isRichKind reports whether an incoming kind is one rich handles.
func isRichKind(k string) bool { return rich.IsTimeline(k) || rich.IsAction(k) }

// receiveRich takes an admitted reply, reaction, edit or recall. A
// malformed or forbidden one is dropped with a log line and acknowledged,
// so it never blocks the conversation or the relay.
func (ms *messages) receiveRich(ctx context.Context, m incoming, conv string) *wire.Error {
	if rich.IsTimeline(m.Kind) {
		in := rich.Incoming{ID: m.ID, From: m.From, Conversation: conv, Kind: m.Kind, Body: m.Body}
		var text, meta string
		var err error
		if m.Kind == content.KindReply {
			text, meta, err = rich.Reply(ctx, ms.db, in)
		} else {
			text, meta, err = rich.Media(ctx, in)
		}
		if errors.Is(err, rich.ErrRefused) {
			ms.log.Info("incoming "+m.Kind+" dropped", "from", m.From, "id", m.ID, "err", err)
			return nil
		}
		if err != nil {
			ms.log.Error("check incoming reply", "err", err)
			return wire.Errorf(wire.CodeInternal, "internal error")
		}
		m.Body = text
		if werr := ms.storeMeta(ctx, m, conv, meta); werr != nil || m.Kind == content.KindReply {
			return werr
		}
		if err := ms.peers.transfers.expectMedia(ctx, m.From, m.ID, conv, m.Kind, meta); err != nil { // mediatransfer.go
			ms.log.Error("record incoming media transfer", "err", err)
			return wire.Errorf(wire.CodeInternal, "internal error")
		}
		return nil
	}
	arrived := m.Arrived
	if now := time.Now(); arrived.IsZero() || arrived.After(now) {
		arrived = now
	}
	sent, _ := history.ClampSent(m.Sent, arrived)
	in := rich.Incoming{ID: m.ID, From: m.From, Conversation: conv, Kind: m.Kind, Body: m.Body, Sent: sent}
	if m.Kind == content.KindRead {
		ids, err := rich.Read(ctx, ms.db, in)
		if errors.Is(err, rich.ErrRefused) {
			ms.log.Info("incoming read receipt dropped", "from", m.From, "id", m.ID, "err", err)
			return nil
		}
		if err != nil {
			ms.log.Error("apply read receipt", "err", err)
			return wire.Errorf(wire.CodeInternal, "internal error")
		}
		me := ms.session.self()
		for _, id := range ids {
			if msg, err := ms.db.Message(ctx, me, id); err == nil {
				if out := ms.richMessages(ctx, []history.Message{msg}); len(out) == 1 {
					ms.notify(api.Event{Type: api.EventMessageChanged, Message: &out[0]})
				}
			}
		}
		return nil
	}
	t, changed, err := rich.Apply(ctx, ms.db, in)
	if errors.Is(err, rich.ErrRefused) {
		ms.log.Info("incoming "+m.Kind+" dropped", "from", m.From, "id", m.ID, "err", err)
		return nil
	}
	if err != nil {
		ms.log.Error("apply incoming "+m.Kind, "err", err)
		return wire.Errorf(wire.CodeInternal, "internal error")
	}
	if changed {
		ms.messageChanged(ctx, t.From, t.ID)
	}
	return nil
}

// messageChanged tells local clients that a message shows differently
// now (edited, recalled, reacted to).
func (ms *messages) messageChanged(ctx context.Context, from, id string) {
	m, err := ms.db.Message(ctx, from, id)
	if err != nil {
		return
	}
	out := ms.richMessages(ctx, []history.Message{m})
	if len(out) == 1 {
		ms.notify(api.Event{Type: api.EventMessageChanged, Message: &out[0]})
	}
}

// richMessages makes the API view of messages with what rich adds: the
// quote of a reply, edits, recall (the text hidden if the user hides
// recalled messages), reactions. Messages that only act on others are
// left out.
func (ms *messages) richMessages(ctx context.Context, msgs []history.Message) []api.Message {
	return ms.richView(ctx, msgs, false)
}

// newMessages is richMessages for messages just stored here: nobody can
// react to or read a message before its row exists (both refer to it),
// so their reactions and readers are not looked up.
func (ms *messages) newMessages(ctx context.Context, msgs []history.Message) []api.Message {
	return ms.richView(ctx, msgs, true)
}

// richView is richMessages, fresh for messages just stored.
func (ms *messages) richView(ctx context.Context, msgs []history.Message, fresh bool) []api.Message {
	set, err := ms.db.Settings(ctx)
	if err != nil {
		ms.log.Warn("read settings", "err", err)
	}
	out := make([]api.Message, 0, len(msgs))
	for _, m := range msgs {
		if isLibraryKind(m.Kind) || rich.IsAction(m.Kind) {
			continue // not the timeline's
		}
		am := *ms.apiMessage(m)
		if m.Kind != "" && m.Kind != history.KindText {
			am.Kind = m.Kind
		}
		if q, ok := rich.ParseQuote(m.Meta); ok {
			am.Reply = &api.Quote{From: q.From, ID: q.ID, Kind: q.Kind, Excerpt: q.Excerpt}
		}
		if s, ok := rich.ParseMedia(m.Kind, m.Meta); ok {
			am.Media = ms.apiMedia(m, s) // richmedia.go
		}
		if m.Kind == history.KindFile {
			am.Transfer = ms.fileView(ctx, m) // fileitems.go
		}
		am.Edited, am.Recalled = m.Edited, m.Recalled
		am.Text = m.Shown(set.HideRecalled)
		if fresh {
			out = append(out, am)
			continue
		}
		if m.Outgoing && set.SendReadReceipts {
			ms.readState(ctx, &am)
		}
		if !m.Outgoing {
			am.Mentioned, _ = ms.db.Mentioned(ctx, m.From, m.ID)
		}
		if rs, err := ms.db.Reactions(ctx, m.From, m.ID); err == nil {
			for _, r := range rs {
				am.Reactions = append(am.Reactions, api.Reaction{Emoji: r.Emoji, Count: len(r.Users), Users: r.Users})
			}
		}
		out = append(out, am)
	}
	return out
}

// readState adds who read an outgoing message. State keeps saying how
// the copies travelled; clients show "read" once every recipient read.
func (ms *messages) readState(ctx context.Context, am *api.Message) {
	readers, of, err := ms.db.ReadBy(ctx, am.ID)
	if err != nil || len(readers) == 0 {
		return
	}
	am.ReadBy, am.Recipients = readers, of
}

// markSeen marks what the user now sees of conv as read and, unless the
// user turned read receipts off, tells each sender which of their
// messages were read, through the outbox.
func (ms *messages) markSeen(ctx context.Context, conv string) {
	seen, err := ms.db.MarkSeen(ctx, conv, time.Now())
	if err != nil {
		ms.log.Warn("mark read", "err", err)
		return
	}
	if len(seen) == 0 {
		return
	}
	if set, err := ms.db.Settings(ctx); err != nil || !set.SendReadReceipts {
		return
	}
	me := ms.session.self()
	for sender, ids := range seen {
		for len(ids) > 0 {
			n := min(len(ids), content.MaxReadIDs)
			kind, body, err := rich.Encode(content.Read{IDs: ids[:n]})
			ids = ids[n:]
			if err != nil {
				continue
			}
			id, err := newMessageID()
			if err != nil {
				return
			}
			m := history.Message{ID: id, Conversation: conv, From: me, Kind: kind, Body: body, Sent: time.Now()}
			if _, err := ms.db.AddOutgoing(ctx, m, []string{sender}); err != nil {
				ms.log.Warn("store read receipt", "err", err)
				return
			}
		}
	}
	ms.outbox.Kick()
}

// findMessage finds the message a user names by id; when several senders
// used the id, the one in the user's own name wins, else it is ambiguous.
func (ms *messages) findMessage(ctx context.Context, me, id string) (history.Message, error) {
	if werr := wire.CheckMessageID("id", id); werr != nil {
		return history.Message{}, api.Errorf(api.CodeInvalid, "%q is not a message id (32 hex digits, as `lanchat history --ids` shows)", id)
	}
	cands, err := ms.db.MessagesByID(ctx, strings.ToLower(id))
	if err != nil {
		return history.Message{}, fmt.Errorf("find message: %w", err)
	}
	var found []history.Message
	for _, m := range cands {
		if isLibraryKind(m.Kind) || rich.IsAction(m.Kind) {
			continue
		}
		if m.From == me {
			return m, nil
		}
		found = append(found, m)
	}
	switch len(found) {
	case 0:
		return history.Message{}, api.Errorf(api.CodeNotFound, "no message %s in your history", id)
	case 1:
		return found[0], nil
	}
	return history.Message{}, api.Errorf(api.CodeConflict, "more than one sender used the id %s", id)
}

// replyTo resolves the message a reply answers: it must be in conv.
func (ms *messages) replyTo(ctx context.Context, me, conv, id, text string) (kind, meta string, err error) {
	q, err := ms.findMessage(ctx, me, id)
	if err != nil {
		return "", "", err
	}
	if q.Conversation != conv {
		return "", "", api.Errorf(api.CodeInvalid, "message %s is in another conversation", id)
	}
	kind, meta, err = rich.Encode(content.Reply{Text: text, Quote: rich.QuoteOf(q)})
	if err != nil {
		return "", "", api.Errorf(api.CodeInvalid, "%v", err)
	}
	return kind, meta, nil
}

// postAction sends a reaction, edit or recall to everyone else in the
// message's conversation, through the outbox; the copy kept here stays
// out of the timeline. It returns the action's message id and send time.
func (ms *messages) postAction(ctx context.Context, me string, target history.Message, it content.Item) (string, time.Time, error) {
	kind, body, err := rich.Encode(it)
	if err != nil {
		return "", time.Time{}, api.Errorf(api.CodeInvalid, "%v", err)
	}
	_, to, err := ms.recipients(ctx, me, ms.target(target.Conversation, ""))
	if err != nil {
		return "", time.Time{}, err
	}
	id, err := newMessageID()
	if err != nil {
		return "", time.Time{}, err
	}
	m := history.Message{ID: id, Conversation: target.Conversation, From: me, Kind: kind, Body: body, Sent: time.Now()}
	if _, err := ms.db.AddOutgoing(ctx, m, to); err != nil {
		return "", time.Time{}, fmt.Errorf("store %s: %w", kind, err)
	}
	ms.outbox.Kick()
	return id, m.Sent, nil
}

// shown returns the API view of sender's message id as it shows now.
func (ms *messages) shown(ctx context.Context, from, id string) (api.Message, error) {
	m, err := ms.db.Message(ctx, from, id)
	if err != nil {
		return api.Message{}, fmt.Errorf("read message: %w", err)
	}
	ms.messageChanged(ctx, from, id)
	out := ms.richMessages(ctx, []history.Message{m})
	if len(out) != 1 {
		return api.Message{}, api.Errorf(api.CodeNotFound, "no message %s", id)
	}
	return out[0], nil
}

// React adds or takes back the user's reaction to a message.
func (ms *messages) React(ctx context.Context, id string, req api.ReactRequest) (api.Message, error) {
	me, err := ms.session.requireLogin()
	if err != nil {
		return api.Message{}, err
	}
	if !content.ValidEmoji(req.Emoji) {
		return api.Message{}, api.Errorf(api.CodeInvalid, "a reaction is one emoji, such as 👍")
	}
	m, err := ms.findMessage(ctx, me, id)
	if err != nil {
		return api.Message{}, err
	}
	on := true
	if req.On != nil {
		on = *req.On
	} else if rs, err := ms.db.Reactions(ctx, m.From, m.ID); err == nil {
		for _, r := range rs {
			if r.Emoji == req.Emoji && slices.Contains(r.Users, me) {
				on = false
			}
		}
	}
	r := content.Reaction{To: content.Ref{From: m.From, ID: m.ID}, Emoji: req.Emoji, On: on}
	rid, sent, err := ms.postAction(ctx, me, m, r)
	if err != nil {
		return api.Message{}, err
	}
	if _, err := ms.db.React(ctx, history.Reaction{Conversation: m.Conversation, Reactor: me, ID: rid,
		TargetFrom: m.From, Target: m.ID, Emoji: req.Emoji, On: on, Sent: sent}); err != nil {
		return api.Message{}, richError(err)
	}
	return ms.shown(ctx, m.From, m.ID)
}

// Edit replaces the text of the user's own message.
func (ms *messages) Edit(ctx context.Context, id string, req api.EditRequest) (api.Message, error) {
	me, err := ms.session.requireLogin()
	if err != nil {
		return api.Message{}, err
	}
	if strings.TrimSpace(req.Text) == "" {
		return api.Message{}, api.Errorf(api.CodeInvalid, "the text is empty")
	}
	m, err := ms.findMessage(ctx, me, id)
	if err != nil {
		return api.Message{}, err
	}
	now := time.Now()
	if err := rich.Own(me, m, now); err != nil {
		return api.Message{}, richError(err)
	}
	eid, err := newMessageID()
	if err != nil {
		return api.Message{}, err
	}
	if _, err := ms.db.AddEdit(ctx, history.Edit{Conversation: m.Conversation, From: me, ID: eid, Target: m.ID,
		Body: req.Text, Sent: now}); err != nil {
		return api.Message{}, richError(err)
	}
	if _, _, err := ms.postAction(ctx, me, m, content.Edit{To: m.ID, Text: req.Text}); err != nil {
		return api.Message{}, err
	}
	return ms.shown(ctx, me, m.ID)
}

// Recall recalls the user's own message.
func (ms *messages) Recall(ctx context.Context, id string) (api.Message, error) {
	me, err := ms.session.requireLogin()
	if err != nil {
		return api.Message{}, err
	}
	m, err := ms.findMessage(ctx, me, id)
	if err != nil {
		return api.Message{}, err
	}
	now := time.Now()
	if err := rich.Own(me, m, now); err != nil {
		return api.Message{}, richError(err)
	}
	if _, err := ms.db.Recall(ctx, m.Conversation, me, m.ID, now); err != nil {
		return api.Message{}, richError(err)
	}
	if _, _, err := ms.postAction(ctx, me, m, content.Recall{To: m.ID}); err != nil {
		return api.Message{}, err
	}
	return ms.shown(ctx, me, m.ID)
}

// Settings returns the user's settings.
func (ms *messages) Settings(ctx context.Context) (api.Settings, error) {
	if _, err := ms.session.requireLogin(); err != nil {
		return api.Settings{}, err
	}
	s, err := ms.db.Settings(ctx)
	if err != nil {
		return api.Settings{}, fmt.Errorf("read settings: %w", err)
	}
	return api.Settings{HideRecalled: s.HideRecalled, SendReadReceipts: s.SendReadReceipts, ShareKeep: s.ShareKeep}, nil
}

// SetSetting sets one of the user's settings to true or false.
func (ms *messages) SetSetting(ctx context.Context, name string, req api.SettingRequest) (api.Settings, error) {
	if _, err := ms.session.requireLogin(); err != nil {
		return api.Settings{}, err
	}
	switch name {
	case history.SettingHideRecalled, history.SettingSendReadReceipts, history.SettingShareKeep:
	default:
		return api.Settings{}, api.Errorf(api.CodeInvalid, "unknown setting %q (hide-recalled, send-read-receipts or share-keep)", name)
	}
	v, err := strconv.ParseBool(req.Value)
	if err != nil {
		return api.Settings{}, api.Errorf(api.CodeInvalid, "%s is true or false, not %q", name, req.Value)
	}
	if err := ms.db.SetSetting(ctx, name, strconv.FormatBool(v)); err != nil {
		return api.Settings{}, fmt.Errorf("set %s: %w", name, err)
	}
	return ms.Settings(ctx)
}

// richError turns a refusal into an API error.
func richError(err error) error {
	switch {
	case errors.Is(err, rich.ErrNotSender):
		return api.Errorf(api.CodeForbidden, "only its sender may edit or recall a message")
	case errors.Is(err, rich.ErrRefused), errors.Is(err, history.ErrInvalid), errors.Is(err, history.ErrTooLate):
		return api.Errorf(api.CodeInvalid, "%v", err)
	case errors.Is(err, history.ErrNotFound):
		return api.Errorf(api.CodeNotFound, "%v", err)
	}
	return err
}

// Mute mutes or unmutes the conversation with target.
func (ms *messages) Mute(ctx context.Context, target string, muted bool) error {
	if _, err := ms.session.requireLogin(); err != nil {
		return err
	}
	conv, err := ms.conversation(ctx, target)
	if err != nil {
		return err
	}
	if err := ms.db.SetMuted(ctx, conv, muted); err != nil {
		return fmt.Errorf("mute %s: %w", target, err)
	}
	return nil
}

// maxMentions bounds one listing of mentions.
const maxMentions = 200

// Mentions lists the messages that mention the user, oldest first.
func (ms *messages) Mentions(ctx context.Context, limit int) ([]api.Message, error) {
	if _, err := ms.session.requireLogin(); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > maxMentions {
		limit = maxMentions
	}
	msgs, err := ms.db.Mentions(ctx, limit, "")
	if err != nil {
		return nil, fmt.Errorf("mentions: %w", err)
	}
	out := ms.richMessages(ctx, msgs)
	for i := range out {
		out[i].Mentioned = true
	}
	return out, nil
}

// markMention records that an incoming message's text mentions this
// user, and reports whether it does.
func (ms *messages) markMention(ctx context.Context, m history.Message) bool {
	me := ms.session.self()
	members := []string{me}
	if gid, ok := strings.CutPrefix(m.Conversation, "g:"); ok {
		if g, known := ms.roster.GroupByID(gid); known {
			if _, all, ok := ms.roster.Group(g.Name); ok {
				members = all
			}
		}
	}
	if !slices.Contains(content.Mentions(m.Body, members), me) {
		return false
	}
	if err := ms.db.MarkMentioned(ctx, m.From, m.ID); err != nil {
		ms.log.Warn("mark mention", "err", err)
	}
	return true
}
