package history

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// Transfer records are the daemon's list of file transfers, both ways:
// what the user sent and to whom, what was offered to them, and how each
// one stands. The bytes themselves and the receiver's resume state are
// the transfer package's business (see Checkpoints); a record is what
// lanchat transfers shows and what the daemon resumes after a restart.

// TransferState is where a transfer stands. The daemon owns the state
// machine: UpdateTransfer accepts any state the direction allows, so that
// a transfer can be offered again or retried.
type TransferState string

// The transfer states.
const (
	TransferQueued    TransferState = "queued"    // outgoing, waiting for a direct path
	TransferOffered   TransferState = "offered"   // incoming, waiting for the user's accept/reject
	TransferActive    TransferState = "active"    // moving now
	TransferWaiting   TransferState = "waiting"   // interrupted; resumes by itself when a path is back
	TransferDone      TransferState = "done"      // every file arrived and verified
	TransferFailed    TransferState = "failed"    // stopped for a reason a retry does not fix
	TransferCancelled TransferState = "cancelled" // stopped by a user
	TransferRejected  TransferState = "rejected"  // the receiving user declined
)

// Final reports whether the state is done, failed, cancelled or rejected.
func (s TransferState) Final() bool {
	switch s {
	case TransferDone, TransferFailed, TransferCancelled, TransferRejected:
		return true
	}
	return false
}

// valid reports whether s is one of the states above.
func (s TransferState) valid() bool {
	switch s {
	case TransferQueued, TransferOffered, TransferActive, TransferWaiting:
		return true
	}
	return s.Final()
}

// Bounds of a transfer record, checked by AddTransfer and UpdateTransfer.
const (
	// MaxTransferPaths bounds the local paths of one outgoing transfer.
	MaxTransferPaths = 1000
	// MaxPathBytes bounds each path and the destination directory.
	MaxPathBytes = 4096
	// MaxTransferName bounds Name.
	MaxTransferName = 1024
	// MaxTransferError bounds Error.
	MaxTransferError = 4096
)

// Transfer is one file transfer, sent or received. A transfer to a group
// is one record per member, each with its own id.
type Transfer struct {
	// ID is the offer's id, 32 lower-case hex digits (transfer.NewID).
	ID       string
	Outgoing bool
	// Peer is the contact's username, in canonical form.
	Peer string
	// Group is the group id when the transfer was sent to a #group, else "".
	Group string
	State TransferState
	// Paths are, for an outgoing transfer, the absolute local paths
	// offered: at least one, at most MaxTransferPaths of at most
	// MaxPathBytes each. An incoming transfer has none.
	Paths []string
	// Dir is, for an incoming transfer, the absolute destination
	// directory, "" until accepted. An outgoing transfer has none.
	Dir string
	// Name is a one-line summary for lists ("report.pdf", "photos/ and 2
	// more"), at most MaxTransferName bytes.
	Name  string
	Files int
	Total int64
	// Done counts the bytes done (verified, for an incoming transfer).
	Done int64
	// Error says, for the user, why the transfer failed, was rejected or
	// waits; at most MaxTransferError bytes.
	Error string
	// Created is when the transfer was recorded (now, if zero when
	// added); lists are ordered by it. Updated is when UpdateTransfer
	// last changed it. NextAttempt is when the daemon means to try again.
	Created, Updated, NextAttempt time.Time
	// Attempts counts the daemon's tries at moving it.
	Attempts int
	// NoticeOwed marks an outgoing transfer the user cancelled whose
	// receiver may still hold it (offered, accepted, or waiting to
	// resume) and has not acknowledged the cancel notice yet. Only a
	// cancelled outgoing transfer has it.
	NoticeOwed bool
}

// clone returns a copy that shares no memory with t.
func (t Transfer) clone() Transfer {
	t.Paths = slices.Clone(t.Paths)
	return t
}

