package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"
)

// holdGroup starts a group write that stays in its transaction until the
// returned release is called, so that writes made meanwhile queue up and
// share the next transaction.
func holdGroup(t *testing.T, g *Group[*sql.Tx]) (release func(), done <-chan error) {
	t.Helper()
	inside := make(chan struct{})
	hold := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- g.Write(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			close(inside)
			<-hold
			return nil
		})
	}()
	<-inside
	return func() { close(hold) }, errc
}

// waitGroupQueued waits until n writes wait in g's queue.
func waitGroupQueued(t *testing.T, g *Group[*sql.Tx], n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for g.Stats().Queued != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", g.Stats().Queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func insertNote(body string) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notes (body) VALUES (?)`, body)
		return err
	}
}

func notes(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.Reader().Query(`SELECT body FROM notes WHERE body LIKE 'w%' ORDER BY id`)
	mustNil(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b string
		mustNil(t, rows.Scan(&b))
		out = append(out, b)
	}
	mustNil(t, rows.Err())
	return out
}

func synchronous(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	mustNil(t, db.Writer().QueryRow(`PRAGMA synchronous`).Scan(&n))
	return n
}

// TestGroupSharesInOrder: writes made while a transaction runs share the
// next one, run in the order they were queued, and are answered only
// after it committed; one that fails rolls back alone.
func TestGroupSharesInOrder(t *testing.T) {
	db, _ := openTest(t, Options{Migrations: schema})
	g := NewGroup(db)
	release, leaderDone := holdGroup(t, g)

	const n = 12
	boom := errors.New("boom")
	errs := make([]chan error, n)
	for i := range n {
		errs[i] = make(chan error, 1)
		fn := insertNote(fmt.Sprintf("w%02d", i))
		if i == 5 {
			// Writes, then fails: its row must go with it.
			fn = func(ctx context.Context, tx *sql.Tx) error {
				if err := insertNote("w05")(ctx, tx); err != nil {
					return err
				}
				return boom
			}
		}
		write := g.Write
		if i%3 == 0 {
			write = g.WriteNoSync
		}
		go func() { errs[i] <- write(context.Background(), fn) }()
		waitGroupQueued(t, g, i+1) // queued one after another: a known order
	}
	if got := notes(t, db); len(got) != 0 {
		t.Fatalf("rows before the shared commit: %v", got)
	}
	for i := range n {
		select {
		case err := <-errs[i]:
			t.Fatalf("write %d answered before its commit: %v", i, err)
		default:
		}
	}
	before := g.Stats()
	release()
	mustNil(t, <-leaderDone)
	for i := range n {
		err := <-errs[i]
		if i == 5 {
			if !errors.Is(err, boom) {
				t.Fatalf("write 5: %v, want its own error", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	after := g.Stats()
	if c := after.Commits - before.Commits; c != 2 {
		t.Fatalf("%d commits for the held write and %d queued ones, want 2", c, n)
	}
	if s := after.Synced - before.Synced; s != 2 {
		t.Fatalf("%d durable commits, want 2 (a batch with one durable write is durable)", s)
	}
	want := []string{}
	for i := range n {
		if i != 5 {
			want = append(want, fmt.Sprintf("w%02d", i))
		}
	}
	if got := notes(t, db); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows %v, want %v (queue order, without the failed one)", got, want)
	}
	if s := synchronous(t, db); s != 2 {
		t.Fatalf("synchronous = %d after the group, want 2 (FULL)", s)
	}
}

// TestGroupNoSyncOnly: a transaction of bookkeeping writes alone commits
// without a durable commit, and leaves the writer at synchronous=FULL.
func TestGroupNoSyncOnly(t *testing.T) {
	db, path := openTest(t, Options{Migrations: schema})
	g := NewGroup(db)
	ctx := context.Background()
	mustNil(t, g.WriteNoSync(ctx, insertNote("w-lazy")))
	st := g.Stats()
	if st.Commits != 1 || st.Synced != 0 {
		t.Fatalf("stats %+v, want one commit, none durable", st)
	}
	if s := synchronous(t, db); s != 2 {
		t.Fatalf("synchronous = %d after WriteNoSync, want 2 (FULL)", s)
	}
	// Committed: another process (here a second open) sees it.
	db2, err := Open(ctx, path, Options{Migrations: schema})
	mustNil(t, err)
	defer db2.Close()
	if got := notes(t, db2); len(got) != 1 {
		t.Fatalf("rows seen by another connection: %v", got)
	}
	// A failing one rolls back and restores FULL too.
	boom := errors.New("boom")
	err = db.WriteNoSync(ctx, func(tx *sql.Tx) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("WriteNoSync: %v, want boom", err)
	}
	if s := synchronous(t, db); s != 2 {
		t.Fatalf("synchronous = %d after a failed WriteNoSync, want 2 (FULL)", s)
	}
}

// TestGroupCancelQueued: a write whose context ends while it waits in the
// queue never runs and returns the context's error; the others go on.
func TestGroupCancelQueued(t *testing.T) {
	db, _ := openTest(t, Options{Migrations: schema})
	g := NewGroup(db)
	release, leaderDone := holdGroup(t, g)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- g.Write(ctx, insertNote("w-cancelled")) }()
	waitGroupQueued(t, g, 1)
	other := make(chan error, 1)
	go func() { other <- g.Write(context.Background(), insertNote("w-kept")) }()
	waitGroupQueued(t, g, 2)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled write: %v", err)
	}
	release()
	mustNil(t, <-leaderDone)
	mustNil(t, <-other)
	if got := notes(t, db); fmt.Sprint(got) != "[w-kept]" {
		t.Fatalf("rows %v, want only w-kept", got)
	}
}
