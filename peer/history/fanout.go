package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// A message to a big group or room has hundreds of copies. Reading each
// recipient's queue and marking each copy sent on its own costs one
// transaction per copy (and marking recomputes the message's state from
// all its copies each time); the group's send path reads and marks them
// together instead.

// Fanout is what waits of one outgoing message, by recipient.
type Fanout struct {
	// Heads are the message's queued copies that are first in their
	// recipient's queue: they may go now.
	Heads []OutboxItem
	// Behind names the recipients with earlier copies still queued: the
	// message's copy goes after those, in order.
	Behind []string
	// Held names the recipients held for a key change: nothing goes to
	// them until the user decides.
	Held []string
}

// QueuedCopies reads, from one snapshot, the queued copies of the
// outgoing message id written by sender, sorted as Fanout says. A copy
// already sent is in none of the lists. ErrNotFound if there is no such
// message.
func (s *Store) QueuedCopies(ctx context.Context, sender, id string) (Fanout, error) {
	var out Fanout
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		out = Fanout{}
		var seq int64
		m, err := scanMessage(tx.QueryRowContext(ctx, `SELECT `+msgCols+`, m.seq FROM messages m
			WHERE m.sender = ? AND m.id = ? AND m.outgoing = 1`, sender, id), &seq)
		if err != nil {
			return mapErr(err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT d.recipient, d.attempts, d.next_attempt,
				EXISTS (SELECT 1 FROM contacts c WHERE c.username = d.recipient AND `+heldSQL+`),
				EXISTS (SELECT 1 FROM deliveries e WHERE e.recipient = d.recipient AND e.state = 'queued'
					AND e.message < d.message)
			FROM deliveries d WHERE d.message = ? AND d.state = 'queued' ORDER BY d.recipient`, seq)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				it           = OutboxItem{Message: m}
				next         sql.NullInt64
				held, behind bool
			)
			if err := rows.Scan(&it.To, &it.Attempts, &next, &held, &behind); err != nil {
				return err
			}
			it.NextAttempt = timeOf(next)
			switch {
			case held:
				out.Held = append(out.Held, it.To)
			case behind:
				out.Behind = append(out.Behind, it.To)
			default:
				out.Heads = append(out.Heads, it)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return Fanout{}, fmt.Errorf("queued copies of %s: %w", id, err)
	}
	return out, nil
}

// DoneMany is Done for many recipients of one message, in one
// transaction that recomputes the message's state once. Recipients with
// no copy of the message are skipped; like Done it waits for no fsync of
// its own.
func (s *Store) DoneMany(ctx context.Context, id string, to []string, via Via) error {
	target := StateSent
	switch via {
	case ViaDirect:
		target = StateDelivered
	case ViaRelay:
	default:
		return fmt.Errorf("done %s: %w", id, invalid("via %q", via))
	}
	if len(to) == 0 {
		return nil
	}
	err := s.bookkeep(ctx, func(ctx context.Context, tx *sql.Tx) error {
		q := ptx{tx, s.stmts}
		seq := int64(-1) // the message, once a copy advanced
		for _, r := range to {
			var (
				ms  int64
				cur State
			)
			err := q.QueryRowContext(ctx, sqlCopyState, id, r).Scan(&ms, &cur)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if cur.rank() >= target.rank() {
				continue
			}
			seq = ms
			if _, err := q.ExecContext(ctx, sqlAdvanceCopy, string(target), string(via), ms, r, ""); err != nil {
				return err
			}
		}
		if seq < 0 {
			return nil
		}
		_, err := q.ExecContext(ctx, sqlMessageState, seq, string(via))
		return err
	})
	if err != nil {
		return fmt.Errorf("done %s to %d recipients: %w", id, len(to), err)
	}
	return nil
}