// equal reports whether t and u hold the same values.
func (t *Transfer) equal(u *Transfer) bool {
	return t.ID == u.ID && t.Outgoing == u.Outgoing && t.Peer == u.Peer && t.Group == u.Group &&
		t.State == u.State && slices.Equal(t.Paths, u.Paths) && t.Dir == u.Dir && t.Name == u.Name &&
		t.Files == u.Files && t.Total == u.Total && t.Done == u.Done && t.Error == u.Error &&
		t.Created.Equal(u.Created) && t.Updated.Equal(u.Updated) && t.NextAttempt.Equal(u.NextAttempt) &&
		t.Attempts == u.Attempts && t.NoticeOwed == u.NoticeOwed
}

// check validates a record against the rules in Transfer's documentation.
func (t *Transfer) check() error {
	if werr := wire.CheckMessageID("id", t.ID); werr != nil {
		return invalid("transfer id %q must be 32 lower-case hex digits", t.ID)
	}
	if err := checkUser(t.Peer); err != nil {
		return err
	}
	if t.Group != "" {
		if werr := wire.CheckMessageID("group", t.Group); werr != nil {
			return invalid("group id %q must be 32 lower-case hex digits", t.Group)
		}
	}
	switch {
	case !t.State.valid():
		return invalid("transfer state %q", t.State)
	case t.Outgoing && t.State == TransferOffered:
		return invalid("an outgoing transfer is never %s", t.State)
	case !t.Outgoing && t.State == TransferQueued:
		return invalid("an incoming transfer is never %s", t.State)
	case t.NoticeOwed && (!t.Outgoing || t.State != TransferCancelled):
		return invalid("only a cancelled outgoing transfer owes a cancel notice")
	}
	if t.Outgoing {
		if len(t.Paths) == 0 || len(t.Paths) > MaxTransferPaths {
			return invalid("%d paths: want 1 to %d", len(t.Paths), MaxTransferPaths)
		}
		for _, p := range t.Paths {
			if err := checkLocalPath("path", p); err != nil {
				return err
			}
		}
		if t.Dir != "" {
			return invalid("an outgoing transfer has no destination directory")
		}
	} else {
		if len(t.Paths) != 0 {
			return invalid("an incoming transfer has no local paths")
		}
		if t.Dir != "" {
			if err := checkLocalPath("destination directory", t.Dir); err != nil {
				return err
			}
		}
	}
	switch {
	case len(t.Name) > MaxTransferName:
		return invalid("name longer than %d bytes", MaxTransferName)
	case len(t.Error) > MaxTransferError:
		return invalid("error longer than %d bytes", MaxTransferError)
	case t.Files < 0 || t.Total < 0 || t.Done < 0 || t.Attempts < 0:
		return invalid("negative count")
	case t.Created.IsZero():
		return invalid("created time missing")
	}
	return nil
}

// checkLocalPath accepts an absolute path of this machine. It need not be
// UTF-8: file names on disk are bytes.
func checkLocalPath(what, p string) error {
	switch {
	case len(p) > MaxPathBytes:
		return invalid("%s longer than %d bytes", what, MaxPathBytes)
	case strings.IndexByte(p, 0) >= 0:
		return invalid("%s contains a NUL byte", what)
	case !filepath.IsAbs(p):
		return invalid("%s %q is not absolute", what, p)
	}
	return nil
}

