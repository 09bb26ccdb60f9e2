package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// expireLock is the advisory lock key that lets one node at a time expire
// the relay ("relayexp" in ASCII).
const expireLock = 0x72656c6179657870

// PutRelay stores an envelope, with SQLite's PutRelay's answers.
func (s *Postgres) PutRelay(ctx context.Context, m RelayMessage, q Quota) (bool, error) {
	return putRelayOne(ctx, s.PutRelays, m, q)
}

// PutRelays stores a batch of envelopes in one transaction, each as
// PutRelay would, in order. Each recipient's puts take turns on an
// advisory lock held until commit (taken in name order, so batches never
// wait on each other in a circle), so a recipient's sequence numbers
// become visible in increasing order: a reader that has seen seq n never
// later finds a new message below n.
//
// The batch costs a few statements whatever its size: the locks, the
// duplicates among its envelopes, the totals they are checked against,
// and one insert of all that pass, in order.
func (s *Postgres) PutRelays(ctx context.Context, ms []RelayMessage, q Quota) ([]RelayPut, error) {
	out := make([]RelayPut, len(ms))
	recipients := make([]string, 0, len(ms))
	for _, m := range ms {
		recipients = append(recipients, m.Recipient)
	}
	slices.Sort(recipients)
	recipients = slices.Compact(recipients)
	err := s.write(ctx, func(tx pgx.Tx) error {
		clear(out)
		// unnest keeps the array's (sorted) order.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(r, 0)) FROM unnest($1::text[]) AS r`, recipients); err != nil {
			return err
		}
		return putPgRelays(ctx, tx, ms, out, q)
	})
	if err != nil {
		return nil, fmt.Errorf("put relay batch: %w", err)
	}
	return out, nil
}

// relayColumns splits ms into columns, for unnest.
func relayColumns(ms []RelayMessage) (recipients, senders, ids []string) {
	recipients = make([]string, len(ms))
	senders = make([]string, len(ms))
	ids = make([]string, len(ms))
	for i, m := range ms {
		recipients[i], senders[i], ids[i] = m.Recipient, m.Sender, m.ID
	}
	return recipients, senders, ids
}

// relayKey names a stored envelope.
type relayKey struct{ recipient, sender, id string }

