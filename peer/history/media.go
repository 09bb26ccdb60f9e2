package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MediaTransfer links a transfer to the image or voice message whose full
// picture or recording it carries. The sender keeps one per recipient of
// the message; the receiver keeps the one meant for it, made when the
// message arrives, and accepts an offer of that transfer only as that
// picture (one file of Size bytes, from Sender).
type MediaTransfer struct {
	Transfer string // the transfer's id
	Sender   string // the message's identity: (Sender, Message)
	Message  string
	SHA256   string // of the picture or recording, 64 lower-case hex digits
	Size     int64
}

func (mt MediaTransfer) check() error {
	if err := checkUser(mt.Sender); err != nil {
		return err
	}
	if !isHex(mt.Transfer, 32) || !isHex(mt.Message, 32) || !isHex(mt.SHA256, 64) {
		return invalid("media transfer ids and sha256 must be lower-case hex")
	}
	if mt.Size < 1 {
		return invalid("media transfer of %d bytes", mt.Size)
	}
	return nil
}

// isHex reports whether s is n lower-case hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// AddMediaTransfer records transfer t and its link mt to a message, in
// one transaction (mt.Transfer must be t.ID). It is idempotent: if the
// same link is recorded already it returns false and changes nothing; if
// the transfer id is taken by anything else, ErrConflict.
func (s *Store) AddMediaTransfer(ctx context.Context, mt MediaTransfer, t Transfer) (inserted bool, err error) {
	if t.Created.IsZero() {
		t.Created = time.Now()
	}
	if t.Updated.IsZero() {
		t.Updated = t.Created
	}
	if mt.Transfer != t.ID {
		return false, fmt.Errorf("add media transfer %s: %w", mt.Transfer, invalid("link names transfer %s", t.ID))
	}
	if err := mt.check(); err != nil {
		return false, fmt.Errorf("add media transfer %s: %w", mt.Transfer, err)
	}
	if err := t.check(); err != nil {
		return false, fmt.Errorf("add media transfer %s: %w", mt.Transfer, err)
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		old, err := scanMediaTransfer(tx.QueryRowContext(ctx, sqlMediaTransfer, mt.Transfer))
		switch {
		case err == nil && old == mt:
			return nil
		case err == nil:
			return ErrConflict
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var taken bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM transfers WHERE id = ?)`, t.ID).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return ErrConflict
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO media_transfers (transfer, sender, message, sha256, size)
			VALUES (?, ?, ?, ?, ?)`, mt.Transfer, mt.Sender, mt.Message, mt.SHA256, mt.Size); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO transfers (id, outgoing, peer, grp, state, dir, name,
			files, total, done, error, created, updated, next_attempt, attempts, notice_owed)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Outgoing, t.Peer, t.Group, string(t.State), t.Dir, t.Name, t.Files, t.Total, t.Done,
			t.Error, t.Created.UnixNano(), t.Updated.UnixNano(), nsOf(t.NextAttempt), t.Attempts, t.NoticeOwed); err != nil {
			return err
		}
		inserted = true
		return insertPaths(ctx, tx, t.ID, t.Paths)
	})
	if err != nil {
		return false, fmt.Errorf("add media transfer %s: %w", mt.Transfer, err)
	}
	return inserted, nil
}

const sqlMediaTransfer = `SELECT transfer, sender, message, sha256, size FROM media_transfers WHERE transfer = ?`

func scanMediaTransfer(r rowScanner) (MediaTransfer, error) {
	var mt MediaTransfer
	err := r.Scan(&mt.Transfer, &mt.Sender, &mt.Message, &mt.SHA256, &mt.Size)
	return mt, err
}

// MediaTransferOf returns the link of transfer id; ErrNotFound if it
// carries no picture or recording.
func (s *Store) MediaTransferOf(ctx context.Context, id string) (MediaTransfer, error) {
	mt, err := scanMediaTransfer(s.r.QueryRowContext(ctx, sqlMediaTransfer, id))
	if err != nil {
		return MediaTransfer{}, fmt.Errorf("media transfer %s: %w", id, mapErr(err))
	}
	return mt, nil
}

// MediaTransfersOf returns the transfers that carry the picture or
// recording of message (sender, id): one per recipient on the sender's
// side, at most one on a receiver's.
func (s *Store) MediaTransfersOf(ctx context.Context, sender, id string) ([]MediaTransfer, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT transfer, sender, message, sha256, size FROM media_transfers
		WHERE sender = ? AND message = ? ORDER BY transfer LIMIT 1000`, sender, id)
	if err != nil {
		return nil, fmt.Errorf("media transfers of %s: %w", id, err)
	}
	defer rows.Close()
	var out []MediaTransfer
	for rows.Next() {
		mt, err := scanMediaTransfer(rows)
		if err != nil {
			return nil, fmt.Errorf("media transfers of %s: %w", id, err)
		}
		out = append(out, mt)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("media transfers of %s: %w", id, err)
	}
	return out, nil
}

// CopyState returns how far the copy of this user's message id for
// recipient to has gone (queued, sent, delivered or failed); ErrNotFound
// if there is no such copy.
func (s *Store) CopyState(ctx context.Context, id, to string) (State, error) {
	var (
		seq int64
		st  State
	)
	if err := s.r.QueryRowContext(ctx, sqlCopyState, id, to).Scan(&seq, &st); err != nil {
		return "", fmt.Errorf("copy of %s to %s: %w", id, to, mapErr(err))
	}
	return st, nil
}

// IncomingMediaTransfers returns the links of the incoming transfers that
// have not ended (at most 1000, oldest first): after a restart the
// daemon looks whether any of them finished just before it stopped.
func (s *Store) IncomingMediaTransfers(ctx context.Context) ([]MediaTransfer, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT m.transfer, m.sender, m.message, m.sha256, m.size
		FROM media_transfers m JOIN transfers t ON t.id = m.transfer
		WHERE t.outgoing = 0 AND t.state IN ('offered', 'active', 'waiting') ORDER BY t.created LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("incoming media transfers: %w", err)
	}
	defer rows.Close()
	var out []MediaTransfer
	for rows.Next() {
		mt, err := scanMediaTransfer(rows)
		if err != nil {
			return nil, fmt.Errorf("incoming media transfers: %w", err)
		}
		out = append(out, mt)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incoming media transfers: %w", err)
	}
	return out, nil
}
