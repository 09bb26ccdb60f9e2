package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lanchat/lanchat/internal/sqlitedb"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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
}

var _ Store = (*SQLite)(nil)

// Open opens the database at path, creating it (mode 0600) if it does not
// exist, and brings its schema up to date.
func Open(ctx context.Context, path string) (*SQLite, error) {
	db, err := sqlitedb.Open(ctx, path, sqlitedb.Options{Migrations: migrations})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &SQLite{db: db, w: db.Writer(), r: db.Reader()}, nil
}

// Close closes both connection pools.
func (s *SQLite) Close() error {
	return s.db.Close()
}

// execer is what *sql.DB and *sql.Tx have in common for writes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// execOne runs a statement that must change at least one row, and returns
// ErrNotFound if it changed none.
func execOne(ctx context.Context, db execer, query string, args ...any) error {
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
func execN(ctx context.Context, db execer, query string, args ...any) (int, error) {
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// mapErr turns constraint violations into the sentinel errors: unique and
// primary-key violations into ErrExists, foreign-key violations (a
// reference to a group that does not exist) into ErrNotFound, and
// sql.ErrNoRows into ErrNotFound.
func mapErr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return ErrExists
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return ErrNotFound
		}
	}
	return err
}

// nsOf is how times are stored: Unix nanoseconds, with the zero time as
// NULL.
func nsOf(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// timeOf reverses nsOf, in UTC.
func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

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
