package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func version(t *testing.T, db *DB) int {
	t.Helper()
	var v int
	mustNil(t, db.Writer().QueryRow("PRAGMA user_version").Scan(&v))
	return v
}

// Steps run in order, SQL then Go, one version each, and a reopen with
// more steps applies only the new ones.
func TestMigrateOrder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "order.db")
	var ran []string
	step := func(name string, stmts ...string) Migration {
		return Migration{SQL: stmts, Go: func(ctx context.Context, tx *sql.Tx) error {
			ran = append(ran, name)
			_, err := tx.ExecContext(ctx, `INSERT INTO log (name) VALUES (?)`, name)
			return err
		}}
	}
	steps := []Migration{
		step("one", `CREATE TABLE log (seq INTEGER PRIMARY KEY, name TEXT NOT NULL)`),
		step("two"),
	}
	db, err := Open(ctx, path, Options{Migrations: steps})
	mustNil(t, err)
	if v := version(t, db); v != 2 {
		t.Errorf("user_version = %d, want 2", v)
	}
	mustNil(t, db.Close())

	steps = append(steps, step("three", `ALTER TABLE log ADD COLUMN x INTEGER`))
	db, err = Open(ctx, path, Options{Migrations: steps})
	mustNil(t, err)
	defer db.Close()
	if v := version(t, db); v != 3 {
		t.Errorf("user_version = %d, want 3", v)
	}
	if got := strings.Join(ran, ","); got != "one,two,three" {
		t.Errorf("steps ran %s, want one,two,three", got)
	}
	var logged []string
	mustNil(t, db.Read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT name FROM log ORDER BY seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			logged = append(logged, s)
		}
		return rows.Err()
	}))
	if got := strings.Join(logged, ","); got != "one,two,three" {
		t.Errorf("log = %s, want one,two,three", got)
	}
}

// A failing step leaves the database at the step before it, with nothing
// of the failing step, and a fixed program then applies it.
func TestMigrateFailureKeepsVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fail.db")
	db, err := Open(ctx, path, Options{Migrations: schema[:1]})
	mustNil(t, err)
	mustNil(t, db.Close())

	for name, bad := range map[string]Migration{
		"sql": {SQL: []string{`CREATE TABLE half (x)`, `NOT SQL AT ALL`}},
		"go": {SQL: []string{`CREATE TABLE half (x)`}, Go: func(context.Context, *sql.Tx) error {
			return errors.New("step refused")
		}},
	} {
		_, err := Open(ctx, path, Options{Migrations: []Migration{schema[0], bad}})
		if err == nil || !strings.Contains(err.Error(), "step 2") {
			t.Fatalf("%s: open with a failing step: %v", name, err)
		}
		db, err := Open(ctx, path, Options{Migrations: schema[:1]})
		mustNil(t, err)
		if v := version(t, db); v != 1 {
			t.Errorf("%s: user_version after a failed step = %d, want 1", name, v)
		}
		var n int
		mustNil(t, db.Writer().QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).Scan(&n))
		if n != 0 {
			t.Errorf("%s: the failed step's table is there", name)
		}
		mustNil(t, db.Close())
	}

	db, err = Open(ctx, path, Options{Migrations: schema})
	mustNil(t, err)
	defer db.Close()
	if v := version(t, db); v != len(schema) {
		t.Errorf("user_version = %d, want %d", v, len(schema))
	}
}

func TestNewerDatabaseRefused(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{Migrations: schema})
	mustNil(t, db.Close())
	_, err := Open(ctx, path, Options{Migrations: schema[:2]})
	if !errors.Is(err, ErrNewer) {
		t.Fatalf("open of a newer database: %v, want ErrNewer", err)
	}
	if !strings.Contains(err.Error(), "version 3") || !strings.Contains(err.Error(), "knows 2") {
		t.Errorf("error does not name the versions: %v", err)
	}
	// Refused, not changed.
	db, err = Open(ctx, path, Options{Migrations: schema})
	mustNil(t, err)
	defer db.Close()
	if v := version(t, db); v != 3 {
		t.Errorf("user_version = %d, want 3", v)
	}
}
