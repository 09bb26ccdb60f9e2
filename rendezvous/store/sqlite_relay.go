package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The relay's hot statements, prepared on the writer when the store opens
// (stmtCache).
const (
	qRelayExists       = `SELECT EXISTS (SELECT 1 FROM relay WHERE recipient = ? AND sender = ? AND msg_id = ?)`
	qRelayTotals       = `SELECT count, bytes FROM relay_totals WHERE recipient = ?`
	qRelaySenderTotals = `SELECT count, bytes FROM relay_sender_totals WHERE recipient = ? AND sender = ?`
	qRelayInsert       = `INSERT INTO relay (recipient, msg_id, sender, envelope, size, created) VALUES (?, ?, ?, ?, ?, ?)`
	qRelayAckOne       = `DELETE FROM relay WHERE recipient = ? AND (sender, msg_id) IN (VALUES (?, ?))`
)

// writerStmts are the statements the writer keeps prepared.
var writerStmts = []string{qRelayExists, qRelayTotals, qRelaySenderTotals, qRelayInsert, qRelayAckOne}

// ackChunk bounds how many messages one statement names, well under
// SQLite's limit on host parameters.
const ackChunk = 200

// PutRelay stores an envelope. It returns false, nil if one with the same
// (recipient, sender, id) is already stored (even when a quota is full).
// It returns ErrQuota if storing it would take the recipient's waiting
// count above q.MaxCount or their waiting bytes above q.MaxBytes, and
// ErrSenderQuota if it would take what this sender has waiting for them
// above q.SenderCount or q.SenderBytes; a limit of zero or less is no
// limit. Quota checks and insert are one transaction.
func (s *SQLite) PutRelay(ctx context.Context, m RelayMessage, q Quota) (bool, error) {
	return putRelayOne(ctx, s.PutRelays, m, q)
}

