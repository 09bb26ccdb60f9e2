package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/pgtest"
	"github.com/lanchat/lanchat/internal/sqlitedb"
)

// The PostgreSQL store brings a new database to its schema, several nodes
// starting at once migrate it once, and a newer schema is refused.
func TestPostgresSchema(t *testing.T) {
	ctx := context.Background()
	url := newPgEmptyDatabase(t)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			s, err := OpenPostgres(ctx, url)
			if err == nil {
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		mustNil(t, err)
	}
	s, err := OpenPostgres(ctx, url)
	mustNil(t, err)
	var v int
	mustNil(t, s.rawRow(ctx, `SELECT version FROM schema_version`).Scan(&v))
	if v != pgSchemaVersion {
		t.Errorf("schema version = %d, want %d", v, pgSchemaVersion)
	}
	mustNil(t, s.rawExec(ctx, `UPDATE schema_version SET version = ?`, pgSchemaVersion+1))
	s.Close()
	if _, err := OpenPostgres(ctx, url); !errors.Is(err, sqlitedb.ErrNewer) {
		t.Errorf("open of a newer schema: %v, want ErrNewer", err)
	}
}

func newPgEmptyDatabase(t *testing.T) string {
	t.Helper()
	return pgtest.NewDatabase(t)
}

func TestPostgresURL(t *testing.T) {
	for in, want := range map[string]bool{
		"postgres://u@db/lanchat":   true,
		"postgresql:///lanchat":     true,
		"/var/lib/rendezvous.db":    false,
		"rendezvous.db":             false,
		"postgres.db":               false,
		"file:postgres://not-a-url": false,
	} {
		if got := IsPostgresURL(in); got != want {
			t.Errorf("IsPostgresURL(%q) = %v", in, got)
		}
	}
	_, err := OpenPostgres(context.Background(), "postgres://user:secret@[bad")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("malformed URL: %v", err)
	}
}

// A reader following a recipient's relay with a cursor (as the server
// does) sees every message even while two stores (two nodes) put
// messages for that recipient concurrently: sequence numbers become
// visible in increasing order.
func TestRelayCursorUnderConcurrentPuts(t *testing.T) {
	eachBackend(t, testRelayCursorUnderConcurrentPuts)
}

func testRelayCursorUnderConcurrentPuts(t *testing.T, be backend) {
	ctx := context.Background()
	loc := be.location(t)
	a, err := be.open(ctx, loc)
	mustNil(t, err)
	defer a.Close()
	b, err := be.open(ctx, loc)
	mustNil(t, err)
	defer b.Close()
	const writers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		s := []suiteStore{a, b}[w%2]
		wg.Go(func() {
			for i := range each {
				m := RelayMessage{Recipient: "bob", ID: fmt.Sprintf("w%d-%d", w, i), Sender: "alice", Created: at(0)}
				if _, err := s.PutRelay(ctx, m, Quota{}); err != nil {
					errs <- err
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]bool{}
	var cursor int64
	deadline := time.Now().Add(2 * time.Minute)
	for finished := false; time.Now().Before(deadline); {
		ms, err := a.PendingRelay(ctx, "bob", cursor, 50)
		mustNil(t, err)
		for _, m := range ms {
			if seen[m.ID] {
				t.Fatalf("%s seen twice", m.ID)
			}
			seen[m.ID] = true
			cursor = m.Seq
		}
		if len(ms) > 0 {
			continue
		}
		if finished {
			break // one whole read after the last put
		}
		select {
		case <-done:
			finished = true
		case <-time.After(time.Millisecond):
		}
	}
	<-done
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Whatever the cursor skipped is still stored below it.
	if len(seen) != writers*each {
		all, err := a.PendingRelay(ctx, "bob", 0, 2*writers*each)
		mustNil(t, err)
		t.Fatalf("the cursor saw %d of %d messages (%d stored)", len(seen), writers*each, len(all))
	}
}
