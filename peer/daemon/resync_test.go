package daemon

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// TestGroupChangesBurstSyncsOnce: members joining a big room one after
// another, each change pushed to every member, cost this daemon one or
// two roster syncs, not one each; and the last change is in the roster.
func TestGroupChangesBurstSyncsOnce(t *testing.T) {
	u := newUnitDaemon(t)
	dir := newGroupDirectory(t, []string{"m00"})
	u.fake.mu.Lock()
	u.fake.handle = dir.handle
	u.fake.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go u.feed.syncLoop(ctx)
	u.fake.called()

	const n = 50
	for i := range n {
		name := fmt.Sprintf("j%02d", i)
		dir.add(t, name)
		u.feed.handleServerEvent(ctx, mustEvent(t, wire.EvGroup, wire.GroupEvent{Change: wire.GroupJoined, Username: name,
			Group: wire.Group{ID: "00112233445566778899aabbccddeeff", Name: "team"}}))
	}
	deadline := time.Now().Add(10 * time.Second)
	for !u.roster.Member("00112233445566778899aabbccddeeff", fmt.Sprintf("j%02d", n-1)) {
		if time.Now().After(deadline) {
			t.Fatal("the last member to join is not in the roster")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(2 * resyncSettle)
	calls := u.fake.called()
	if syncs := count(calls, wire.OpGroupsList); syncs < 1 || syncs > 2 {
		t.Fatalf("%d roster syncs for %d group changes, want 1 or 2", syncs, n)
	}
	// The new members' keys came together, not one request each.
	if m := count(calls, wire.OpKeysGet); m != 0 {
		t.Fatalf("%d keys.get requests, want keys.get_many only", m)
	}
}

func mustEvent(t *testing.T, op string, body any) *wire.Frame {
	t.Helper()
	f, err := wire.NewEvent(op, body)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A group send waits for the syncs asked for before it, and only those.
func TestSyncAsksWait(t *testing.T) {
	var a syncAsks
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.wait(ctx) // nothing asked: at once
	if ctx.Err() != nil {
		t.Fatal("wait with nothing asked did not return at once")
	}
	a.ask()
	waited := make(chan struct{})
	go func() { a.wait(ctx); close(waited) }()
	select {
	case <-waited:
		t.Fatal("wait returned before the sync asked for ran")
	case <-time.After(50 * time.Millisecond):
	}
	n, _ := a.begin()
	a.ask() // asked while the sync runs: not answered by it
	a.answered(n)
	select {
	case <-waited:
	case <-ctx.Done():
		t.Fatal("wait did not return once the sync ran")
	}
	short, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	a.wait(short) // the second ask is pending: only the context ends it
	if short.Err() == nil {
		t.Fatal("wait returned with a sync still to run")
	}
}
