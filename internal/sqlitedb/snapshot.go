package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Snapshot writes a consistent copy of the database at path into the new
// file dst (mode 0600). It is safe while another DB has the file open:
// VACUUM INTO runs in one read transaction, so the copy is the database as
// of one commit, and WAL lets the writer go on meanwhile. The copy holds
// no free pages, so nothing deleted travels with it. A database that does
// not exist is an error, never created; so is a dst that exists.
func Snapshot(ctx context.Context, path, dst string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s already exists", dst)
	}
	base, err := fileURI(path)
	if err != nil {
		return err
	}
	// mode=rw: never create the database. No write happens on this
	// connection; read-only mode is avoided because it cannot recover
	// the WAL of a database nobody has open.
	db, err := sql.Open("sqlite", base+"?"+strings.Join([]string{
		"mode=rw",
		fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()),
	}, "&"))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	// Make the file first, so it never exists with a looser mode.
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(dst)
		return err
	}
	// VACUUM INTO refuses a file that holds anything; an empty one is
	// fine. Its argument is an expression, so dst goes in as a parameter.
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		os.Remove(dst)
		return err
	}
	return nil
}
