package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ackChunk bounds how many ids one DELETE binds, well under SQLite's
// limit on host parameters.
const ackChunk = 500

// PutRelay stores an envelope. It returns false, nil if one with the same
// (recipient, id) is already stored (even when the recipient is at quota),
// and ErrQuota if storing it would take the recipient's waiting count above
// q.MaxCount or their waiting envelope bytes above q.MaxBytes; a limit of
// zero or less is no limit. Quota check and insert are one transaction.
func (s *SQLite) PutRelay(ctx context.Context, m RelayMessage, q Quota) (bool, error) {
	inserted := false
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var dup bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM relay WHERE recipient = ? AND msg_id = ?)`,
			m.Recipient, m.ID).Scan(&dup); err != nil {
			return err
		}
		if dup {
			return nil
		}
		var count, bytes int64
		err := tx.QueryRowContext(ctx, `SELECT count, bytes FROM relay_totals WHERE recipient = ?`,
			m.Recipient).Scan(&count, &bytes)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		size := int64(len(m.Envelope))
		if q.MaxCount > 0 && count+1 > int64(q.MaxCount) || q.MaxBytes > 0 && bytes+size > q.MaxBytes {
			return ErrQuota
		}
		if _, err := execN(ctx, tx, `INSERT INTO relay (recipient, msg_id, sender, envelope, size, created)
			VALUES (?, ?, ?, ?, ?, ?)`, m.Recipient, m.ID, m.Sender, m.Envelope, size, nsOf(m.Created)); err != nil {
			return err
		}
		inserted = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("relay %s to %s: %w", m.ID, m.Recipient, err)
	}
	return inserted, nil
}

// PendingRelay returns the recipient's envelopes with Seq > after, oldest
// first, at most limit (none if limit is zero or less).
func (s *SQLite) PendingRelay(ctx context.Context, recipient string, after int64, limit int) ([]RelayMessage, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, recipient, msg_id, sender, envelope, created FROM relay
		WHERE recipient = ? AND seq > ? ORDER BY seq LIMIT ?`, recipient, after, limit)
	if err != nil {
		return nil, fmt.Errorf("pending relay for %s: %w", recipient, err)
	}
	defer rows.Close()
	var out []RelayMessage
	for rows.Next() {
		var (
			m       RelayMessage
			created sql.NullInt64
		)
		if err := rows.Scan(&m.Seq, &m.Recipient, &m.ID, &m.Sender, &m.Envelope, &created); err != nil {
			return nil, fmt.Errorf("pending relay for %s: %w", recipient, err)
		}
		m.Created = timeOf(created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending relay for %s: %w", recipient, err)
	}
	return out, nil
}

// AckRelay deletes the recipient's envelopes with the given ids and returns
// how many it deleted. Unknown ids are ignored.
func (s *SQLite) AckRelay(ctx context.Context, recipient string, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	total := 0
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		total = 0
		for rest := ids; len(rest) > 0; {
			chunk := rest[:min(len(rest), ackChunk)]
			rest = rest[len(chunk):]
			args := make([]any, 0, len(chunk)+1)
			args = append(args, recipient)
			for _, id := range chunk {
				args = append(args, id)
			}
			marks := strings.Repeat(", ?", len(chunk))[2:]
			n, err := execN(ctx, tx, `DELETE FROM relay WHERE recipient = ? AND msg_id IN (`+marks+`)`, args...)
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("ack relay for %s: %w", recipient, err)
	}
	return total, nil
}

// ExpireRelay deletes envelopes created before t (an envelope with a zero
// Created counts as created before any t) and returns how many.
func (s *SQLite) ExpireRelay(ctx context.Context, before time.Time) (int, error) {
	if before.IsZero() {
		return 0, nil
	}
	n, err := execN(ctx, s.w, `DELETE FROM relay WHERE created < ? OR created IS NULL`, before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("expire relay: %w", err)
	}
	return n, nil
}
