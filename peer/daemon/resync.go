package daemon

import (
	"context"
	"time"
)

// resyncSettle is how long a roster sync asked for by a group change
// waits for more changes to come with it.
const resyncSettle = 250 * time.Millisecond

// syncSoon asks syncLoop for a roster sync. Asks made before it starts
// are answered by that one sync, and those made while it runs by one
// more.
func (sv *serverFeed) syncSoon() {
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
		sctx, cancel := context.WithTimeout(ctx, syncTimeout)
		if err := sv.syncRoster(sctx); err != nil {
			sv.log.Warn("sync after group change", "err", err)
		}
		cancel()
		sv.outbox.Kick()
	}
}
