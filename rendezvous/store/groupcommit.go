package store

import (
	"context"
	"sync"
	"time"
)

// Group commit tuning: a leader takes at most groupMax writes into one
// transaction, and the transaction has groupTimeout to commit whatever
// any one caller's context says (one caller giving up must not fail the
// writes of the others).
const (
	groupMax     = 512
	groupTimeout = 30 * time.Second
)

// groupCommit runs the writes of concurrent callers in one transaction, so
// that they share one commit and, on SQLite, one fsync. It knows nothing
// of the database: begin runs a function in one transaction and commits
// it, isolate runs a function inside a savepoint of that transaction, so
// a PostgreSQL store can use it as well as the SQLite one.
//
// There is no goroutine of its own: the first caller to find no
// transaction running leads, and takes everything queued so far into one
// transaction; writes that arrive meanwhile wait for the next one, led by
// the oldest of them. Under load a transaction therefore carries whatever
// arrived during the one before, and alone a write costs what it did.
// Each write runs in its own savepoint: one that fails rolls back alone
// and the others commit. Every caller returns only once its write is
// committed (or failed).
type groupCommit[Tx any] struct {
	begin   func(ctx context.Context, fn func(tx Tx) error) error
	isolate func(ctx context.Context, tx Tx, fn func(tx Tx) error) error

	mu      sync.Mutex
	queue   []*groupWrite[Tx]
	leading bool // a caller is running a transaction

	commits uint64 // transactions committed, for the tests and the metrics
	writes  uint64 // writes they carried
}

// groupWrite is one caller's write in the queue.
type groupWrite[Tx any] struct {
	fn   func(ctx context.Context, tx Tx) error
	wake chan struct{} // closed or sent to when done, or when made leader
	lead bool          // made leader: run the next transaction
	done bool
	err  error
}

// write runs fn in a transaction shared with the writes of concurrent
// callers and returns once that transaction committed: fn's error if fn
// failed (its savepoint rolled back), the commit's error if the commit
// failed, or ctx's if ctx ended before fn was taken into a transaction.
// fn runs at most once.
func (g *groupCommit[Tx]) write(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	w := &groupWrite[Tx]{fn: fn, wake: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if !g.leading {
		g.leading = true
		w.lead = true
	}
	g.mu.Unlock()
	for {
		g.mu.Lock()
		done, lead := w.done, w.lead
		g.mu.Unlock()
		if done {
			return w.err // set before done, never after
		}
		if lead {
			g.lead()
			continue
		}
		select {
		case <-w.wake:
		case <-ctx.Done():
			g.mu.Lock()
			if w.lead || w.done {
				// Made leader (it must lead, or the queue stalls) or
				// finished just now.
				g.mu.Unlock()
				continue
			}
			for i, q := range g.queue {
				if q == w {
					// Not taken yet: it never runs.
					g.queue = append(g.queue[:i], g.queue[i+1:]...)
					g.mu.Unlock()
					return ctx.Err()
				}
			}
			g.mu.Unlock()
			// Taken into a running transaction: its outcome comes soon
			// (the transaction has its own time limit).
			<-w.wake
		}
	}
}

// lead runs one transaction with everything queued, then hands the lead
// to the oldest write that arrived meanwhile, if any.
func (g *groupCommit[Tx]) lead() {
	g.mu.Lock()
	n := min(len(g.queue), groupMax)
	batch := append([]*groupWrite[Tx](nil), g.queue[:n]...)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	for _, w := range batch {
		w.lead = false
	}
	g.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	errs := make([]error, len(batch))
	err := g.begin(ctx, func(tx Tx) error {
		for i, w := range batch {
			errs[i] = g.isolate(ctx, tx, func(tx Tx) error { return w.fn(ctx, tx) })
		}
		return nil
	})
	cancel()

	g.mu.Lock()
	if err == nil {
		g.commits++
		g.writes += uint64(len(batch))
	}
	for i, w := range batch {
		w.done = true
		w.err = errs[i]
		if err != nil {
			w.err = err
		}
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	if len(g.queue) > 0 {
		next := g.queue[0]
		next.lead = true
		select {
		case next.wake <- struct{}{}:
		default:
		}
	} else {
		g.leading = false
	}
	g.mu.Unlock()
}

// stats returns the transactions committed and the writes they carried.
func (g *groupCommit[Tx]) stats() (commits, writes uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.commits, g.writes
}
