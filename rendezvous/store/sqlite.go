package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lanchat/lanchat/internal/sqlitedb"
)

// SQLite is the default Store: one SQLite file (see internal/sqlitedb) in
// WAL mode. All writes go through a single connection, so they never
// contend with each other inside the process; reads use a separate pool of
// read-only connections, which WAL lets run alongside the writer. Every
// write commits with synchronous=FULL, so it is durable when the method
// returns.
type SQLite struct {
	db *sqlitedb.DB
	w  *sql.DB // the one writer connection
	r  *sql.DB // read-only pool

	// group commits relay writes of concurrent requests together.
	group *sqlitedb.Group[*sql.Tx]
	// ws and rs keep the hot paths' statements prepared, on the writer
	// and on the read pool.
	ws, rs *stmtCache
}

var _ Store = (*SQLite)(nil)

// Open opens the database at path, creating it (mode 0600) if it does not
// exist, tightening its mode to 0600 if it does, and brings its schema up
// to date.
func Open(ctx context.Context, path string) (*SQLite, error) {
	db, err := sqlitedb.Open(ctx, path, sqlitedb.Options{Migrations: migrations})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &SQLite{db: db, w: db.Writer(), r: db.Reader()}
	s.group = sqlitedb.NewGroup(db)
	if s.ws, err = newStmtCache(ctx, s.w, true, writerStmts...); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: prepare: %w", err)
	}
	if s.rs, err = newStmtCache(ctx, s.r, false); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: prepare: %w", err)
	}
	return s, nil
}

// RelayCommits returns how many transactions the relay's group commit
// made, and how many writes (relay batches, acknowledgements) they
// carried: each transaction is one fsync.
func (s *SQLite) RelayCommits() (commits, writes uint64) {
	st := s.group.Stats()
	return st.Commits, st.Writes
}

// Close closes both connection pools.
func (s *SQLite) Close() error {
	return errors.Join(s.ws.close(), s.rs.close(), s.db.Close())
}

// execOne runs a statement that must change at least one row, and returns
// ErrNotFound if it changed none.
func execOne(ctx context.Context, db sqlitedb.Execer, query string, args ...any) error {
	n, err := execN(ctx, db, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// execN runs a statement and returns how many rows it changed.
func execN(ctx context.Context, db sqlitedb.Execer, query string, args ...any) (int, error) {
	n, err := sqlitedb.ExecN(ctx, db, query, args...)
	return n, mapErr(err)
}

// mapErr turns constraint violations into the sentinel errors: unique and
// primary-key violations into ErrExists, foreign-key violations (a
// reference to a group that does not exist) into ErrNotFound, and
// sql.ErrNoRows into ErrNotFound.
func mapErr(err error) error {
	switch {
	case errors.Is(err, sql.ErrNoRows), sqlitedb.IsForeignKey(err):
		return ErrNotFound
	case sqlitedb.IsUnique(err):
		return ErrExists
	}
	return err
}

// Times are stored the sqlitedb way: Unix nanoseconds, with the zero time
// as NULL.
var (
	nsOf   = sqlitedb.Nanos
	timeOf = sqlitedb.Time
)

// boolInt stores a bool as 0 or 1.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// collectStrings reads a one-column result of names.
func collectStrings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
