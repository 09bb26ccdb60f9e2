package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrNewer means the database was written by a newer program: it has
// more schema steps applied than this program knows.
var ErrNewer = errors.New("database schema is newer than this program")

// A Migration is one schema step: its SQL statements, then its Go code,
// all in one transaction. The database's PRAGMA user_version is the
// number of steps applied. Never edit a step that has shipped; append a
// new one.
type Migration struct {
	// SQL statements, run in order.
	SQL []string
	// Go, if not nil, runs after SQL in the same transaction, for steps
	// that SQL alone cannot express.
	Go func(ctx context.Context, tx *sql.Tx) error
}

// migrate applies the steps the database lacks, each in its own
// transaction together with the new user_version, so a crash or a failing
// step leaves the database at a step boundary. Each transaction re-reads
// the version under the write lock, so two processes opening the file at
// once do not apply a step twice.
func migrate(ctx context.Context, w *sql.DB, steps []Migration) error {
	for {
		done := false
		err := run(ctx, w, func(tx *sql.Tx) error {
			var v int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
				return err
			}
			if v > len(steps) {
				return fmt.Errorf("%w: version %d, this program knows %d", ErrNewer, v, len(steps))
			}
			if v == len(steps) {
				done = true
				return nil
			}
			step := steps[v]
			for i, stmt := range step.SQL {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("step %d statement %d: %w", v+1, i+1, err)
				}
			}
			if step.Go != nil {
				if err := step.Go(ctx, tx); err != nil {
					return fmt.Errorf("step %d: %w", v+1, err)
				}
			}
			// PRAGMA takes no parameters; v+1 is our own integer.
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate schema: %w", err)
		}
		if done {
			return nil
		}
	}
}
