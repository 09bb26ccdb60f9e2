package history

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/lanchat/lanchat/internal/sqlitedb"
)

// Snapshot writes a consistent copy of the history database at path into
// the new file dst (mode 0600), for a backup. It is safe while a daemon
// has the database open: VACUUM INTO runs in one read transaction, so the
// copy is the database as of one commit, and WAL lets the daemon go on
// writing meanwhile. The copy holds no free pages, so nothing deleted
// (secure_delete's concern: old prekey secrets) travels with it. A
// database that does not exist is an error, never created.
func Snapshot(ctx context.Context, path, dst string) error {
	if err := sqlitedb.Snapshot(ctx, path, dst); err != nil {
		return fmt.Errorf("snapshot history: %w", err)
	}
	return nil
}

// Verify checks that the file at path is a sound history database: it
// opens it as the daemon would (which brings its schema up to this
// program's version, and refuses a newer one) and runs SQLite's integrity
// check. It is for a file about to become a user's history (a restored
// backup); path must not be in use.
func Verify(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("verify history: %w", err)
	}
	s, err := Open(ctx, path)
	if err != nil {
		return fmt.Errorf("verify history: %w", err)
	}
	var problems []string
	rows, err := s.r.QueryContext(ctx, "PRAGMA integrity_check")
	if err == nil {
		for rows.Next() {
			var line string
			if err = rows.Scan(&line); err != nil {
				break
			}
			if line != "ok" && len(problems) < 5 {
				problems = append(problems, line)
			}
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return fmt.Errorf("verify history: %w", err)
	case len(problems) > 0:
		return fmt.Errorf("verify history: database is damaged: %s", strings.Join(problems, "; "))
	}
	return nil
}
