package history

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// Read receipts. Seen messages owe their senders a read receipt (when the
// user's send-read-receipts setting allows); MarkSeen records them and
// says which. A read receipt from a recipient of an outgoing message is
// recorded per reader, so a group message shows "read by 3 of 5".

// MaxReadIDs bounds the messages one MarkReadBy names
// (content.MaxReadIDs).
const MaxReadIDs = 256

// MarkSeen marks every incoming message of conv not seen yet as seen at
// at, sets the conversation's unread count to zero (as MarkRead), and
// returns the ids of the messages it marked, by sender, oldest first: the
// read receipts the daemon may send.
func (s *Store) MarkSeen(ctx context.Context, conv string, at time.Time) (map[string][]string, error) {
	if _, _, err := parseConversation(conv); err != nil {
		return nil, fmt.Errorf("mark %s seen: %w", conv, err)
	}
	out := map[string][]string{}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		clear(out)
		rows, err := tx.QueryContext(ctx, `UPDATE messages SET seen = ?
			WHERE conversation = ? AND outgoing = 0 AND seen IS NULL
			RETURNING seq, sender, id`, at.UnixNano(), conv)
		if err != nil {
			return err
		}
		type row struct {
			seq      int64
			from, id string
		}
		var got []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.seq, &r.from, &r.id); err != nil {
				rows.Close()
				return err
			}
			got = append(got, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// RETURNING gives no order: oldest first by arrival.
		slices.SortFunc(got, func(a, b row) int { return cmp.Compare(a.seq, b.seq) })
		for _, r := range got {
			out[r.from] = append(out[r.from], r.id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE conversations SET unread = 0 WHERE id = ? AND unread != 0`, conv)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mark %s seen: %w", conv, err)
	}
	return out, nil
}

// MarkReadBy records that reader read this user's messages ids of conv,
// at at. A message counts only if it is an outgoing message of conv that
// reader was sent (it has a copy for reader); other ids are ignored, so a
// receipt can mark nothing it should not. A read copy also counts as
// delivered. It returns how many messages it newly marked. At most
// MaxReadIDs ids.
func (s *Store) MarkReadBy(ctx context.Context, conv, reader string, ids []string, at time.Time) (int, error) {
	if _, _, err := parseConversation(conv); err != nil {
		return 0, fmt.Errorf("read by %s: %w", reader, err)
	}
	if err := checkUser(reader); err != nil {
		return 0, fmt.Errorf("read by %s: %w", reader, err)
	}
	if len(ids) > MaxReadIDs {
		return 0, fmt.Errorf("read by %s: %w", reader, invalid("%d ids, the most is %d", len(ids), MaxReadIDs))
	}
	n := 0
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, id := range ids {
			var seq int64
			err := tx.QueryRowContext(ctx, `SELECT m.seq FROM messages m JOIN deliveries d ON d.message = m.seq
				WHERE m.id = ? AND m.outgoing = 1 AND m.conversation = ? AND d.recipient = ?`,
				id, conv, reader).Scan(&seq)
			if err == sql.ErrNoRows {
				continue
			}
			if err != nil {
				return err
			}
			k, err := execN(ctx, tx, `INSERT INTO reads (message, reader, at) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`, seq, reader, at.UnixNano())
			if err != nil {
				return err
			}
			n += k
			if err := advanceTx(ctx, tx, id, reader, StateDelivered, ViaNone, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read by %s: %w", reader, err)
	}
	return n, nil
}

// ReadBy returns who read this user's message id, in the order they read
// it, and how many recipients it has (the "of" in "read by 3 of 5").
// ErrNotFound if there is no such outgoing message.
func (s *Store) ReadBy(ctx context.Context, id string) (readers []string, of int, err error) {
	err = s.db.Read(ctx, func(tx *sql.Tx) error {
		readers = nil
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT seq, (SELECT count(*) FROM deliveries WHERE message = seq)
			FROM messages WHERE id = ? AND outgoing = 1`, id).Scan(&seq, &of); err != nil {
			return mapErr(err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT reader FROM reads WHERE message = ? ORDER BY at, reader`, seq)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r string
			if err := rows.Scan(&r); err != nil {
				return err
			}
			readers = append(readers, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("readers of %s: %w", id, err)
	}
	return readers, of, nil
}
