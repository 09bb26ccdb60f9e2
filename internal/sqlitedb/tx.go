package sqlitedb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
)

// Write runs fn in one transaction on the writer connection and commits it
// if fn returns nil. The transaction begins IMMEDIATE, so fn holds the
// write lock from its first statement, also against other processes. If
// fn returns an error or panics, the transaction is rolled back (and the
// panic goes on).
func (db *DB) Write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return run(ctx, db.w, fn)
}

// Read runs fn in one read-only transaction from the pool, so that all it
// reads comes from one snapshot; WAL lets it run beside the writer.
func (db *DB) Read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return run(ctx, db.r, fn)
}

// beginner is what a transaction begins on: the pool (*sql.DB) or one
// connection taken from it (*sql.Conn).
type beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// run is Write and Read: begin on db, fn, commit, or roll back on an
// error or a panic.
func run(ctx context.Context, db beginner, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	done = true
	return tx.Commit()
}

// WriteNoSync is Write for bookkeeping that may be lost with the machine
// but not with the process: the transaction commits with
// synchronous=NORMAL, so its commit writes the WAL but waits for no fsync.
// It stays atomic and consistent, and the next durable commit (any Write)
// makes it durable too, as an fsync of the WAL covers every frame before.
// The connection is back at synchronous=FULL before anyone else uses it;
// if that cannot be made sure, the connection is closed.
func (db *DB) WriteNoSync(ctx context.Context, fn func(tx *sql.Tx) error) error {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous=NORMAL`); err != nil {
		return errors.Join(err, discard(conn))
	}
	err = run(ctx, conn, fn)
	if _, rerr := conn.ExecContext(context.Background(), `PRAGMA synchronous=FULL`); rerr != nil {
		return errors.Join(err, fmt.Errorf("restore synchronous=FULL: %w", rerr), discard(conn))
	}
	return err
}

// discard makes the pool close conn instead of reusing it, so that no
// write runs on a connection whose synchronous setting is unknown.
func discard(conn *sql.Conn) error {
	err := conn.Raw(func(any) error { return driver.ErrBadConn })
	if errors.Is(err, driver.ErrBadConn) {
		return nil
	}
	return err
}
