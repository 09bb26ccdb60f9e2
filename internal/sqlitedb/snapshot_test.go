package sqlitedb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A snapshot taken while the database is open holds what was committed,
// has mode 0600, and opens as a database of the same version.
func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{Migrations: schema})
	dst := filepath.Join(t.TempDir(), "copy.db")
	mustNil(t, Snapshot(ctx, path, dst))
	fi, err := os.Stat(dst)
	mustNil(t, err)
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("snapshot mode = %v, want 0600", perm)
	}
	cp, err := Open(ctx, dst, Options{Migrations: schema})
	mustNil(t, err)
	defer cp.Close()
	if v := version(t, cp); v != len(schema) {
		t.Errorf("snapshot user_version = %d, want %d", v, len(schema))
	}
	if n, m := count(t, cp), count(t, db); n != m {
		t.Errorf("snapshot has %d rows, database %d", n, m)
	}

	if err := Snapshot(ctx, path, dst); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("snapshot over an existing file: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "missing.db")
	if err := Snapshot(ctx, missing, filepath.Join(t.TempDir(), "x.db")); err == nil {
		t.Error("snapshot of a missing database succeeded")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("snapshot created the missing database")
	}
}
