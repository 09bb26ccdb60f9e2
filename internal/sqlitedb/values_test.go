package sqlitedb

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

func TestConstraintErrors(t *testing.T) {
	db, _ := openTest(t, Options{Migrations: []Migration{{SQL: []string{
		`CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT UNIQUE)`,
		`CREATE TABLE b (a INTEGER NOT NULL REFERENCES a (id))`,
	}}}})
	ctx := context.Background()
	w := db.Writer()
	n, err := ExecN(ctx, w, `INSERT INTO a (id, name) VALUES (1, 'x'), (2, 'y')`)
	if err != nil || n != 2 {
		t.Fatalf("ExecN = %d, %v; want 2 rows", n, err)
	}
	_, err = ExecN(ctx, w, `INSERT INTO a (id, name) VALUES (1, 'z')`)
	if !IsUnique(err) || IsForeignKey(err) {
		t.Errorf("primary key clash: %v not unique", err)
	}
	_, err = ExecN(ctx, w, `INSERT INTO a (id, name) VALUES (3, 'x')`)
	if !IsUnique(err) {
		t.Errorf("unique clash: %v not unique", err)
	}
	_, err = ExecN(ctx, w, `INSERT INTO b (a) VALUES (9)`)
	if !IsForeignKey(err) || IsUnique(err) {
		t.Errorf("missing reference: %v not a foreign-key violation", err)
	}
	if IsUnique(sql.ErrNoRows) || IsForeignKey(nil) {
		t.Error("a non-SQLite error classified as a constraint")
	}
}

func TestNanosRoundTrip(t *testing.T) {
	if Nanos(time.Time{}) != nil {
		t.Error("the zero time is not NULL")
	}
	if !Time(sql.NullInt64{}).IsZero() {
		t.Error("NULL is not the zero time")
	}
	at := time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("x", 3600))
	got := Time(sql.NullInt64{Int64: Nanos(at).(int64), Valid: true})
	if !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("round trip = %v, want %v in UTC", got, at)
	}
}
