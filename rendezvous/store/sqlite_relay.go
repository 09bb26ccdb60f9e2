package store

import (
	"context"
	"database/sql"
	"encoding/json"
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
	// qRelayInsert stores an envelope unless the same (recipient,
	// sender, id) is there already: no row changed is a duplicate.
	qRelayInsert = `INSERT INTO relay (recipient, msg_id, sender, envelope, size, created) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (recipient, sender, msg_id) DO NOTHING`
	// qRelayAck deletes the messages a JSON array of [sender, id] pairs
	// names: one prepared statement whatever their number.
	qRelayAck = `DELETE FROM relay WHERE recipient = ? AND (sender, msg_id) IN
		(SELECT value ->> 0, value ->> 1 FROM json_each(?))`
)

// writerStmts are the statements the writer keeps prepared.
var writerStmts = []string{qRelayExists, qRelayTotals, qRelaySenderTotals, qRelayInsert, qRelayAck}

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
//
// Each envelope costs one statement: the totals it is checked against are
// read once per recipient (and sender) of the batch and then counted
// here, and the insert itself finds duplicates.
func (s *SQLite) PutRelays(ctx context.Context, ms []RelayMessage, q Quota) ([]RelayPut, error) {
	out := make([]RelayPut, len(ms))
	err := s.group.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t := s.relayTallies(ctx, tx)
		return putRelayBatch(ms, out, func(m RelayMessage) (bool, error) {
			return s.putRelayTx(ctx, tx, t, m, q)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("put relay batch: %w", err)
	}
	return out, nil
}

// relayTallies are the relay totals one PutRelays batch touches, read
// from the store at first use and kept up to date as the batch inserts.
type relayTallies struct {
	read       func(query string, args ...any) (tally, error)
	recipients map[string]*tally
	senders    map[[2]string]*tally
}

// relayTallies starts the tallies of a batch written in tx.
func (s *SQLite) relayTallies(ctx context.Context, tx *sql.Tx) *relayTallies {
	return &relayTallies{
		read: func(query string, args ...any) (tally, error) {
			var c tally
			err := s.ws.txQueryRow(ctx, tx, query, args...).Scan(&c.count, &c.bytes)
			if errors.Is(err, sql.ErrNoRows) {
				err = nil
			}
			return c, err
		},
		recipients: map[string]*tally{},
		senders:    map[[2]string]*tally{},
	}
}

func (t *relayTallies) recipient(r string) (*tally, error) {
	if c := t.recipients[r]; c != nil {
		return c, nil
	}
	c, err := t.read(qRelayTotals, r)
	if err != nil {
		return nil, err
	}
	t.recipients[r] = &c
	return &c, nil
}

func (t *relayTallies) sender(r, from string) (*tally, error) {
	k := [2]string{r, from}
	if c := t.senders[k]; c != nil {
		return c, nil
	}
	c, err := t.read(qRelaySenderTotals, r, from)
	if err != nil {
		return nil, err
	}
	t.senders[k] = &c
	return &c, nil
}

// putRelayTx is one envelope of PutRelays.
func (s *SQLite) putRelayTx(ctx context.Context, tx *sql.Tx, t *relayTallies, m RelayMessage, q Quota) (bool, error) {
	size := int64(len(m.Envelope))
	all, err := t.recipient(m.Recipient)
	if err != nil {
		return false, err
	}
	mine, err := t.sender(m.Recipient, m.Sender)
	if err != nil {
		return false, err
	}
	var refusal error
	switch {
	case all.over(size, q.MaxCount, q.MaxBytes):
		refusal = ErrQuota
	case mine.over(size, q.SenderCount, q.SenderBytes):
		refusal = ErrSenderQuota
	}
	if refusal != nil {
		// A duplicate is answered as one even when the quota is full.
		var dup bool
		if err := s.ws.txQueryRow(ctx, tx, qRelayExists, m.Recipient, m.Sender, m.ID).Scan(&dup); err != nil {
			return false, err
		}
		if dup {
			return false, nil
		}
		return false, refusal
	}
	n, err := s.ws.txExecN(ctx, tx, qRelayInsert, m.Recipient, m.ID, m.Sender, m.Envelope, size, nsOf(m.Created))
	if err != nil || n == 0 {
		return false, err
	}
	all.count++
	all.bytes += size
	mine.count++
	mine.bytes += size
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
		names, err := refPairs(all)
		if err != nil {
			return err
		}
		total, err = s.ws.txExecN(ctx, tx, qRelayAck, recipient, names)
		if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("ack relay for %s: %w", recipient, err)
	}
	return total, nil
}

// refPairs encodes refs as the JSON array of [sender, id] pairs that
// qRelayAck reads.
func refPairs(refs []RelayRef) (string, error) {
	pairs := make([][2]string, len(refs))
	for i, r := range refs {
		pairs[i] = [2]string{r.Sender, r.ID}
	}
	b, err := json.Marshal(pairs)
	return string(b), err
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
