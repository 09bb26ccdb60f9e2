package history

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// Parked envelopes are relayed messages the daemon took off the server
// (so that none can hold the relay's delivery window) but cannot act on
// yet. The daemon re-examines them after a roster sync and after a trust,
// and drops them after the relay's retention time. What one sender can
// park, and what all can, is bounded: the oldest go first.

// ParkReason says why an envelope waits.
type ParkReason string

// The reasons.
const (
	// ParkHeld: the sender's key changed and is not trusted yet. The
	// envelope stays sealed: nothing of a held contact's is opened into
	// history until the user trusts the new key.
	ParkHeld ParkReason = "held"
	// ParkGroup: the message is for a group (Parked.Group) this daemon
	// does not know the sender to be a member of.
	ParkGroup ParkReason = "group"
	// ParkContact: the sender is neither a friend nor a co-member now.
	ParkContact ParkReason = "contact"
	// ParkRetry: opening it failed for a reason that may pass (the
	// sender's key could not be fetched, the database was busy).
	ParkRetry ParkReason = "retry"
)

// Parked is one parked envelope.
type Parked struct {
	Seq    int64 // set by the store, increasing in parking order
	Sender string
	ID     string
	Reason ParkReason
	// Group is the group id the opened envelope named; "" if unknown.
	Group    string
	Envelope []byte
	// At is when the relay took the message; Parked when this store did.
	At     time.Time
	Parked time.Time
}

// ParkLimits bound the parked store: per sender and in all, in count and
// bytes of envelope. Zero or less is no limit.
type ParkLimits struct {
	SenderCount int
	SenderBytes int64
	TotalCount  int
	TotalBytes  int64
}

// Park stores envelopes in one transaction, durably before it returns
// (only then may the relay be told to delete them). An envelope already
// parked under the same (sender, id) keeps its place and takes the new
// reason and group. Then the oldest envelopes beyond lim are deleted, in
// the same transaction, and returned (without their bytes) so that the
// caller can log them.
func (s *Store) Park(ctx context.Context, ps []Parked, lim ParkLimits) ([]Parked, error) {
	for _, p := range ps {
		if err := checkUser(p.Sender); err != nil {
			return nil, fmt.Errorf("park: %w", err)
		}
		if werr := wire.CheckMessageID("id", p.ID); werr != nil {
			return nil, fmt.Errorf("park: %w", invalid("message id %q", p.ID))
		}
		switch p.Reason {
		case ParkHeld, ParkGroup, ParkContact, ParkRetry:
		default:
			return nil, fmt.Errorf("park: %w", invalid("reason %q", p.Reason))
		}
	}
	var dropped []Parked
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		dropped = nil
		senders := map[string]bool{}
		for _, p := range ps {
			if p.Parked.IsZero() {
				p.Parked = time.Now()
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO parked (sender, id, reason, grp, envelope, size, at, parked)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (sender, id) DO UPDATE SET reason = excluded.reason, grp = excluded.grp`,
				p.Sender, p.ID, string(p.Reason), p.Group, p.Envelope, len(p.Envelope),
				p.At.UnixNano(), p.Parked.UnixNano()); err != nil {
				return err
			}
			senders[p.Sender] = true
		}
		for u := range senders {
			d, err := trimParked(ctx, tx, `WHERE sender = ?`, lim.SenderCount, lim.SenderBytes, u)
			if err != nil {
				return err
			}
			dropped = append(dropped, d...)
		}
		d, err := trimParked(ctx, tx, ``, lim.TotalCount, lim.TotalBytes)
		if err != nil {
			return err
		}
		dropped = append(dropped, d...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("park %d envelopes: %w", len(ps), err)
	}
	return dropped, nil
}

// trimParked deletes the oldest parked rows matching where beyond the
// newest maxCount rows or maxBytes bytes, and returns them.
func trimParked(ctx context.Context, tx *sql.Tx, where string, maxCount int, maxBytes int64, args ...any) ([]Parked, error) {
	if maxCount <= 0 {
		maxCount = 1<<63 - 1
	}
	if maxBytes <= 0 {
		maxBytes = 1<<63 - 1
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, sender, id, reason, grp, at, parked FROM (
			SELECT seq, sender, id, reason, grp, at, parked,
				row_number() OVER (ORDER BY seq DESC) AS n,
				sum(size) OVER (ORDER BY seq DESC) AS run
			FROM parked `+where+`)
		WHERE n > ? OR run > ? ORDER BY seq`, append(args, maxCount, maxBytes)...)
	if err != nil {
		return nil, err
	}
	var out []Parked
	for rows.Next() {
		var (
			p          Parked
			at, parked int64
		)
		if err := rows.Scan(&p.Seq, &p.Sender, &p.ID, &p.Reason, &p.Group, &at, &parked); err != nil {
			rows.Close()
			return nil, err
		}
		p.At, p.Parked = time.Unix(0, at).UTC(), time.Unix(0, parked).UTC()
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, p := range out {
		if _, err := tx.ExecContext(ctx, `DELETE FROM parked WHERE seq = ?`, p.Seq); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ParkedAfter returns parked envelopes with Seq > after, oldest first, at
// most limit (none if limit <= 0): a page of the whole parked store,
// without the envelopes' bytes (ParkedEnvelope reads them).
func (s *Store) ParkedAfter(ctx context.Context, after int64, limit int) ([]Parked, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, sender, id, reason, grp, at, parked FROM parked
		WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("parked envelopes: %w", err)
	}
	defer rows.Close()
	var out []Parked
	for rows.Next() {
		var (
			p          Parked
			at, parked int64
		)
		if err := rows.Scan(&p.Seq, &p.Sender, &p.ID, &p.Reason, &p.Group, &at, &parked); err != nil {
			return nil, fmt.Errorf("parked envelopes: %w", err)
		}
		p.At, p.Parked = time.Unix(0, at).UTC(), time.Unix(0, parked).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("parked envelopes: %w", err)
	}
	return out, nil
}

// ParkedEnvelope returns the bytes of the parked envelope seq;
// ErrNotFound if it is gone.
func (s *Store) ParkedEnvelope(ctx context.Context, seq int64) ([]byte, error) {
	var b []byte
	if err := s.r.QueryRowContext(ctx, `SELECT envelope FROM parked WHERE seq = ?`, seq).Scan(&b); err != nil {
		return nil, fmt.Errorf("parked envelope %d: %w", seq, mapErr(err))
	}
	return b, nil
}

// Unpark deletes sender's parked envelope id, once it is in history or
// dropped for good. No error if it is not parked.
func (s *Store) Unpark(ctx context.Context, sender, id string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM parked WHERE sender = ? AND id = ?`, sender, id); err != nil {
		return fmt.Errorf("unpark %s from %s: %w", id, sender, err)
	}
	return nil
}

// ParkedCount returns how many envelopes are parked.
func (s *Store) ParkedCount(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM parked`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count parked envelopes: %w", err)
	}
	return n, nil
}
