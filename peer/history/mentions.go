package history

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// Mentions: incoming messages that mention this user (content.Mentions
// finds them in a message's text). A mention notifies even in a muted
// conversation, and `lanchat mentions` lists them.

// MarkMentioned records that sender's message id mentions this user.
// Marking it again does nothing; ErrNotFound if there is no such message.
func (s *Store) MarkMentioned(ctx context.Context, sender, id string) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM messages WHERE sender = ? AND id = ? AND outgoing = 0`,
			sender, id).Scan(&seq); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO mentions (message) VALUES (?) ON CONFLICT DO NOTHING`, seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("mention in %s from %s: %w", id, sender, err)
	}
	return nil
}

// Mentions returns up to limit messages that mention this user, oldest
// first in arrival order, across conversations. With before == "" they
// are the newest; otherwise those that arrived before the mentioning
// message with id before (ErrNotFound if none), so the first id of one
// page is the cursor for the next.
func (s *Store) Mentions(ctx context.Context, limit int, before string) ([]Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []Message
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		out = nil
		var seq int64 = 1<<63 - 1
		if before != "" {
			if err := tx.QueryRowContext(ctx, `SELECT max(n.message) FROM mentions n JOIN messages m ON m.seq = n.message
				WHERE m.id = ? HAVING count(*) > 0`, before).Scan(&seq); err != nil {
				return mapErr(err)
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+msgCols+` FROM mentions n JOIN messages m ON m.seq = n.message
			WHERE n.message < ? ORDER BY n.message DESC LIMIT ?`, seq, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("mentions: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// Mentioned reports whether sender's message id mentions this user.
func (s *Store) Mentioned(ctx context.Context, sender, id string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM mentions n JOIN messages m ON m.seq = n.message
		WHERE m.sender = ? AND m.id = ?`, sender, id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("mention in %s from %s: %w", id, sender, err)
	}
	return n > 0, nil
}
