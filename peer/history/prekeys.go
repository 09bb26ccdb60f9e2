package history

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// Prekey is the secret half of one of this user's prekeys: the HPKE
// private key that opens envelopes relayed to the matching public prekey
// (see package keys). It is key material: String, GoString and LogValue
// show only the id, so printing or logging a Prekey never leaks it.
type Prekey struct {
	// ID is keys.SignedPrekey.ID of the public half.
	ID string
	// Secret is the private key's bytes.
	Secret  []byte
	Created time.Time
	// Expires is when the public half stops being valid. Senders may
	// seal to it until then, and the relay keeps envelopes for its
	// retention time after that, so the secret must outlive Expires by
	// the retention time: see DeletePrekeysBefore.
	Expires time.Time
}

// String names the prekey without its secret.
func (p Prekey) String() string { return "prekey " + p.ID }

// GoString names the prekey without its secret, for %#v.
func (p Prekey) GoString() string { return fmt.Sprintf("history.Prekey{ID: %q}", p.ID) }

// LogValue names the prekey without its secret, for log/slog.
func (p Prekey) LogValue() slog.Value { return slog.StringValue(p.ID) }

// SavePrekey stores a prekey secret; ErrExists if one with the same id is
// stored.
func (s *Store) SavePrekey(ctx context.Context, p Prekey) error {
	switch {
	case p.ID == "":
		return fmt.Errorf("save prekey: %w", invalid("empty id"))
	case len(p.Secret) == 0:
		return fmt.Errorf("save prekey %s: %w", p.ID, invalid("empty secret"))
	case p.Created.IsZero() || !p.Expires.After(p.Created):
		return fmt.Errorf("save prekey %s: %w", p.ID, invalid("expiry must follow creation"))
	}
	if _, err := execN(ctx, s.w, `INSERT INTO prekeys (id, secret, created, expires) VALUES (?, ?, ?, ?)`,
		p.ID, p.Secret, p.Created.UnixNano(), p.Expires.UnixNano()); err != nil {
		return fmt.Errorf("save prekey %s: %w", p.ID, err)
	}
	return nil
}

// Prekey returns the prekey with the given id, to open an envelope sealed
// to it; ErrNotFound if it is unknown or was deleted.
func (s *Store) Prekey(ctx context.Context, id string) (Prekey, error) {
	p, err := scanPrekey(s.rqueryRow(ctx, sqlPrekey, id))
	if err != nil {
		return Prekey{}, fmt.Errorf("prekey %s: %w", id, err)
	}
	return p, nil
}

// CurrentPrekey returns the most recently created prekey, the one whose
// public half should be published; ErrNotFound if there is none. The
// caller rotates it when it nears expiry.
func (s *Store) CurrentPrekey(ctx context.Context) (Prekey, error) {
	p, err := scanPrekey(s.r.QueryRowContext(ctx, `SELECT id, secret, created, expires FROM prekeys
		ORDER BY created DESC, id DESC LIMIT 1`))
	if err != nil {
		return Prekey{}, fmt.Errorf("current prekey: %w", err)
	}
	return p, nil
}

// DeletePrekeysBefore deletes the prekey secrets that expired before t and
// returns how many it deleted. The caller passes now minus the relay's
// retention time, so no envelope the relay may still deliver was sealed to
// a deleted key. The current prekey (see CurrentPrekey) is never deleted:
// its public half is the one published. Deleted secrets are overwritten in
// the database file (secure_delete) and the write-ahead log is
// checkpointed and truncated so no copy lingers there.
func (s *Store) DeletePrekeysBefore(ctx context.Context, t time.Time) (int, error) {
	n, err := execN(ctx, s.w, `DELETE FROM prekeys WHERE expires < ?
		AND id != (SELECT id FROM prekeys ORDER BY created DESC, id DESC LIMIT 1)`, t.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("delete prekeys: %w", err)
	}
	if n > 0 {
		// Best effort: a reader in the middle of a transaction can keep
		// the log from being truncated now; a later checkpoint will.
		if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return n, fmt.Errorf("delete prekeys: checkpoint: %w", err)
		}
	}
	return n, nil
}

// scanPrekey reads one prekey row.
func scanPrekey(row *sql.Row) (Prekey, error) {
	var (
		p                Prekey
		created, expires int64
	)
	if err := row.Scan(&p.ID, &p.Secret, &created, &expires); err != nil {
		return Prekey{}, mapErr(err)
	}
	p.Created, p.Expires = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
	return p, nil
}
