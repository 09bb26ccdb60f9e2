package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Group commit tuning: a leader takes at most GroupMax writes into one
// transaction, and the transaction has GroupTimeout to commit whatever any
// one caller's context says (one caller giving up must not fail the
// writes of the others).
const (
	GroupMax     = 512
	GroupTimeout = 30 * time.Second
)

// Group runs the writes of concurrent callers in one transaction, so that
// they share one commit and, on SQLite, one fsync. It is the design of the
// rendezvous store's relay group commit, made generic over the
// transaction: Begin runs a function in one transaction and commits it
// (durably if sync, else as the database allows, see WriteNoSync),
// Isolate runs a function inside a savepoint of that transaction.
//
// There is no goroutine of its own: the first caller to find no
// transaction running leads, and takes everything queued so far into one
// transaction; writes that arrive meanwhile wait for the next one, led by
// the oldest of them. Under load a transaction therefore carries whatever
// arrived during the one before, and alone a write costs what it did.
// Writes run in the order they were queued, each in its own savepoint:
// one that fails rolls back alone and the others commit. Every caller
// returns only once its write is committed (or failed).
type Group[Tx any] struct {
	Begin   func(ctx context.Context, sync bool, fn func(tx Tx) error) error
	Isolate func(ctx context.Context, tx Tx, fn func(tx Tx) error) error

	mu      sync.Mutex
	queue   []*groupWrite[Tx]
	leading bool // a caller is running a transaction

	commits uint64 // transactions committed
	synced  uint64 // of them, committed durably (one fsync each)
	writes  uint64 // writes they carried
}

// groupWrite is one caller's write in the queue.
type groupWrite[Tx any] struct {
	fn   func(ctx context.Context, tx Tx) error
	sync bool          // must be durable when the caller returns
	wake chan struct{} // sent to when done, or when made leader
	lead bool          // made leader: run the next transaction
	done bool
	err  error
}

// NewGroup returns a Group over db's writer: Begin is Write or
// WriteNoSync, Isolate a savepoint.
func NewGroup(db *DB) *Group[*sql.Tx] {
	return &Group[*sql.Tx]{
		Begin: func(ctx context.Context, sync bool, fn func(tx *sql.Tx) error) error {
			if sync {
				return db.Write(ctx, fn)
			}
			return db.WriteNoSync(ctx, fn)
		},
		Isolate: Savepoint,
	}
}

// Write runs fn in a transaction shared with the writes of concurrent
// callers and returns once that transaction committed durably: fn's error
// if fn failed (its savepoint rolled back), the commit's error if the
// commit failed, or ctx's if ctx ended before fn was taken into a
// transaction. fn runs at most once.
func (g *Group[Tx]) Write(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	return g.write(ctx, true, fn)
}

// WriteNoSync is Write for bookkeeping that may be lost with the machine
// (not with the process): it returns once committed, but waits for no
// fsync of its own. A transaction that carries only such writes commits
// without one; the next durable commit makes them durable too.
func (g *Group[Tx]) WriteNoSync(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	return g.write(ctx, false, fn)
}

func (g *Group[Tx]) write(ctx context.Context, sync bool, fn func(ctx context.Context, tx Tx) error) error {
	w := &groupWrite[Tx]{fn: fn, sync: sync, wake: make(chan struct{}, 1)}
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
func (g *Group[Tx]) lead() {
	g.mu.Lock()
	n := min(len(g.queue), GroupMax)
	batch := append([]*groupWrite[Tx](nil), g.queue[:n]...)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	sync := false
	for _, w := range batch {
		w.lead = false
		sync = sync || w.sync
	}
	g.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), GroupTimeout)
	errs := make([]error, len(batch))
	err := g.Begin(ctx, sync, func(tx Tx) error {
		if len(batch) == 1 {
			// Alone, a write needs no savepoint: its transaction
			// isolates it, and rolls back if it fails.
			errs[0] = batch[0].fn(ctx, tx)
			return errs[0]
		}
		for i, w := range batch {
			errs[i] = g.Isolate(ctx, tx, func(tx Tx) error { return w.fn(ctx, tx) })
		}
		return nil
	})
	cancel()

	g.mu.Lock()
	if err == nil {
		g.commits++
		if sync {
			g.synced++
		}
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

// GroupStats are a Group's counts since it was made.
type GroupStats struct {
	Commits uint64 // transactions committed
	Synced  uint64 // of them, durable commits: one fsync each
	Writes  uint64 // writes they carried
	Queued  int    // writes waiting now
}

// Stats returns the group's counts.
func (g *Group[Tx]) Stats() GroupStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return GroupStats{Commits: g.commits, Synced: g.synced, Writes: g.writes, Queued: len(g.queue)}
}

// The statements of a savepoint, for a caller that prepares them once
// (SavepointOn).
const (
	SQLSavepoint  = `SAVEPOINT w`
	SQLRollbackTo = `ROLLBACK TO w`
	SQLRelease    = `RELEASE w`
)

// Savepoint runs fn inside a savepoint of tx: if fn fails, what it did is
// rolled back and the rest of tx stays.
func Savepoint(ctx context.Context, tx *sql.Tx, fn func(tx *sql.Tx) error) error {
	return SavepointOn(ctx, tx, func() error { return fn(tx) })
}

// SavepointOn is Savepoint with the savepoint's statements run by ex, so
// that a caller with prepared statements has them parsed once.
func SavepointOn(ctx context.Context, ex Execer, fn func() error) error {
	if _, err := ex.ExecContext(ctx, SQLSavepoint); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := ex.ExecContext(ctx, SQLRollbackTo); rerr != nil {
			return errors.Join(err, fmt.Errorf("roll back to savepoint: %w", rerr))
		}
		if _, rerr := ex.ExecContext(ctx, SQLRelease); rerr != nil {
			return errors.Join(err, fmt.Errorf("release savepoint: %w", rerr))
		}
		return err
	}
	_, err := ex.ExecContext(ctx, SQLRelease)
	return err
}
