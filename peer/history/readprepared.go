package history

import (
	"context"
	"database/sql"
)

// The reads of a message's path, prepared on the read-only pool when the
// store opens (database/sql prepares each again once on every pool
// connection that runs it, and keeps it there), so that they are not
// parsed at every message.
const (
	sqlHeld = `SELECT EXISTS (SELECT 1 FROM contacts c
			WHERE c.username = ? AND ` + heldSQL + `)`
	sqlPending = `SELECT ` + msgCols + `, d.recipient, d.attempts, d.next_attempt
			FROM deliveries d JOIN messages m ON m.seq = d.message
			WHERE d.recipient = ? AND d.state = 'queued'
			ORDER BY d.message LIMIT ?`
	sqlContacts = `SELECT username, display_name, identity_key, pinned_at, verified,
			pending_key, key_changed_at FROM contacts WHERE ?1 = '' OR username = ?1 ORDER BY username`
	sqlSameKey = `SELECT c.username, o.username FROM contacts c
			JOIN contacts o ON o.identity_key = c.identity_key AND o.username != c.username
			WHERE ?1 = '' OR c.username = ?1 ORDER BY c.username, o.username`
	sqlContactAddrs = `SELECT username, addr FROM contact_addrs
			WHERE ?1 = '' OR username = ?1 ORDER BY username, seq DESC`
	sqlMessage = `SELECT ` + msgCols + ` FROM messages m
		WHERE m.sender = ? AND m.id = ?`
	sqlSettings = `SELECT name, value FROM settings`
	sqlPrekey   = `SELECT id, secret, created, expires FROM prekeys WHERE id = ?`
)

var readStmts = []string{sqlHeld, sqlPending, sqlContacts, sqlSameKey, sqlContactAddrs, sqlMessage, sqlSettings, sqlPrekey}

// rtx runs a read transaction's statements with the prepared ones of the
// read pool where there are.
type rtx struct {
	tx *sql.Tx
	p  prepared
}

func (t rtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.p[query]; st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t rtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.p[query]; st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// rquery runs a read outside a transaction, prepared when it is one of
// readStmts.
func (s *Store) rquery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.rstmts[query]; st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, query, args...)
}

// rqueryRow is rquery for one row.
func (s *Store) rqueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.rstmts[query]; st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, query, args...)
}
