package history

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The outbox is the set of (outgoing message, recipient) copies that have
// not left this peer yet. AddOutgoing stores a message and its copies in
// one transaction, so a message is never in history without being queued
// for each of its recipients, nor queued without being in history. Each
// copy moves forward on its own (queued → sent → failed or delivered); the
// message's State is queued while any copy is, else failed if any copy
// failed, else the least advanced of its copies'. Outgoing messages are
// this user's, so the id alone names one here.
//
// What the outbox keeps is the message row itself: the daemon rebuilds
// the wire form (the signed inner message, sealed to the recipient's
// current prekey for the relay) at send time from the Message, which
// carries every signed field. Ed25519 signatures are deterministic, so a
// resend is byte-for-byte the same message.

// OutboxItem is one copy of an outgoing message waiting for a path to its
// recipient.
type OutboxItem struct {
	Message Message
	// To is the recipient's username.
	To string
	// Attempts counts the failed tries recorded by Attempted.
	Attempts int
	// NextAttempt is when the daemon wanted to try again, as given to
	// Attempted; zero if never tried.
	NextAttempt time.Time
}

// AddOutgoing stores a message this user wrote, in state queued, with one
// outbox copy per recipient in to, all in one transaction. A direct
// message has exactly one recipient, the conversation's user; a group
// message has one per member other than the sender. Like AddIncoming it is
// idempotent on the message id: if the same message is already stored it
// returns false and changes nothing; if the id belongs to a different
// message, ErrConflict. m.Outgoing, m.State and m.Via are ignored.
func (s *Store) AddOutgoing(ctx context.Context, m Message, to []string) (inserted bool, err error) {
	m.Outgoing, m.State, m.Via = true, StateQueued, ViaNone
	if err := m.check(); err != nil {
		return false, fmt.Errorf("add outgoing %s: %w", m.ID, err)
	}
	recipients, err := checkRecipients(m, to)
	if err != nil {
		return false, fmt.Errorf("add outgoing %s: %w", m.ID, err)
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		q := ptx{tx, s.stmts}
		dup, err := duplicate(ctx, q, m)
		if err != nil || dup {
			return err
		}
		if _, err := q.ExecContext(ctx, sqlConvOut, m.Conversation, m.Received.UnixNano()); err != nil {
			return err
		}
		seq, err := insertMessage(ctx, q, m)
		if err != nil {
			return err
		}
		for _, r := range recipients {
			if _, err := q.ExecContext(ctx, sqlInsertDelivery, seq, r); err != nil {
				return err
			}
		}
		inserted = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("add outgoing %s: %w", m.ID, err)
	}
	return inserted, nil
}

