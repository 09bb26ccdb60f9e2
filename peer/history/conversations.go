package history

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lanchat/lanchat/internal/wire"
)

// PreviewLen is the most characters a ConversationSummary's Preview has.
const PreviewLen = 80

// previewScan bounds how much of the last message Recent reads to make a
// preview.
const previewScan = 1024

// Direct returns the id of the direct conversation with user: "u:" + user.
func Direct(user string) string { return "u:" + user }

// Group returns the id of a group's conversation: "g:" + the group's id
// (32 lower-case hex digits).
func Group(id string) string { return "g:" + id }

// parseConversation splits a conversation id into its kind ('u' or 'g')
// and the username or group id, checking both.
func parseConversation(conv string) (kind byte, name string, err error) {
	if user, ok := strings.CutPrefix(conv, "u:"); ok {
		if err := checkUser(user); err != nil {
			return 0, "", err
		}
		return 'u', user, nil
	}
	if id, ok := strings.CutPrefix(conv, "g:"); ok {
		if werr := wire.CheckMessageID("group", id); werr != nil {
			return 0, "", invalid("group id %q must be 32 lower-case hex digits", id)
		}
		return 'g', id, nil
	}
	return 0, "", invalid("conversation %q is neither u:USER nor g:GROUP", conv)
}

// ConversationSummary is one line of Recent.
type ConversationSummary struct {
	Conversation string
	// Name is the group's name, or the contact's display name (else the
	// username) for a direct conversation.
	Name string
	// LastActivity is when the latest message was stored.
	LastActivity time.Time
	// Unread counts the incoming messages since the last MarkRead.
	Unread int
	// Preview is the start of the latest message on one line: runs of
	// white space and control characters collapse to one space, and it is
	// cut to at most PreviewLen characters, ending in "…" if cut.
	Preview string
	// PreviewFrom is the sender of that latest message.
	PreviewFrom string
	// Muted is true for a muted conversation (SetMuted).
	Muted bool
}

// SetConversationName names a conversation (a group's, usually), creating
// it if it does not exist yet.
func (s *Store) SetConversationName(ctx context.Context, conv, name string) error {
	if _, _, err := parseConversation(conv); err != nil {
		return fmt.Errorf("name conversation %s: %w", conv, err)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("name conversation %s: %w", conv, invalid("name must be UTF-8"))
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO conversations (id, name) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name`, conv, name); err != nil {
		return fmt.Errorf("name conversation %s: %w", conv, err)
	}
	return nil
}

// Recent returns up to limit conversations, the most recently active
// first, with unread counts and a preview of the latest message. No
// conversations if limit <= 0.
func (s *Store) Recent(ctx context.Context, limit int) ([]ConversationSummary, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.name, coalesce(ct.display_name, ''), c.last_activity, c.unread, c.muted,
			coalesce((SELECT substr(m.body, 1, ?) FROM messages m WHERE m.conversation = c.id AND m.kind NOT IN `+notShown+`
				ORDER BY m.seq DESC LIMIT 1), ''),
			coalesce((SELECT m.sender FROM messages m WHERE m.conversation = c.id AND m.kind NOT IN `+notShown+`
				ORDER BY m.seq DESC LIMIT 1), '')
		FROM conversations c
		LEFT JOIN contacts ct ON c.id GLOB 'u:*' AND ct.username = substr(c.id, 3)
		ORDER BY c.last_activity DESC, c.id LIMIT ?`, previewScan, limit)
	if err != nil {
		return nil, fmt.Errorf("recent conversations: %w", err)
	}
	defer rows.Close()
	var out []ConversationSummary
	for rows.Next() {
		var (
			c           ConversationSummary
			display     string
			last        int64
			previewText string
		)
		if err := rows.Scan(&c.Conversation, &c.Name, &display, &last, &c.Unread, &c.Muted, &previewText, &c.PreviewFrom); err != nil {
			return nil, fmt.Errorf("recent conversations: %w", err)
		}
		if last != 0 {
			c.LastActivity = time.Unix(0, last).UTC()
		}
		if user, ok := strings.CutPrefix(c.Conversation, "u:"); ok && c.Name == "" {
			c.Name = display
			if c.Name == "" {
				c.Name = user
			}
		}
		if c.Name == "" {
			c.Name = c.Conversation
		}
		c.Preview = preview(previewText)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent conversations: %w", err)
	}
	return out, nil
}

// notShown lists the kinds that travel as messages but act on others
// (reactions, edits, recalls, read receipts) or on a group's library:
// never a conversation's preview.
const notShown = `('reaction', 'edit', 'recall', 'read', 'share', 'unshare', 'holder')`

// MarkRead sets the conversation's unread count to zero. Marking an
// unknown conversation read does nothing.
func (s *Store) MarkRead(ctx context.Context, conv string) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE conversations SET unread = 0 WHERE id = ? AND unread != 0`,
		conv); err != nil {
		return fmt.Errorf("mark %s read: %w", conv, err)
	}
	return nil
}

// preview makes the one-line start of a message body described at
// ConversationSummary.Preview.
func preview(body string) string {
	words := strings.FieldsFunc(body, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
	line := strings.Join(words, " ")
	if utf8.RuneCountInString(line) <= PreviewLen {
		return line
	}
	return strings.TrimRight(cut(line, PreviewLen-1), " ") + "…"
}

// cut returns s's first n characters.
func cut(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
