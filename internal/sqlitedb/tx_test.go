package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func count(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	mustNil(t, db.Reader().QueryRow(`SELECT count(*) FROM notes`).Scan(&n))
	return n
}

func TestWriteCommitsOrRollsBack(t *testing.T) {
	db, _ := openTest(t, Options{Migrations: schema})
	ctx := context.Background()
	before := count(t, db)
	insert := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notes (body) VALUES ('x')`)
		return err
	}
	mustNil(t, db.Write(ctx, insert))
	if n := count(t, db); n != before+1 {
		t.Fatalf("after a write: %d rows, want %d", n, before+1)
	}

	boom := errors.New("boom")
	err := db.Write(ctx, func(tx *sql.Tx) error {
		mustNil(t, insert(tx))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write returned %v, want fn's error", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed")
			}
		}()
		db.Write(ctx, func(tx *sql.Tx) error {
			mustNil(t, insert(tx))
			panic("in a transaction")
		})
	}()
	if n := count(t, db); n != before+1 {
		t.Errorf("after a failed and a panicking write: %d rows, want %d", n, before+1)
	}
	// The writer is free again: a rolled-back transaction did not keep it.
	mustNil(t, db.Write(ctx, insert))

	err = db.Read(ctx, func(tx *sql.Tx) error { return insert(tx) })
	if err == nil {
		t.Error("a write inside Read succeeded")
	}
}

// Readers see whole transactions only and are not blocked while the
// writer holds an open transaction.
func TestReadersBesideWriter(t *testing.T) {
	db, _ := openTest(t, Options{Migrations: schema})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const batches, per = 20, 5

	inTx := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range batches {
			err := db.Write(ctx, func(tx *sql.Tx) error {
				for j := range per {
					if _, err := tx.ExecContext(ctx, `INSERT INTO notes (body, tag) VALUES (?, 'batch')`,
						fmt.Sprint(i, j)); err != nil {
						return err
					}
				}
				if i == 0 {
					close(inTx)
					<-release
				}
				return nil
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()

	// While the first batch is open, readers run and see none of it.
	<-inTx
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var n int
			err := db.Read(ctx, func(tx *sql.Tx) error {
				return tx.QueryRowContext(ctx, `SELECT count(*) FROM notes WHERE tag = 'batch'`).Scan(&n)
			})
			if err != nil || n != 0 {
				t.Errorf("read during an open write: %d rows, %v", n, err)
			}
		}()
	}
	readers.Wait()
	close(release)

	// Then readers run beside the writer and only ever see whole batches.
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for range 50 {
				var n int
				err := db.Read(ctx, func(tx *sql.Tx) error {
					return tx.QueryRowContext(ctx, `SELECT count(*) FROM notes WHERE tag = 'batch'`).Scan(&n)
				})
				if err != nil {
					t.Error(err)
					return
				}
				if n%per != 0 {
					t.Errorf("a reader saw %d rows: half a transaction", n)
					return
				}
			}
		}()
	}
	readers.Wait()
	wg.Wait()
	var n int
	mustNil(t, db.Reader().QueryRow(`SELECT count(*) FROM notes WHERE tag = 'batch'`).Scan(&n))
	if n != batches*per {
		t.Errorf("%d rows, want %d", n, batches*per)
	}
}
