package sqlitedb

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// schema is a small store: one table, then a column, then a row made by
// Go code.
var schema = []Migration{
	{SQL: []string{`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT`}},
	{SQL: []string{`ALTER TABLE notes ADD COLUMN tag TEXT NOT NULL DEFAULT ''`}},
	{Go: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notes (body, tag) VALUES ('seeded', 'go')`)
		return err
	}},
}

func openTest(t *testing.T, o Options) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := Open(context.Background(), path, o)
	mustNil(t, err)
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestOpenPragmas(t *testing.T) {
	for _, secure := range []bool{false, true} {
		db, _ := openTest(t, Options{Migrations: schema, SecureDelete: secure})
		ctx := context.Background()
		sd := "0"
		if secure {
			sd = "1"
		}
		for _, c := range []struct {
			reader bool
			name   string
			want   string
		}{
			{false, "journal_mode", "wal"},
			{true, "journal_mode", "wal"},
			{false, "synchronous", "2"},
			{false, "foreign_keys", "1"},
			{false, "busy_timeout", "10000"},
			{false, "query_only", "0"},
			{false, "secure_delete", sd},
			{false, "user_version", "3"},
			{true, "foreign_keys", "1"},
			{true, "busy_timeout", "10000"},
			{true, "query_only", "1"},
		} {
			conn := db.Writer()
			if c.reader {
				conn = db.Reader()
			}
			var got string
			mustNil(t, conn.QueryRowContext(ctx, "PRAGMA "+c.name).Scan(&got))
			if got != c.want {
				t.Errorf("secure=%v reader=%v: PRAGMA %s = %q, want %q", secure, c.reader, c.name, got, c.want)
			}
		}
		if _, err := db.Reader().ExecContext(ctx, "DELETE FROM notes"); err == nil {
			t.Error("reader pool accepted a write")
		}
		if got := db.Writer().Stats().MaxOpenConnections; got != 1 {
			t.Errorf("writer MaxOpenConnections = %d, want 1", got)
		}
	}
}

// check refuses a connection whose pragma did not take.
func TestCheckRefuses(t *testing.T) {
	db, _ := openTest(t, Options{})
	err := check(context.Background(), db.Reader(), writerWants(Options{}))
	if err == nil || !strings.Contains(err.Error(), "query_only") {
		t.Fatalf("check of the reader against the writer's pragmas: %v", err)
	}
}

func TestFileMode(t *testing.T) {
	db, path := openTest(t, Options{Migrations: schema})
	mustNil(t, db.Write(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO notes (body) VALUES ('x')`)
		return err
	}))
	// The WAL and shared-memory files take the database file's mode.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		mustNil(t, err)
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s: mode = %v, want 0600", filepath.Base(p), perm)
		}
	}
	// A file someone made readable to others is tightened on open.
	loose := filepath.Join(t.TempDir(), "loose.db")
	mustNil(t, os.WriteFile(loose, nil, 0o644))
	mustNil(t, os.Chmod(loose, 0o644))
	db2, err := Open(context.Background(), loose, Options{})
	mustNil(t, err)
	defer db2.Close()
	fi, err := os.Stat(loose)
	mustNil(t, err)
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("existing file: mode = %v, want 0600", perm)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "", Options{}); err == nil {
		t.Error(`Open("") succeeded`)
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "missing", "x.db"), Options{}); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
	// Not a database.
	junk := filepath.Join(t.TempDir(), "junk.db")
	mustNil(t, os.WriteFile(junk, []byte(strings.Repeat("not sqlite ", 100)), 0o600))
	if db, err := Open(ctx, junk, Options{Migrations: schema}); err == nil {
		db.Close()
		t.Error("Open of a file that is not a database succeeded")
	}
}

// A path with the characters URIs give a meaning to opens the file it
// names, and nothing beside it.
func TestOpenOddPath(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%chars&x")
	mustNil(t, os.Mkdir(dir, 0o700))
	path := filepath.Join(dir, "db?x=1#y")
	db, err := Open(ctx, path, Options{Migrations: schema})
	mustNil(t, err)
	mustNil(t, db.Close())
	fi, err := os.Stat(path)
	mustNil(t, err)
	if fi.Size() == 0 {
		t.Error("database file is empty")
	}
	ents, err := os.ReadDir(dir)
	mustNil(t, err)
	for _, e := range ents {
		if e.Name() != filepath.Base(path) {
			t.Errorf("stray file %q", e.Name())
		}
	}
	db, err = Open(ctx, path, Options{Migrations: schema})
	mustNil(t, err)
	defer db.Close()
	var body string
	mustNil(t, db.Reader().QueryRow(`SELECT body FROM notes`).Scan(&body))
	if body != "seeded" {
		t.Errorf("reopened: body = %q", body)
	}
}
