package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// conversation maps a target ("user" or "#group") to its conversation id.
func (ms *messages) conversation(ctx context.Context, target string) (string, error) {
	if name, ok := strings.CutPrefix(target, "#"); ok {
		if g, _, known := ms.roster.Group(name); known {
			return history.Group(g.ID), nil
		}
		// Not in the roster (server away, or we left): look for a
		// conversation of that name in history.
		recent, err := ms.db.Recent(ctx, maxRecent)
		if err == nil {
			for _, c := range recent {
				if strings.HasPrefix(c.Conversation, "g:") && strings.EqualFold(c.Name, target) {
					return c.Conversation, nil
				}
			}
		}
		return "", api.Errorf(api.CodeNotFound, "no group %s", target)
	}
	user, werr := wire.NormalizeUsername("target", target)
	if werr != nil {
		return "", api.Errorf(api.CodeInvalid, "%q is neither a username nor a #group", target)
	}
	return history.Direct(user), nil
}

// History returns a conversation's latest messages and marks it read.
func (ms *messages) History(ctx context.Context, target string, limit int, search, before string) ([]api.Message, error) {
	if _, err := ms.session.requireLogin(); err != nil {
		return nil, err
	}
	conv, err := ms.conversation(ctx, target)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = defaultHistory
	}
	limit = min(limit, maxHistory)
	var msgs []history.Message
	if search != "" {
		msgs, err = ms.db.Search(ctx, search, conv, limit)
		// Search gives newest first; history reads oldest first.
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
	} else {
		msgs, err = ms.db.History(ctx, conv, limit, before)
	}
	if errors.Is(err, history.ErrInvalid) {
		return nil, api.Errorf(api.CodeInvalid, "%v", err)
	}
	if errors.Is(err, history.ErrNotFound) && before != "" {
		return nil, api.Errorf(api.CodeNotFound, "no message %s in the conversation with %s", before, target)
	}
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	ms.markSeen(ctx, conv) // rich.go
	return ms.richMessages(ctx, msgs), nil
}

// Search searches all conversations.
func (ms *messages) Search(ctx context.Context, text string, limit int) ([]api.Message, error) {
	if _, err := ms.session.requireLogin(); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > maxSearch {
		limit = maxSearch
	}
	msgs, err := ms.db.Search(ctx, text, "", limit)
	if errors.Is(err, history.ErrInvalid) {
		return nil, api.Errorf(api.CodeInvalid, "%v", err)
	}
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return ms.richMessages(ctx, msgs), nil
}

// Recent lists conversations by last activity.
func (ms *messages) Recent(ctx context.Context) ([]api.Conversation, error) {
	if _, err := ms.session.requireLogin(); err != nil {
		return nil, err
	}
	sums, err := ms.db.Recent(ctx, maxRecent)
	if err != nil {
		return nil, fmt.Errorf("recent conversations: %w", err)
	}
	out := make([]api.Conversation, 0, len(sums))
	for _, s := range sums {
		out = append(out, api.Conversation{
			Target: ms.target(s.Conversation, s.Name), Name: s.Name,
			LastActivity: s.LastActivity, Unread: s.Unread, Preview: s.Preview,
			PreviewFrom: s.PreviewFrom, Muted: s.Muted,
		})
	}
	return out, nil
}

// target turns a conversation id back into what the user types.
func (ms *messages) target(conv, name string) string {
	if user, ok := strings.CutPrefix(conv, "u:"); ok {
		return user
	}
	id := strings.TrimPrefix(conv, "g:")
	if g, ok := ms.roster.GroupByID(id); ok {
		return "#" + g.Name
	}
	if strings.HasPrefix(name, "#") {
		return name
	}
	return "#" + id
}

func (ms *messages) apiMessage(m history.Message) *api.Message {
	return &api.Message{
		ID: m.ID, Conversation: ms.target(m.Conversation, ""), From: m.From, Text: m.Body,
		Sent: m.Sent, ClaimedSent: m.Claimed, Outgoing: m.Outgoing, State: string(m.State), Via: string(m.Via),
		Error: m.Error,
	}
}