// AddTransfer records a new transfer. A zero Created means now, a zero
// Updated means Created. ErrConflict if the id is already recorded,
// ErrInvalid if t breaks the rules in Transfer's documentation.
func (s *Store) AddTransfer(ctx context.Context, t Transfer) error {
	if t.Created.IsZero() {
		t.Created = time.Now()
	}
	if t.Updated.IsZero() {
		t.Updated = t.Created
	}
	if err := t.check(); err != nil {
		return fmt.Errorf("add transfer %s: %w", t.ID, err)
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var taken bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM transfers WHERE id = ?)`,
			t.ID).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return ErrConflict
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO transfers (id, outgoing, peer, grp, state, dir, name,
			files, total, done, error, created, updated, next_attempt, attempts, notice_owed)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Outgoing, t.Peer, t.Group, string(t.State), t.Dir, t.Name, t.Files, t.Total, t.Done,
			t.Error, t.Created.UnixNano(), t.Updated.UnixNano(), nsOf(t.NextAttempt), t.Attempts, t.NoticeOwed); err != nil {
			return err
		}
		return insertPaths(ctx, tx, t.ID, t.Paths)
	})
	if err != nil {
		return fmt.Errorf("add transfer %s: %w", t.ID, err)
	}
	return nil
}

// insertPaths stores a transfer's local paths in order.
func insertPaths(ctx context.Context, tx *sql.Tx, id string, paths []string) error {
	for i, p := range paths {
		if _, err := tx.ExecContext(ctx, `INSERT INTO transfer_paths (transfer, seq, path) VALUES (?, ?, ?)`,
			id, i, p); err != nil {
			return err
		}
	}
	return nil
}

// Transfer returns one transfer; ErrNotFound if id is not recorded.
func (s *Store) Transfer(ctx context.Context, id string) (Transfer, error) {
	var t Transfer
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = readTransfer(ctx, tx, id)
		return err
	})
	if err != nil {
		return Transfer{}, fmt.Errorf("transfer %s: %w", id, err)
	}
	return t, nil
}

// Transfers lists up to limit transfers, newest first. No transfers if
// limit <= 0.
func (s *Store) Transfers(ctx context.Context, limit int) ([]Transfer, error) {
	if limit <= 0 {
		return nil, nil
	}
	ts, err := s.listTransfers(ctx, `SELECT `+transferCols+` FROM transfers
		ORDER BY created DESC, rowid DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("transfers: %w", err)
	}
	return ts, nil
}

// ResumableTransfers lists the outgoing transfers the daemon still has to
// move, oldest first: those queued or waiting, and those active, which
// after a restart are the ones a daemon left in the middle (while it runs,
// the caller tells them from the ones it is sending now).
func (s *Store) ResumableTransfers(ctx context.Context) ([]Transfer, error) {
	ts, err := s.listTransfers(ctx, `SELECT `+transferCols+` FROM transfers
		WHERE outgoing = 1 AND state IN ('queued', 'waiting', 'active') ORDER BY created, rowid`)
	if err != nil {
		return nil, fmt.Errorf("resumable transfers: %w", err)
	}
	return ts, nil
}

// CancelNotices lists the outgoing transfers that owe their receiver a
// cancel notice (NoticeOwed), oldest first.
func (s *Store) CancelNotices(ctx context.Context) ([]Transfer, error) {
	ts, err := s.listTransfers(ctx, `SELECT `+transferCols+` FROM transfers
		WHERE notice_owed = 1 ORDER BY created, rowid`)
	if err != nil {
		return nil, fmt.Errorf("cancel notices: %w", err)
	}
	return ts, nil
}

// PendingOffers lists the incoming transfers waiting for the user's
// accept or reject, oldest first.
func (s *Store) PendingOffers(ctx context.Context) ([]Transfer, error) {
	ts, err := s.listTransfers(ctx, `SELECT `+transferCols+` FROM transfers
		WHERE outgoing = 0 AND state = 'offered' ORDER BY created, rowid`)
	if err != nil {
		return nil, fmt.Errorf("pending offers: %w", err)
	}
	return ts, nil
}