// checkRecipients validates the recipients of an outgoing message and
// returns them without duplicates, in the order given.
func checkRecipients(m Message, to []string) ([]string, error) {
	if len(to) == 0 {
		return nil, invalid("no recipients")
	}
	out := make([]string, 0, len(to))
	seen := make(map[string]bool, len(to))
	for _, r := range to {
		if err := checkUser(r); err != nil {
			return nil, err
		}
		if r == m.From {
			return nil, invalid("sender %s among the recipients", r)
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	if kind, user, _ := parseConversation(m.Conversation); kind == 'u' && (len(out) != 1 || out[0] != user) {
		return nil, invalid("a direct message to %s goes to %s alone", user, user)
	}
	return out, nil
}

// Pending returns up to limit outbox copies for recipient to, in the order
// their messages were written, which keeps each conversation in order.
// If to is held (their key changed and is not yet trusted) it returns
// ErrHeld: nothing may go to them. No items if limit <= 0.
func (s *Store) Pending(ctx context.Context, to string, limit int) ([]OutboxItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []OutboxItem
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		out = nil
		var held bool
		q := rtx{tx, s.rstmts}
		if err := q.QueryRowContext(ctx, sqlHeld, to).Scan(&held); err != nil {
			return err
		}
		if held {
			return ErrHeld
		}
		rows, err := q.QueryContext(ctx, sqlPending, to, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				it   OutboxItem
				next sql.NullInt64
				err  error
			)
			it.Message, err = scanMessage(rows, &it.To, &it.Attempts, &next)
			if err != nil {
				return err
			}
			it.NextAttempt = timeOf(next)
			out = append(out, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("outbox for %s: %w", to, err)
	}
	return out, nil
}

// PendingRecipients lists, by name, the recipients who have copies in the
// outbox, leaving out held ones.
func (s *Store) PendingRecipients(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT d.recipient FROM deliveries d
		WHERE d.state = 'queued' AND NOT EXISTS (SELECT 1 FROM contacts c
			WHERE c.username = d.recipient AND `+heldSQL+`)
		ORDER BY d.recipient`)
	if err != nil {
		return nil, fmt.Errorf("outbox recipients: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("outbox recipients: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox recipients: %w", err)
	}
	return out, nil
}

// Done takes the copy of message id for recipient to out of the outbox,
// once its path acknowledged it: over ViaDirect that is the recipient's
// peer acknowledging its commit, so the copy is delivered; over ViaRelay
// it is the server acknowledging its commit, so the copy is sent (and
// Delivered may follow on a receipt). States only move forward: Done on a
// copy already as far or further changes nothing and is not an error.
// ErrNotFound if there is no such copy. Done is committed when it returns
// but durable only with the next durable write (or checkpoint): a power
// loss may undo it, and the copy is then sent again.
func (s *Store) Done(ctx context.Context, id, to string, via Via) error {
	target := StateSent
	switch via {
	case ViaDirect:
		target = StateDelivered
	case ViaRelay:
	default:
		return fmt.Errorf("done %s to %s: %w", id, to, invalid("via %q", via))
	}
	// Bookkeeping: lost with the machine, the copy is back in the outbox
	// and sent again, and the recipient stores it once (message ids are
	// unique), so Done waits for no fsync of its own.
	err := s.bookkeep(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return advanceTx(ctx, ptx{tx, s.stmts}, id, to, target, via, "")
	})
	if err != nil {
		return fmt.Errorf("done %s to %s: %w", id, to, err)
	}
	return nil
}

// Delivered records that recipient to's peer acknowledged committing
// message id to its history, for example in a receipt after a relayed
// delivery. A copy still in the outbox leaves it. ErrNotFound if there is
// no such copy.
func (s *Store) Delivered(ctx context.Context, id, to string) error {
	if err := s.advance(ctx, id, to, StateDelivered, ViaNone, ""); err != nil {
		return fmt.Errorf("delivered %s to %s: %w", id, to, err)
	}
	return nil
}

// Failed records that the relay dropped the copy of message id for
// recipient to for good, and why (a sentence for the user). A copy
// already delivered stays delivered; a later Delivered still moves a
// failed copy on. ErrNotFound if there is no such copy.
func (s *Store) Failed(ctx context.Context, id, to, why string) error {
	if err := s.advance(ctx, id, to, StateFailed, ViaNone, why); err != nil {
		return fmt.Errorf("failed %s to %s: %w", id, to, err)
	}
	return nil
}

// advance moves one copy forward to target (never back) and recomputes
// the message's state from its copies' (see the top of this file). A
// non-empty via is recorded on the copy and on the message; why is the
// reason of a failed copy.
func (s *Store) advance(ctx context.Context, id, to string, target State, via Via, why string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return advanceTx(ctx, ptx{tx, s.stmts}, id, to, target, via, why)
	})
}

// advanceTx is advance in the caller's transaction.
func advanceTx(ctx context.Context, tx querier, id, to string, target State, via Via, why string) error {
	var (
		seq int64
		cur State
	)
	err := tx.QueryRowContext(ctx, sqlCopyState, id, to).Scan(&seq, &cur)
	if err != nil {
		return mapErr(err)
	}
	if cur.rank() >= target.rank() {
		return nil
	}
	if _, err := tx.ExecContext(ctx, sqlAdvanceCopy, string(target), string(via), seq, to, why); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, sqlMessageState, seq, string(via))
	return err
}

// Attempted records a failed try to send message id to recipient to: it
// counts the attempt and keeps next, when the daemon means to try again
// (its back-off). ErrNotFound if the copy is not in the outbox. Like Done
// it waits for no fsync of its own.
func (s *Store) Attempted(ctx context.Context, id, to string, next time.Time) error {
	err := s.bookkeep(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n, err := execN(ctx, ptx{tx, s.stmts}, sqlAttempted, nsOf(next), id, to)
		if err == nil && n == 0 {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("attempted %s to %s: %w", id, to, err)
	}
	return nil
}
