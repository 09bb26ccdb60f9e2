package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// holdLeader starts a group write that stays in its transaction until the
// returned release is called, so that writes made meanwhile queue up and
// share the next transaction.
func holdLeader(t *testing.T, s *SQLite) (release func(), done <-chan error) {
	t.Helper()
	inside := make(chan struct{})
	hold := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.group.Write(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			close(inside)
			<-hold
			return nil
		})
	}()
	<-inside
	return func() { close(hold) }, errc
}

// waitQueued waits until n writes wait in the group's queue.
func waitQueued(t *testing.T, s *SQLite, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := s.group.Stats().Queued
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommitShares: relay batches and acknowledgements made while a
// transaction runs share the next one, and each caller returns only after
// it committed, with its own results.
func TestGroupCommitShares(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	put(t, s, relayMsg("bob", id(100), 10, time.Now()), Quota{})
	c0, w0 := s.RelayCommits()

	release, leaderDone := holdLeader(t, s)
	const n = 20
	var wg sync.WaitGroup
	results := make([][]RelayPut, n)
	errs := make([]error, n+1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.PutRelays(ctx, []RelayMessage{relayMsg("bob", id(i), 10, time.Now()), relayMsg("carol", id(i), 10, time.Now())}, Quota{})
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, errs[n] = s.AckRelay(ctx, "bob", fromAlice(id(100)), nil, time.Now())
	}()
	waitQueued(t, s, n+1)
	// Nothing is committed (nor answered) while the transaction before
	// runs.
	if msgs, err := s.PendingRelay(ctx, "carol", 0, 100); err != nil || len(msgs) != 0 {
		t.Fatalf("carol's relay before the commit: %d, %v", len(msgs), err)
	}
	release()
	wg.Wait()
	mustNil(t, <-leaderDone)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	for i, r := range results {
		if len(r) != 2 || !r[0].Inserted || !r[1].Inserted {
			t.Fatalf("batch %d: %+v, want both inserted", i, r)
		}
	}
	c1, w1 := s.RelayCommits()
	if c1-c0 != 2 || w1-w0 != n+2 {
		t.Fatalf("%d commits carried %d writes, want 2 carrying %d (the held one, then all the rest together)", c1-c0, w1-w0, n+2)
	}
	for _, who := range []string{"bob", "carol"} {
		msgs, err := s.PendingRelay(ctx, who, 0, 100)
		mustNil(t, err)
		if len(msgs) != n {
			t.Fatalf("%d messages for %s, want %d (and the acknowledged one gone)", len(msgs), who, n)
		}
	}
}

// TestGroupCommitFailureIsolated: a write that fails in a shared
// transaction rolls back alone; the others commit.
func TestGroupCommitFailureIsolated(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	release, leaderDone := holdLeader(t, s)
	boom := errors.New("boom")
	errc := make(chan error, 2)
	go func() {
		errc <- s.group.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := s.putRelayTx(ctx, tx, s.relayTallies(ctx, tx), relayMsg("bob", id(1), 10, time.Now()), Quota{}); err != nil {
				return err
			}
			return boom // after its insert: the insert must go
		})
	}()
	waitQueued(t, s, 1)
	go func() {
		_, err := s.PutRelays(ctx, []RelayMessage{relayMsg("bob", id(2), 10, time.Now())}, Quota{})
		errc <- err
	}()
	waitQueued(t, s, 2)
	release()
	mustNil(t, <-leaderDone)
	got := []error{<-errc, <-errc}
	if !(errors.Is(got[0], boom) && got[1] == nil || errors.Is(got[1], boom) && got[0] == nil) {
		t.Fatalf("errors %v, want boom for one and nil for the other", got)
	}
	msgs, err := s.PendingRelay(ctx, "bob", 0, 100)
	mustNil(t, err)
	if fmt.Sprint(relayIDs(msgs)) != fmt.Sprint([]string{id(2)}) {
		t.Fatalf("stored %v, want only the second write's %s", relayIDs(msgs), id(2))
	}
}

// TestGroupCommitGiveUpBeforeTaken: a caller whose context ends while its
// write waits for the next transaction is answered at once, and its
// write never runs.
func TestGroupCommitGiveUpBeforeTaken(t *testing.T) {
	s, _ := openTest(t)
	release, leaderDone := holdLeader(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.PutRelays(ctx, []RelayMessage{relayMsg("bob", id(1), 10, time.Now())}, Quota{})
		errc <- err
	}()
	waitQueued(t, s, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("PutRelays after its context ended: %v, want context.Canceled", err)
	}
	release()
	mustNil(t, <-leaderDone)
	// The group goes on: a later write commits.
	put(t, s, relayMsg("bob", id(2), 10, time.Now()), Quota{})
	msgs, err := s.PendingRelay(context.Background(), "bob", 0, 100)
	mustNil(t, err)
	if fmt.Sprint(relayIDs(msgs)) != fmt.Sprint([]string{id(2)}) {
		t.Fatalf("stored %v, want only %s", relayIDs(msgs), id(2))
	}
}

// id is a message id made from i.
func id(i int) string { return fmt.Sprintf("%032x", i) }