// UpdateTransfer changes transfer id: it reads the record, lets fn change
// it and writes it back, all in one write transaction, so concurrent
// updates never undo each other. fn may not change ID, Outgoing or Peer
// (ErrInvalid), and the result must pass AddTransfer's checks; Updated is
// set to now. If fn returns an error nothing is written and UpdateTransfer
// returns it, wrapped; if fn changes nothing, nothing is written and
// Updated stays. It returns the record as stored. ErrNotFound if id is
// not recorded.
//
// A change that leaves Paths alone writes one row, so progress can be
// recorded every second.
func (s *Store) UpdateTransfer(ctx context.Context, id string, fn func(*Transfer) error) (Transfer, error) {
	var out Transfer
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		old, err := readTransfer(ctx, tx, id)
		if err != nil {
			return err
		}
		t := old.clone()
		if err := fn(&t); err != nil {
			return err
		}
		if t.ID != old.ID || t.Outgoing != old.Outgoing || t.Peer != old.Peer {
			return invalid("the id, direction and peer of a transfer never change")
		}
		if t.equal(&old) {
			out = old
			return nil
		}
		t.Updated = time.Now()
		if err := t.check(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE transfers SET grp = ?, state = ?, dir = ?, name = ?,
			files = ?, total = ?, done = ?, error = ?, created = ?, updated = ?, next_attempt = ?, attempts = ?,
			notice_owed = ?
			WHERE id = ?`,
			t.Group, string(t.State), t.Dir, t.Name, t.Files, t.Total, t.Done, t.Error,
			t.Created.UnixNano(), t.Updated.UnixNano(), nsOf(t.NextAttempt), t.Attempts, t.NoticeOwed, id); err != nil {
			return err
		}
		if !slices.Equal(t.Paths, old.Paths) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM transfer_paths WHERE transfer = ?`, id); err != nil {
				return err
			}
			if err := insertPaths(ctx, tx, id, t.Paths); err != nil {
				return err
			}
		}
		out = t.clone() // fn may keep the slice it set
		return nil
	})
	if err != nil {
		return Transfer{}, fmt.Errorf("update transfer %s: %w", id, err)
	}
	// Times come back from the database in UTC; keep the result alike.
	out.Created, out.Updated, out.NextAttempt = utc(out.Created), utc(out.Updated), utc(out.NextAttempt)
	return out, nil
}

// utc returns t in UTC, leaving the zero time alone.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Unix(0, t.UnixNano()).UTC()
}

// transferCols are the columns scanTransfer reads, in order.
const transferCols = `id, outgoing, peer, grp, state, dir, name, files, total, done, error,
	created, updated, next_attempt, attempts, notice_owed`

// scanTransfer reads the transferCols columns; Paths are not among them.
func scanTransfer(r rowScanner) (Transfer, error) {
	var (
		t                Transfer
		created, updated int64
		next             sql.NullInt64
	)
	if err := r.Scan(&t.ID, &t.Outgoing, &t.Peer, &t.Group, &t.State, &t.Dir, &t.Name, &t.Files, &t.Total,
		&t.Done, &t.Error, &created, &updated, &next, &t.Attempts, &t.NoticeOwed); err != nil {
		return Transfer{}, err
	}
	t.Created = time.Unix(0, created).UTC()
	t.Updated = time.Unix(0, updated).UTC()
	t.NextAttempt = timeOf(next)
	return t, nil
}

// readTransfer reads one record with its paths; ErrNotFound if there is
// none.
func readTransfer(ctx context.Context, tx *sql.Tx, id string) (Transfer, error) {
	t, err := scanTransfer(tx.QueryRowContext(ctx, `SELECT `+transferCols+` FROM transfers WHERE id = ?`, id))
	if err != nil {
		return Transfer{}, mapErr(err)
	}
	if t.Outgoing {
		if t.Paths, err = readPaths(ctx, tx, t.ID); err != nil {
			return Transfer{}, err
		}
	}
	return t, nil
}

// listTransfers runs a query of transferCols and fills in each outgoing
// record's paths, all from one snapshot.
func (s *Store) listTransfers(ctx context.Context, query string, args ...any) ([]Transfer, error) {
	var out []Transfer
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTransfer(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for i := range out {
			if !out[i].Outgoing {
				continue
			}
			if out[i].Paths, err = readPaths(ctx, tx, out[i].ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// readPaths reads a transfer's local paths in order.
func readPaths(ctx context.Context, tx *sql.Tx, id string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT path FROM transfer_paths WHERE transfer = ? ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var paths []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, rows.Err()
}