// putPgRelays is the body of PutRelays, its recipients locked.
func putPgRelays(ctx context.Context, tx pgx.Tx, ms []RelayMessage, out []RelayPut, q Quota) error {
	recipients, senders, ids := relayColumns(ms)

	stored := map[relayKey]bool{}
	rows, err := tx.Query(ctx, `SELECT r.recipient, r.sender, r.msg_id FROM relay r
		JOIN unnest($1::text[], $2::text[], $3::text[]) AS x (recipient, sender, msg_id)
		ON r.recipient = x.recipient AND r.sender = x.sender AND r.msg_id = x.msg_id`, recipients, senders, ids)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k relayKey
		if err := rows.Scan(&k.recipient, &k.sender, &k.id); err != nil {
			rows.Close()
			return err
		}
		stored[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	all := map[string]*tally{}
	mine := map[[2]string]*tally{}
	for _, m := range ms {
		if all[m.Recipient] == nil {
			all[m.Recipient] = &tally{}
		}
		if k := [2]string{m.Recipient, m.Sender}; mine[k] == nil {
			mine[k] = &tally{}
		}
	}
	rows, err = tx.Query(ctx, `SELECT recipient, count, bytes FROM relay_totals WHERE recipient = ANY($1::text[])`, recipients)
	if err != nil {
		return err
	}
	for rows.Next() {
		var r string
		var c tally
		if err := rows.Scan(&r, &c.count, &c.bytes); err != nil {
			rows.Close()
			return err
		}
		*all[r] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `SELECT t.recipient, t.sender, t.count, t.bytes FROM relay_sender_totals t
		JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS x (recipient, sender)
		ON t.recipient = x.recipient AND t.sender = x.sender`, recipients, senders)
	if err != nil {
		return err
	}
	for rows.Next() {
		var r, from string
		var c tally
		if err := rows.Scan(&r, &from, &c.count, &c.bytes); err != nil {
			rows.Close()
			return err
		}
		*mine[[2]string{r, from}] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	// Decide in order, as one envelope at a time would.
	var put []RelayMessage
	for i, m := range ms {
		k := relayKey{m.Recipient, m.Sender, m.ID}
		if stored[k] {
			continue // a duplicate, even when a quota is full
		}
		size := int64(len(m.Envelope))
		a, o := all[m.Recipient], mine[[2]string{m.Recipient, m.Sender}]
		switch {
		case a.over(size, q.MaxCount, q.MaxBytes):
			out[i].Err = ErrQuota
			continue
		case o.over(size, q.SenderCount, q.SenderBytes):
			out[i].Err = ErrSenderQuota
			continue
		}
		a.count++
		a.bytes += size
		o.count++
		o.bytes += size
		stored[k] = true
		out[i].Inserted = true
		put = append(put, m)
	}
	if len(put) == 0 {
		return nil
	}
	var (
		envs    = make([][]byte, len(put))
		sizes   = make([]int64, len(put))
		created = make([]*int64, len(put))
	)
	for i, m := range put {
		envs[i], sizes[i], created[i] = m.Envelope, int64(len(m.Envelope)), pgNanos(m.Created)
	}
	recipients, senders, ids = relayColumns(put)
	n, err := pgExecN(ctx, tx, `INSERT INTO relay (recipient, msg_id, sender, envelope, size, created)
		SELECT recipient, msg_id, sender, envelope, size, created
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bigint[], $6::bigint[])
			WITH ORDINALITY AS x (recipient, msg_id, sender, envelope, size, created, n)
		ORDER BY n`,
		recipients, ids, senders, envs, sizes, created)
	if err != nil {
		return err
	}
	if n != len(put) {
		return fmt.Errorf("stored %d of %d envelopes", n, len(put))
	}
	return nil
}

// PendingRelay returns the recipient's envelopes with Seq > after, oldest
// first, at most limit (none if limit is zero or less).
func (s *Postgres) PendingRelay(ctx context.Context, recipient string, after int64, limit int) ([]RelayMessage, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, recipient, msg_id, sender, envelope, created FROM relay
		WHERE recipient = $1 AND seq > $2 ORDER BY seq LIMIT $3`, recipient, after, limit)
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

// refColumns splits refs into a column of senders and one of ids, for
// unnest.
func refColumns(refs []RelayRef) (senders, ids []string) {
	senders = make([]string, len(refs))
	ids = make([]string, len(refs))
	for i, r := range refs {
		senders[i], ids[i] = r.Sender, r.ID
	}
	return senders, ids
}

// AckRelay deletes the recipient's envelopes named in acks and refused,
// and records a drop notice (reason "refused", at) for each envelope of
// refused it deleted, in one transaction. It returns how many envelopes
// it deleted. Unknown messages are ignored.
func (s *Postgres) AckRelay(ctx context.Context, recipient string, acks, refused []RelayRef, at time.Time) (int, error) {
	if len(acks)+len(refused) == 0 {
		return 0, nil
	}
	total := 0
	err := s.write(ctx, func(tx pgx.Tx) error {
		if len(refused) > 0 {
			senders, ids := refColumns(refused)
			if _, err := tx.Exec(ctx, `INSERT INTO relay_dropped (sender, recipient, msg_id, reason, at)
				SELECT r.sender, r.recipient, r.msg_id, 'refused', $1 FROM relay r
				JOIN unnest($3::text[], $4::text[]) AS x (sender, msg_id)
					ON r.sender = x.sender AND r.msg_id = x.msg_id
				WHERE r.recipient = $2 ORDER BY r.seq
				ON CONFLICT (sender, recipient, msg_id) DO NOTHING`, pgNanos(at), recipient, senders, ids); err != nil {
				return err
			}
		}
		senders, ids := refColumns(append(append([]RelayRef(nil), acks...), refused...))
		n, err := pgExecN(ctx, tx, `DELETE FROM relay r USING unnest($2::text[], $3::text[]) AS x (sender, msg_id)
			WHERE r.recipient = $1 AND r.sender = x.sender AND r.msg_id = x.msg_id`, recipient, senders, ids)
		total = n
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("ack relay for %s: %w", recipient, err)
	}
	return total, nil
}

// ExpireRelay deletes envelopes created before t (an envelope with a zero
// Created counts as created before any t), records a drop notice for each
// (reason "expired", at now), and deletes notices from before t, all in one
// transaction, one node at a time. It returns how many envelopes it
// deleted and, by name, the senders with new notices.
func (s *Postgres) ExpireRelay(ctx context.Context, before, now time.Time) (int, []string, error) {
	if before.IsZero() {
		return 0, nil, nil
	}
	var (
		n       int
		senders []string
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(expireLock)); err != nil {
			return err
		}
		var err error
		senders, err = pgStrings(tx.Query(ctx, `SELECT DISTINCT sender FROM relay
			WHERE created < $1 OR created IS NULL ORDER BY sender`, before.UnixNano()))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM relay_dropped WHERE at < $1`, before.UnixNano()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO relay_dropped (sender, recipient, msg_id, reason, at)
			SELECT sender, recipient, msg_id, 'expired', $1 FROM relay WHERE created < $2 OR created IS NULL
			ORDER BY seq
			ON CONFLICT (sender, recipient, msg_id) DO NOTHING`, now.UnixNano(), before.UnixNano()); err != nil {
			return err
		}
		n, err = pgExecN(ctx, tx, `DELETE FROM relay WHERE created < $1 OR created IS NULL`, before.UnixNano())
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("expire relay: %w", err)
	}
	return n, senders, nil
}

// RelayDrops returns sender's drop notices, oldest first, at most limit
// (none if limit is zero or less).
func (s *Postgres) RelayDrops(ctx context.Context, sender string, limit int) ([]RelayDrop, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT sender, recipient, msg_id, reason, at FROM relay_dropped
		WHERE sender = $1 ORDER BY seq LIMIT $2`, sender, limit)
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
func (s *Postgres) AckRelayDrops(ctx context.Context, sender string, refs []DropRef) (int, error) {
	if len(refs) == 0 {
		return 0, nil
	}
	recipients := make([]string, len(refs))
	ids := make([]string, len(refs))
	for i, r := range refs {
		recipients[i], ids[i] = r.Recipient, r.ID
	}
	n, err := pgExecN(ctx, s.pool, `DELETE FROM relay_dropped d USING unnest($2::text[], $3::text[]) AS x (recipient, msg_id)
		WHERE d.sender = $1 AND d.recipient = x.recipient AND d.msg_id = x.msg_id`, sender, recipients, ids)
	if err != nil {
		return 0, fmt.Errorf("ack relay drops for %s: %w", sender, err)
	}
	return n, nil
}