// PutRelays stores a batch of envelopes, each as PutRelay would, in the
// order given (so an envelope's quota check counts those before it), and
// returns one RelayPut for each. The batch commits with those of
// concurrent callers, in one transaction and one fsync.
func (s *SQLite) PutRelays(ctx context.Context, ms []RelayMessage, q Quota) ([]RelayPut, error) {
	out := make([]RelayPut, len(ms))
	err := s.group.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return putRelayBatch(ms, out, func(m RelayMessage) (bool, error) {
			return s.putRelayTx(ctx, tx, m, q)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("put relay batch: %w", err)
	}
	return out, nil
}

// putRelayTx is one envelope of PutRelays.
func (s *SQLite) putRelayTx(ctx context.Context, tx *sql.Tx, m RelayMessage, q Quota) (bool, error) {
	var dup bool
	if err := s.ws.txQueryRow(ctx, tx, qRelayExists, m.Recipient, m.Sender, m.ID).Scan(&dup); err != nil {
		return false, err
	}
	if dup {
		return false, nil
	}
	size := int64(len(m.Envelope))
	over := func(query string, maxCount int, maxBytes int64, args ...any) (bool, error) {
		var count, bytes int64
		err := s.ws.txQueryRow(ctx, tx, query, args...).Scan(&count, &bytes)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
		return maxCount > 0 && count+1 > int64(maxCount) || maxBytes > 0 && bytes+size > maxBytes, nil
	}
	if full, err := over(qRelayTotals,
		q.MaxCount, q.MaxBytes, m.Recipient); err != nil {
		return false, err
	} else if full {
		return false, ErrQuota
	}
	if full, err := over(qRelaySenderTotals,
		q.SenderCount, q.SenderBytes, m.Recipient, m.Sender); err != nil {
		return false, err
	} else if full {
		return false, ErrSenderQuota
	}
	if _, err := s.ws.txExecN(ctx, tx, qRelayInsert, m.Recipient, m.ID, m.Sender, m.Envelope, size, nsOf(m.Created)); err != nil {
		return false, err
	}
	return true, nil
}

// PendingRelay returns the recipient's envelopes with Seq > after, oldest
// first, at most limit (none if limit is zero or less).
func (s *SQLite) PendingRelay(ctx context.Context, recipient string, after int64, limit int) ([]RelayMessage, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.rs.query(ctx, `SELECT seq, recipient, msg_id, sender, envelope, created FROM relay
		WHERE recipient = ? AND seq > ? ORDER BY seq LIMIT ?`, recipient, after, limit)
	if err != nil {
		return nil, fmt.Errorf("pending relay for %s: %w", recipient, err)
	}
	defer rows.Close()
	out, err := scanAll(rows, scanRelayMessage)
	if err != nil {
		return nil, fmt.Errorf("pending relay for %s: %w", recipient, err)
	}
	return out, nil
}

// AckRelay deletes the recipient's envelopes named in acks and refused,
// and records a drop notice (reason "refused", at) for each envelope of
// refused it deleted, in one transaction. It returns how many envelopes
// it deleted. Unknown messages are ignored.
func (s *SQLite) AckRelay(ctx context.Context, recipient string, acks, refused []RelayRef, at time.Time) (int, error) {
	if len(acks)+len(refused) == 0 {
		return 0, nil
	}
	total := 0
	err := s.group.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		total = 0
		for _, r := range refused {
			if _, err := tx.ExecContext(ctx, `INSERT INTO relay_dropped (sender, recipient, msg_id, reason, at)
				SELECT sender, recipient, msg_id, 'refused', ? FROM relay
				WHERE recipient = ? AND sender = ? AND msg_id = ?
				ON CONFLICT (sender, recipient, msg_id) DO NOTHING`, nsOf(at), recipient, r.Sender, r.ID); err != nil {
				return err
			}
		}
		all := append(append([]RelayRef(nil), acks...), refused...)
		for rest := all; len(rest) > 0; {
			chunk := rest[:min(len(rest), ackChunk)]
			rest = rest[len(chunk):]
			args := make([]any, 0, 2*len(chunk)+1)
			args = append(args, recipient)
			for _, r := range chunk {
				args = append(args, r.Sender, r.ID)
			}
			pairs := make([]byte, 0, 8*len(chunk))
			for i := range chunk {
				if i > 0 {
					pairs = append(pairs, ", "...)
				}
				pairs = append(pairs, "(?, ?)"...)
			}
			n, err := s.ws.txExecN(ctx, tx, `DELETE FROM relay WHERE recipient = ? AND (sender, msg_id) IN (VALUES `+string(pairs)+`)`, args...)
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
// Created counts as created before any t), records a drop notice for each
// (reason "expired", at now), and deletes notices from before t, all in one
// transaction. It returns how many envelopes it deleted and, by name, the
// senders with new notices.
func (s *SQLite) ExpireRelay(ctx context.Context, before, now time.Time) (int, []string, error) {
	if before.IsZero() {
		return 0, nil, nil
	}
	var (
		n       int
		senders []string
	)
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		senders = nil
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT sender FROM relay
			WHERE created < ? OR created IS NULL ORDER BY sender`, before.UnixNano())
		if err != nil {
			return err
		}
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return err
			}
			senders = append(senders, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM relay_dropped WHERE at < ?`, before.UnixNano()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO relay_dropped (sender, recipient, msg_id, reason, at)
			SELECT sender, recipient, msg_id, 'expired', ? FROM relay WHERE created < ? OR created IS NULL
			ORDER BY seq
			ON CONFLICT (sender, recipient, msg_id) DO NOTHING`, now.UnixNano(), before.UnixNano()); err != nil {
			return err
		}
		n, err = execN(ctx, tx, `DELETE FROM relay WHERE created < ? OR created IS NULL`, before.UnixNano())
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("expire relay: %w", err)
	}
	return n, senders, nil
}

// RelayDrops returns sender's drop notices, oldest first, at most limit
// (none if limit is zero or less).
func (s *SQLite) RelayDrops(ctx context.Context, sender string, limit int) ([]RelayDrop, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT sender, recipient, msg_id, reason, at FROM relay_dropped
		WHERE sender = ? ORDER BY seq LIMIT ?`, sender, limit)
	if err != nil {
		return nil, fmt.Errorf("relay drops for %s: %w", sender, err)
	}
	defer rows.Close()
	out, err := scanAll(rows, scanRelayDrop)
	if err != nil {
		return nil, fmt.Errorf("relay drops for %s: %w", sender, err)
	}
	return out, nil
}

// AckRelayDrops deletes sender's drop notices named in refs and returns
// how many it deleted. Unknown ones are ignored.
func (s *SQLite) AckRelayDrops(ctx context.Context, sender string, refs []DropRef) (int, error) {
	if len(refs) == 0 {
		return 0, nil
	}
	total := 0
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		total = 0
		for _, r := range refs {
			n, err := execN(ctx, tx, `DELETE FROM relay_dropped WHERE sender = ? AND recipient = ? AND msg_id = ?`,
				sender, r.Recipient, r.ID)
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("ack relay drops for %s: %w", sender, err)
	}
	return total, nil
}
