package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/lanchat/lanchat/internal/wire"
)

// Files in the timeline: every transfer, both ways, is an item of its
// conversation, a message of kind KindFile that this side writes for
// itself (it does not travel: the transfer does). Body is the name it
// shows, so search and the conversation previews find it; Meta is the
// daemon's record of the transfer, updated when its state changes. A
// send to a group is one transfer per member and one item.

// KindFile is the kind of a transfer's item.
const KindFile = "file"

// MaxFileTransfers bounds the transfers one item stands for.
const MaxFileTransfers = 1024

// AddFile stores the item of transfers in m.Conversation, linked to each
// of them. m.Outgoing says whether this user sent them: an outgoing item
// is in state sent and has no outbox copy; an incoming one counts as
// unread and, being this side's own record, is never named in a read
// receipt. It is idempotent on the transfers: when one of them has an
// item already, it returns that item and false, and changes nothing.
func (s *Store) AddFile(ctx context.Context, m Message, transfers []string) (Message, bool, error) {
	m.Kind = KindFile
	m.State = StateReceived
	if m.Outgoing {
		m.State = StateSent
	}
	m.Via = ViaNone
	if err := m.check(); err != nil {
		return Message{}, false, fmt.Errorf("add file %s: %w", m.ID, err)
	}
	if len(transfers) == 0 || len(transfers) > MaxFileTransfers {
		return Message{}, false, fmt.Errorf("add file %s: %w", m.ID, invalid("1 to %d transfers", MaxFileTransfers))
	}
	for _, t := range transfers {
		if wire.CheckMessageID("transfer", t) != nil {
			return Message{}, false, fmt.Errorf("add file %s: %w", m.ID, invalid("transfer id %q must be 32 lower-case hex digits", t))
		}
	}
	if kind, user, _ := parseConversation(m.Conversation); !m.Outgoing && kind == 'u' && user != m.From {
		return Message{}, false, fmt.Errorf("add file %s: %w", m.ID, invalid("a file from %s in %s", m.From, m.Conversation))
	}
	var (
		out      = m
		inserted bool
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out, inserted = m, false
		for _, t := range transfers {
			old, err := fileItemTx(ctx, tx, t)
			if err == nil {
				out = old
				return nil
			}
			if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		q := ptx{tx, s.stmts}
		convSQL := sqlConvIn
		if m.Outgoing {
			convSQL = sqlConvOut
		}
		if _, err := q.ExecContext(ctx, convSQL, m.Conversation, m.Received.UnixNano()); err != nil {
			return err
		}
		seq, err := insertMessage(ctx, q, m)
		if err != nil {
			return err
		}
		if !m.Outgoing {
			if _, err := tx.ExecContext(ctx, `UPDATE messages SET seen = received WHERE seq = ?`, seq); err != nil {
				return err
			}
		}
		for _, t := range transfers {
			if _, err := tx.ExecContext(ctx, `INSERT INTO file_items (transfer, message) VALUES (?, ?)
				ON CONFLICT (transfer) DO NOTHING`, t, seq); err != nil {
				return err
			}
		}
		inserted = true
		return nil
	})
	if err != nil {
		return Message{}, false, fmt.Errorf("add file %s: %w", m.ID, mapErr(err))
	}
	return out, inserted, nil
}

// FileItem returns the item of transfer id and every transfer linked to
// it, in the order they were linked; ErrNotFound if it has none.
func (s *Store) FileItem(ctx context.Context, transfer string) (Message, []string, error) {
	var (
		m   Message
		ids []string
	)
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = fileItemTx(ctx, tx, transfer)
		if err != nil {
			return err
		}
		ids, err = fileTransfers(ctx, tx, m)
		return err
	})
	if err != nil {
		return Message{}, nil, fmt.Errorf("file item of %s: %w", transfer, mapErr(err))
	}
	return m, ids, nil
}

// FileTransfers returns the transfers linked to the file item (from, id).
func (s *Store) FileTransfers(ctx context.Context, from, id string) ([]string, error) {
	var ids []string
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		var err error
		ids, err = fileTransfers(ctx, tx, Message{From: from, ID: id})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("transfers of %s: %w", id, err)
	}
	return ids, nil
}

// SetFileMeta replaces the Meta of the file item (from, id).
func (s *Store) SetFileMeta(ctx context.Context, from, id, meta string) error {
	if len(meta) > MaxMeta || !strings.HasPrefix(meta, "{") {
		return fmt.Errorf("file item %s: %w", id, invalid("meta must be a JSON object of at most %d bytes", MaxMeta))
	}
	res, err := s.w.ExecContext(ctx, `UPDATE messages SET meta = ? WHERE sender = ? AND id = ? AND kind = ?`, meta, from, id, KindFile)
	if err != nil {
		return fmt.Errorf("file item %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("file item %s: %w", id, ErrNotFound)
	}
	return nil
}

// fileItemTx reads the item transfer is linked to.
func fileItemTx(ctx context.Context, tx *sql.Tx, transfer string) (Message, error) {
	m, err := scanMessage(tx.QueryRowContext(ctx, `SELECT `+msgCols+` FROM file_items f
		JOIN messages m ON m.seq = f.message WHERE f.transfer = ?`, transfer))
	return m, mapErr(err)
}

// fileTransfers lists the transfers linked to item m.
func fileTransfers(ctx context.Context, tx *sql.Tx, m Message) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT f.transfer FROM file_items f JOIN messages m ON m.seq = f.message
		WHERE m.sender = ? AND m.id = ? ORDER BY f.rowid`, m.From, m.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
