package history

import (
	"context"
	"database/sql"
	"errors"

	"github.com/lanchat/lanchat/internal/sqlitedb"
)

// The statements of a message's path, prepared on the writer connection
// when the store opens, so that they are parsed once rather than at every
// message: parsing an INSERT INTO messages compiles its full-text
// triggers too. The writer has one connection, which a transaction holds,
// so preparing later (from inside a transaction) would wait for itself;
// the set is fixed.
const (
	sqlDuplicate = `SELECT conversation, outgoing FROM messages WHERE sender = ? AND id = ?`
	sqlConvIn    = `INSERT INTO conversations (id, last_activity, unread) VALUES (?, ?, 1)
			ON CONFLICT (id) DO UPDATE SET last_activity = max(last_activity, excluded.last_activity),
			unread = unread + 1`
	sqlConvOut = `INSERT INTO conversations (id, last_activity) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET last_activity = max(last_activity, excluded.last_activity)`
	sqlInsertMessage = `INSERT INTO messages
		(id, conversation, sender, kind, body, sent, claimed, received, outgoing, state, via, meta)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertDelivery = `INSERT INTO deliveries (message, recipient, state) VALUES (?, ?, 'queued')`
	sqlCopyState      = `SELECT d.message, d.state FROM deliveries d JOIN messages m ON m.seq = d.message
		WHERE m.id = ? AND m.outgoing = 1 AND d.recipient = ?`
	sqlAdvanceCopy = `UPDATE deliveries SET state = ?1,
		via = CASE WHEN ?2 = '' THEN via ELSE ?2 END, next_attempt = NULL,
		error = CASE WHEN ?1 = 'failed' THEN ?5 ELSE '' END
		WHERE message = ?3 AND recipient = ?4`
	sqlMessageState = `UPDATE messages SET
		state = CASE
			WHEN EXISTS (SELECT 1 FROM deliveries WHERE message = ?1 AND state = 'queued') THEN 'queued'
			WHEN EXISTS (SELECT 1 FROM deliveries WHERE message = ?1 AND state = 'failed') THEN 'failed'
			WHEN EXISTS (SELECT 1 FROM deliveries WHERE message = ?1 AND state = 'sent') THEN 'sent'
			ELSE 'delivered' END,
		error = coalesce((SELECT group_concat(recipient || ': ' || error, '; ') FROM deliveries
			WHERE message = ?1 AND state = 'failed'), ''),
		via = CASE WHEN ?2 = '' THEN via ELSE ?2 END
		WHERE seq = ?1`
	sqlAttempted = `UPDATE deliveries SET attempts = attempts + 1, next_attempt = ?
		WHERE message = (SELECT seq FROM messages WHERE id = ? AND outgoing = 1) AND recipient = ? AND state = 'queued'`
)

var pathStmts = []string{
	sqlDuplicate, sqlConvIn, sqlConvOut, sqlInsertMessage, sqlInsertDelivery,
	sqlCopyState, sqlAdvanceCopy, sqlMessageState, sqlAttempted,
	// Every write of a group commit runs in a savepoint (isolate).
	sqlitedb.SQLSavepoint, sqlitedb.SQLRollbackTo, sqlitedb.SQLRelease,
}

// isolate runs fn in a savepoint of tx whose statements are prepared
// (the group commit's Isolate).
func (p prepared) isolate(ctx context.Context, tx *sql.Tx, fn func(tx *sql.Tx) error) error {
	return sqlitedb.SavepointOn(ctx, ptx{tx, p}, func() error { return fn(tx) })
}

// querier is what the message path's functions run statements on: a
// *sql.Tx, or a ptx with the prepared statements.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// prepared holds statements prepared on the writer, by their text.
type prepared map[string]*sql.Stmt

// prepare prepares queries on w.
func prepare(ctx context.Context, w *sql.DB, queries ...string) (prepared, error) {
	p := make(prepared, len(queries))
	for _, q := range queries {
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			return nil, errors.Join(err, p.close())
		}
		p[q] = st
	}
	return p, nil
}

// close closes every statement.
func (p prepared) close() error {
	var errs []error
	for _, st := range p {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// ptx runs a writer transaction's statements with the prepared ones when
// there are (database/sql keeps them prepared on the connection between
// transactions, and prepares them again on a new one).
type ptx struct {
	tx *sql.Tx
	p  prepared
}

func (t ptx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.p[query]; st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t ptx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.p[query]; st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}
