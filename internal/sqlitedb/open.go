// Package sqlitedb is the SQLite foundation under lanchat's stores (the
// rendezvous server's store and the peer's history): one file opened with
// modernc.org/sqlite (no cgo) in WAL mode, one writer connection plus a
// read-only pool, synchronous=FULL so a write is durable when its
// transaction commits, foreign keys on, the pragmas checked after open, and
// the schema brought up to date by ordered migrations recorded in PRAGMA
// user_version. A store on top keeps only its schema and its queries.
package sqlitedb

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

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// BusyTimeout is how long a connection waits for another process's lock
// (an admin command writing the same file, say) before giving up.
const BusyTimeout = 10 * time.Second

// Options say what a store needs beyond the common setup.
type Options struct {
	// Migrations are the store's schema steps, in order (see Migration).
	Migrations []Migration
	// SecureDelete overwrites deleted content on the writer
	// (PRAGMA secure_delete), for files that hold secrets that must really
	// be gone once deleted.
	SecureDelete bool
}

// DB is an open database: one writer connection and a read-only pool.
// Its methods are safe for concurrent use.
type DB struct {
	w *sql.DB // the one writer connection; transactions begin IMMEDIATE
	r *sql.DB // read-only pool
}

// Open opens the database at path, creating it (mode 0600) if it does not
// exist and tightening its mode to 0600 if it does, checks that the
// pragmas took, and applies the migrations it lacks. A database written by
// a newer program (more steps than o.Migrations) is refused with ErrNewer.
func Open(ctx context.Context, path string, o Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	// An existing file may have been made with a looser mode; the WAL and
	// shared-memory files copy the database file's mode, so fix it first.
	err = f.Chmod(0o600)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	base, err := fileURI(path)
	if err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite", base+"?"+strings.Join(writerParams(o), "&"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := check(ctx, w, writerWants(o)); err != nil {
		w.Close()
		return nil, err
	}
	if err := migrate(ctx, w, o.Migrations); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", base+"?"+strings.Join([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()),
		"_pragma=foreign_keys(1)",
		"_pragma=query_only(1)",
	}, "&"))
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := check(ctx, r, readerWants); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	return &DB{w: w, r: r}, nil
}

// Writer is the one writer connection, for single statements that need no
// transaction of their own.
func (db *DB) Writer() *sql.DB { return db.w }

// Reader is the read-only pool, for single queries.
func (db *DB) Reader() *sql.DB { return db.r }

// Close closes both connection pools.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}

// writerParams are the writer's connection parameters: every connection
// the driver makes runs these pragmas first.
func writerParams(o Options) []string {
	ps := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_pragma=foreign_keys(1)",
		// Statement journals and savepoints (every write of a group
		// commit has one) keep the pages they may roll back in memory,
		// not in a temporary file written page by page.
		"_pragma=temp_store(MEMORY)",
	}
	if o.SecureDelete {
		ps = append(ps, "_pragma=secure_delete(1)")
	}
	// IMMEDIATE: a write transaction holds the write lock from its first
	// statement, also against other processes.
	return append(ps, "_txlock=immediate")
}

// want is a pragma and the value it must read back as.
type want struct {
	pragma string
	value  string
}

func writerWants(o Options) []want {
	ws := []want{
		// WAL lets readers run beside the writer.
		{"journal_mode", "wal"},
		// FULL (2) makes every commit durable.
		{"synchronous", "2"},
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds())},
		{"query_only", "0"},
		{"temp_store", "2"},
	}
	if o.SecureDelete {
		ws = append(ws, want{"secure_delete", "1"})
	}
	return ws
}

var readerWants = []want{
	{"foreign_keys", "1"},
	{"busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds())},
	{"query_only", "1"},
}

// check makes sure the pragmas took on a connection of db.
func check(ctx context.Context, db *sql.DB, ws []want) error {
	for _, w := range ws {
		var got string
		// The names are our own constants; PRAGMA takes no parameters.
		if err := db.QueryRowContext(ctx, "PRAGMA "+w.pragma).Scan(&got); err != nil {
			return fmt.Errorf("read PRAGMA %s: %w", w.pragma, err)
		}
		if !strings.EqualFold(got, w.value) {
			return fmt.Errorf("PRAGMA %s is %q, want %q", w.pragma, got, w.value)
		}
	}
	return nil
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
