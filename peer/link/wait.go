package link

import (
	"context"
	"time"
)

// waitPoll is how often WaitConnected looks at the link.
const waitPoll = 25 * time.Millisecond

// WaitConnected waits until a connection is up or ctx ends, and reports
// whether one is up. It lets a request that needs the server, made just
// as the daemon starts or reconnects, wait for the dial in progress
// instead of failing at once.
func (l *Link) WaitConnected(ctx context.Context) bool {
	t := time.NewTicker(waitPoll)
	defer t.Stop()
	for {
		if l.Connected() {
			return true
		}
		select {
		case <-ctx.Done():
			return l.Connected()
		case <-t.C:
		}
	}
}
