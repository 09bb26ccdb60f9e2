package sqlitedb

import (
	"context"
	"database/sql"
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

// run is Write and Read: begin on db, fn, commit, or roll back on an
// error or a panic.
func run(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
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
