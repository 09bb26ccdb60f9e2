package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// resyncSettle is how long a roster sync asked for by a group change
// waits for more changes to come with it.
const resyncSettle = 250 * time.Millisecond

// rosterSettleWait bounds how long a group send waits for the roster
// syncs asked for before it; past it the send goes to the members known.
const rosterSettleWait = 5 * time.Second

// syncSoon asks syncLoop for a roster sync. Asks made before it starts
// are answered by that one sync, and those made while it runs by one
// more.
func (sv *serverFeed) syncSoon() {
	sv.syncs.ask()
	select {
	case sv.resync <- struct{}{}:
	default:
	}
}

// syncLoop runs the roster syncs syncSoon asks for, one at a time, until
// ctx ends. A big room's members come and go often, and each change
// reaches every member: answered one sync each, a burst of them would
// have every member's daemon list the room again and again, and hold up
// the server's other events meanwhile.
func (sv *serverFeed) syncLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sv.resync:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(resyncSettle):
		}
		asked, notes := sv.syncs.begin()
		sctx, cancel := context.WithTimeout(ctx, syncTimeout)
		if err := sv.syncRoster(sctx); err != nil {
			sv.log.Warn("sync after group change", "err", err)
		}
		cancel()
		sv.syncs.answered(asked)
		for _, ev := range notes {
			sv.notify(ev)
		}
		sv.outbox.Kick()
	}
}

// syncAsks counts the roster syncs asked for and those answered, so that a
// group send can wait for a change it has been told of to reach the
// roster: a member who just joined gets the message too.
type syncAsks struct {
	mu     sync.Mutex
	asked  uint64
	done   uint64
	change chan struct{} // closed when done moves
	// notes are the clients' events of the changes asked for, told once
	// the sync that answers them has run.
	notes []api.Event
}

// maxSyncNotes bounds the events kept for one sync: past it the oldest
// are dropped (the clients read the roster again on the newest anyway).
const maxSyncNotes = 256

// note keeps a client event until the sync that answers it has run.
func (a *syncAsks) note(ev api.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.notes) >= maxSyncNotes {
		a.notes = a.notes[1:]
	}
	a.notes = append(a.notes, ev)
}

func (a *syncAsks) ask() {
	a.mu.Lock()
	a.asked++
	a.mu.Unlock()
}

// begin returns the asks the sync about to run answers, and the events
// to tell once it has.
func (a *syncAsks) begin() (uint64, []api.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	notes := a.notes
	a.notes = nil
	return a.asked, notes
}

// answered records that the asks up to n are answered (the sync may have
// failed: the waiters go on with the roster they have).
func (a *syncAsks) answered(n uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.done = max(a.done, n)
	if a.change != nil {
		close(a.change)
		a.change = nil
	}
}

// wait returns once every sync asked for before it was called has run,
// when ctx ends, or after rosterSettleWait: then the caller goes on with
// the roster it has.
func (a *syncAsks) wait(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, rosterSettleWait)
	defer cancel()
	a.mu.Lock()
	want := a.asked
	for a.done < want {
		if a.change == nil {
			a.change = make(chan struct{})
		}
		ch := a.change
		a.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
		a.mu.Lock()
	}
	a.mu.Unlock()
}
