package history

import (
	"context"
	"database/sql"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/lanchat/lanchat/internal/wire"
)

// Bounds of reactions.
const (
	// MaxEmojiBytes is the longest reaction (content.MaxEmoji).
	MaxEmojiBytes = 32
	// MaxReactionsPerUser bounds the different emoji one user has on one
	// message, taken back or not; a further one is refused.
	MaxReactionsPerUser = 16
)

// Reaction is one user's reaction to a message, added or taken back.
type Reaction struct {
	// Conversation is the one the reaction came in; the message must be
	// in it.
	Conversation string
	// Reactor is who reacted: the reaction's signed sender.
	Reactor string
	// ID is the reaction's own message id, which breaks ties between
	// reactions sent at the same time.
	ID string
	// TargetFrom and Target name the message reacted to.
	TargetFrom string
	Target     string
	// Emoji is the reaction, already checked by content.ValidEmoji.
	Emoji string
	// On adds the reaction; false takes it back.
	On bool
	// Sent is the reaction's send time; per (reactor, message, emoji)
	// the latest wins, whatever order they arrive in.
	Sent time.Time
}

// ReactionCount is how many users reacted to a message with one emoji.
type ReactionCount struct {
	Emoji string
	// Users are who, in the order they reacted.
	Users []string
}

// React records a reaction to TargetFrom's message Target. It keeps, per
// (reactor, message, emoji), the reaction with the latest send time (then
// the greatest id), and reports whether that changed what shows. It
// refuses, wrapping: ErrNotFound if there is no such message; ErrInvalid
// if it is in another conversation, the emoji is empty or too long, or
// the reactor has MaxReactionsPerUser different emoji on it already.
func (s *Store) React(ctx context.Context, r Reaction) (changed bool, err error) {
	if err := checkRef(r.Conversation, r.TargetFrom, r.Target); err != nil {
		return false, fmt.Errorf("react to %s: %w", r.Target, err)
	}
	if err := checkUser(r.Reactor); err != nil {
		return false, fmt.Errorf("react to %s: %w", r.Target, err)
	}
	if werr := wire.CheckMessageID("id", r.ID); werr != nil || r.Sent.IsZero() ||
		r.Emoji == "" || len(r.Emoji) > MaxEmojiBytes || !utf8.ValidString(r.Emoji) {
		return false, fmt.Errorf("react to %s: %w", r.Target, invalid("a reaction needs an id, a send time and one emoji"))
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		t, err := findTarget(ctx, tx, r.Conversation, r.TargetFrom, r.Target)
		if err != nil {
			return err
		}
		var (
			active   bool
			sent     int64
			id       string
			existing = true
		)
		err = tx.QueryRowContext(ctx, `SELECT active, sent, id FROM reactions WHERE message = ? AND reactor = ? AND emoji = ?`,
			t.seq, r.Reactor, r.Emoji).Scan(&active, &sent, &id)
		switch {
		case err == sql.ErrNoRows:
			existing = false
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM reactions WHERE message = ? AND reactor = ?`,
				t.seq, r.Reactor).Scan(&n); err != nil {
				return err
			}
			if n >= MaxReactionsPerUser {
				return invalid("%s has %d reactions on the message already", r.Reactor, n)
			}
		case err != nil:
			return err
		}
		if existing && (sent > r.Sent.UnixNano() || sent == r.Sent.UnixNano() && id >= r.ID) {
			return nil // an older or the same reaction
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reactions (message, reactor, emoji, active, sent, id)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (message, reactor, emoji) DO UPDATE SET active = excluded.active, sent = excluded.sent, id = excluded.id`,
			t.seq, r.Reactor, r.Emoji, r.On, r.Sent.UnixNano(), r.ID); err != nil {
			return err
		}
		changed = active != r.On
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("react to %s from %s: %w", r.Target, r.TargetFrom, err)
	}
	return changed, nil
}

// Reactions returns the reactions showing on sender's message id, one
// per emoji, the emoji first used first; ErrNotFound if there is no such
// message.
func (s *Store) Reactions(ctx context.Context, sender, id string) ([]ReactionCount, error) {
	var out []ReactionCount
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		out = nil
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM messages WHERE sender = ? AND id = ?`, sender, id).Scan(&seq); err != nil {
			return mapErr(err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT emoji, reactor FROM reactions WHERE message = ? AND active = 1
			ORDER BY min(sent) OVER (PARTITION BY emoji), emoji, sent, reactor`, seq)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var emoji, user string
			if err := rows.Scan(&emoji, &user); err != nil {
				return err
			}
			if n := len(out); n > 0 && out[n-1].Emoji == emoji {
				out[n-1].Users = append(out[n-1].Users, user)
				continue
			}
			out = append(out, ReactionCount{Emoji: emoji, Users: []string{user}})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reactions to %s from %s: %w", id, sender, err)
	}
	return out, nil
}
