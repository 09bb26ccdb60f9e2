package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeout is how long a connection waits for another process's lock
// (the admin command writes the same file) before giving up.
const busyTimeout = 10 * time.Second

// SQLite is the default Store: one SQLite file in WAL mode. All writes go
// through a single connection, so they never contend with each other inside
// the process; reads use a separate pool of read-only connections, which
// WAL lets run alongside the writer. Every write commits with
// synchronous=FULL, so it is durable when the method returns.
type SQLite struct {
	w *sql.DB // the one writer connection
	r *sql.DB // read-only pool
}

var _ Store = (*SQLite)(nil)

// Open opens the database at path, creating it (mode 0600) if it does not
// exist, and brings its schema up to date.
func Open(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("open store: empty path")
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	base, err := fileURI(path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	ms := busyTimeout.Milliseconds()
	w, err := sql.Open("sqlite", base+"?"+strings.Join([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", ms),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
	}, "&"))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := checkWAL(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	r, err := sql.Open("sqlite", base+"?"+strings.Join([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", ms),
		"_pragma=foreign_keys(1)",
		"_pragma=query_only(1)",
	}, "&"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &SQLite{w: w, r: r}, nil
}

// Close closes both connection pools.
func (s *SQLite) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// fileURI turns a file path into an SQLite URI (without query), escaping
// the characters that URIs give a meaning to.
func fileURI(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: file:///C:/...
	}
	return "file://" + (&url.URL{Path: p}).EscapedPath(), nil
}

// checkWAL makes sure the writer's pragmas took: WAL is what lets readers
// run beside the writer.
func checkWAL(ctx context.Context, w *sql.DB) error {
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	var sync int
	if err := w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return err
	}
	if sync != 2 {
		return fmt.Errorf("synchronous is %d, want 2 (FULL)", sync)
	}
	return nil
}

// writeTx runs fn in one transaction on the writer connection. The writer
// begins transactions IMMEDIATE, so fn holds the write lock from its first
// statement, also against other processes.
func (s *SQLite) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// readTx runs fn in one read transaction, so it sees one snapshot.
func (s *SQLite) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
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
