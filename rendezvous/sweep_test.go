package rendezvous

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// flakyDisabledStore fails DisabledSince while fail is set.
type flakyDisabledStore struct {
	store.Store
	fail   atomic.Bool
	failed atomic.Int32
}

func (s *flakyDisabledStore) DisabledSince(ctx context.Context, t time.Time) ([]string, error) {
	if s.fail.Load() {
		s.failed.Add(1)
		return nil, errors.New("database is locked")
	}
	return s.Store.DisabledSince(ctx, t)
}

// TestDisabledPollRetriesFailedWindow: a poll for disabled accounts that
// fails must be retried over the same window, not skipped, or an account
// disabled during a store hiccup keeps its live session.
func TestDisabledPollRetriesFailedWindow(t *testing.T) {
	var flaky *flakyDisabledStore
	clk := &manualClock{now: time.Now()}
	ts := startServerWrapped(t, func(cfg *Config) { cfg.Now = clk.Now }, func(st store.Store) store.Store {
		flaky = &flakyDisabledStore{Store: st}
		return flaky
	})
	alice := ts.register(t, "alice")

	flaky.fail.Store(true)
	if err := ts.store.SetDisabled(context.Background(), "alice", true, clk.Now()); err != nil {
		t.Fatal(err)
	}
	// The store fails for longer than the polls overlap.
	clk.Advance(10 * time.Second)
	seen := flaky.failed.Load()
	deadline := time.Now().Add(5 * time.Second)
	for flaky.failed.Load() < seen+2 {
		if time.Now().After(deadline) {
			t.Fatal("the server did not poll for disabled accounts")
		}
		time.Sleep(50 * time.Millisecond)
	}
	flaky.fail.Store(false)
	ev := waitMatching(t, alice.c, wire.EvSignedOut, 5*time.Second, func(wire.SignedOutEvent) bool { return true })
	if ev.Reason != wire.SignedOutDisabled {
		t.Errorf("signed_out reason %q, want %q", ev.Reason, wire.SignedOutDisabled)
	}
}
