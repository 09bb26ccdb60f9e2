package history

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/transfer/checkpoint"
)

// How Checkpoints batches its writes.
const (
	// flushInterval is how long a change to an entry may stay in memory
	// only: the most progress a crash can lose.
	flushInterval = 250 * time.Millisecond
	// flushBatch is how many changed entries make the flusher write at
	// once, without waiting for flushInterval.
	flushBatch = 1000
	// idleEvict is how long a checkpoint nobody touches stays in memory
	// once written; it is read back from disk when needed again.
	idleEvict = time.Minute
)

// errClosed is returned by Checkpoints methods once the Store is closed.
var errClosed = errors.New("history store closed")

// Checkpoints is the receiver's resume state, a transfer.Progress kept in
// the history database: one row per transfer (the sender's key, the
// destination) and one per entry, so that a transfer of 100,000 files
// never rewrites more than the entries that moved. Get it from
// Store.Checkpoints. It is safe for concurrent use.
//
// Begin writes the whole checkpoint in one transaction before it returns.
// Save and Finish only change a copy in memory, which Load returns at
// once; a flusher owned by the Store writes the changed entries in one
// transaction at most flushInterval (250 ms) later, or as soon as
// flushBatch of them are waiting, and Flush and Store.Close write them
// at once.
//
// That is the durability trade-off: the writer is synchronous=FULL, so a
// commit per call (an fsync each) would hold a folder of 10,000 small
// files to a few hundred files a second. If the process dies without
// Close (a crash, a kill, a power cut), up to the last ~250 ms of Save
// and Finish calls are lost, and the transfer resumes from the state
// before them. A lost Save only means that some verified bytes are sent
// again: the receiver trusts Verified only as far as it was saved, and
// trims the partial file to it. A lost Finish is costlier: the file is in
// place but the checkpoint does not say so and its partial file is gone,
// so the transfer package receives it again, under a numbered name since
// its own is taken; at most the files finished in those 250 ms.
type Checkpoints struct {
	s *Store

	// flushMu is held by every writer of checkpoint rows (a flush, Begin,
	// Forget) and by eviction, so that rows change in the order memory
	// did, and a checkpoint leaves memory only when its rows are current.
	flushMu sync.Mutex

	mu    sync.Mutex // guards the fields below and every checkpoint's
	cps   map[string]*cached
	dirty int // changed entries across cps
	// gen grows whenever a checkpoint leaves or replaces one in memory,
	// so that a read from disk that raced it is done again.
	gen uint64
	// flushErr is the background flusher's latest failure, reported by
	// the next Save or Finish.
	flushErr error
	closed   bool

	wake   chan struct{} // the first entry changed since the last flush
	full   chan struct{} // flushBatch entries changed
	quit   chan struct{}
	exited chan struct{}
}

// cached is one transfer's checkpoint in memory.
type cached struct {
	cp      checkpoint.Transfer
	dirty   map[int]struct{} // entries changed since they were written
	touched time.Time
}

// newCheckpoints starts the flusher of s's checkpoints; Store.Close stops
// it.
func newCheckpoints(s *Store) *Checkpoints {
	c := &Checkpoints{
		s:      s,
		cps:    make(map[string]*cached),
		wake:   make(chan struct{}, 1),
		full:   make(chan struct{}, 1),
		quit:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	go c.run()
	return c
}

// Checkpoints returns the receiver's resume state kept in this store, the
// daemon's transfer.Progress. There is one per Store.
func (s *Store) Checkpoints() *Checkpoints { return s.cps }

// checkTransferID accepts the id of an offer.
func checkTransferID(id string) error {
	if werr := wire.CheckMessageID("id", id); werr != nil {
		return invalid("transfer id %q must be 32 lower-case hex digits", id)
	}
	return nil
}

// Load implements transfer.Progress: it returns a copy of the latest
// state of transfer id, from memory if it is there, else from disk; nil
// and no error if there is none.
func (c *Checkpoints) Load(ctx context.Context, id string) (*checkpoint.Transfer, error) {
	var cp *checkpoint.Transfer
	err := c.with(ctx, id, func(k *cached) error {
		if k != nil {
			cp = k.cp.Clone()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load progress of %s: %w", id, err)
	}
	return cp, nil
}

// Begin implements transfer.Progress: it stores a copy of cp as the
// checkpoint of transfer id, replacing any earlier one, all entries in
// one transaction, before it returns.
func (c *Checkpoints) Begin(ctx context.Context, id string, cp *checkpoint.Transfer) error {
	err := checkTransferID(id)
	switch {
	case err != nil:
	case cp == nil:
		err = invalid("no checkpoint")
	case len(cp.Entries) > checkpoint.MaxEntries:
		err = invalid("%d entries; the most is %d", len(cp.Entries), checkpoint.MaxEntries)
	}
	if err != nil {
		return fmt.Errorf("begin progress of %s: %w", id, err)
	}
	k := &cached{cp: *cp.Clone()}

	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	if c.isClosed() {
		return fmt.Errorf("begin progress of %s: %w", id, errClosed)
	}
	err = c.s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM checkpoints WHERE transfer = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (transfer, peer, dir) VALUES (?, ?, ?)`,
			id, k.cp.Peer, k.cp.Dir); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO checkpoint_entries
			(transfer, entry, offered, path, size, mtime, is_dir, verified, done) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, e := range k.cp.Entries {
			if _, err := stmt.ExecContext(ctx, id, i, e.Offered, e.Path, e.Size, e.ModTime, e.Dir,
				e.Verified, e.Done); err != nil {
				return fmt.Errorf("entry %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("begin progress of %s: %w", id, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(id)
	k.touched = time.Now()
	c.cps[id] = k
	return nil
}

// Save implements transfer.Progress: it records that the first verified
// bytes of entry are written, hashed and synced. The change is in memory
// at once and on disk within flushInterval. An error may also report that
// an earlier background write failed; the change itself is then still
// kept, and written by the next flush.
func (c *Checkpoints) Save(ctx context.Context, id string, entry int, verified int64) error {
	return c.update(ctx, "save", id, entry, func(e *checkpoint.Entry) { e.Verified = verified })
}

// Finish implements transfer.Progress: it records that entry is complete
// at path (relative to the checkpoint's Dir). It is kept like Save's.
func (c *Checkpoints) Finish(ctx context.Context, id string, entry int, path string) error {
	return c.update(ctx, "finish", id, entry, func(e *checkpoint.Entry) {
		e.Path, e.Verified, e.Done = path, e.Size, true
	})
}

// update applies f to an entry in memory and marks it for the flusher.
func (c *Checkpoints) update(ctx context.Context, op, id string, entry int, f func(*checkpoint.Entry)) error {
	var earlier error
	err := c.with(ctx, id, func(k *cached) error {
		if k == nil {
			return fmt.Errorf("no checkpoint: %w", ErrNotFound)
		}
		if entry < 0 || entry >= len(k.cp.Entries) {
			return fmt.Errorf("no entry %d of %d: %w", entry, len(k.cp.Entries), ErrNotFound)
		}
		f(&k.cp.Entries[entry])
		c.markLocked(k, entry)
		earlier, c.flushErr = c.flushErr, nil
		return nil
	})
	if err == nil && earlier != nil {
		err = fmt.Errorf("kept in memory, but writing earlier progress failed: %w", earlier)
	}
	if err != nil {
		return fmt.Errorf("%s progress of %s entry %d: %w", op, id, entry, err)
	}
	return nil
}

// Forget implements transfer.Progress: it deletes the checkpoint of
// transfer id from disk and memory. Forgetting a transfer that has none
// is not an error.
func (c *Checkpoints) Forget(ctx context.Context, id string) error {
	if err := checkTransferID(id); err != nil {
		return fmt.Errorf("forget progress of %s: %w", id, err)
	}
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	if c.isClosed() {
		return fmt.Errorf("forget progress of %s: %w", id, errClosed)
	}
	// The entries go with their transfer's row (ON DELETE CASCADE).
	if _, err := c.s.w.ExecContext(ctx, `DELETE FROM checkpoints WHERE transfer = ?`, id); err != nil {
		return fmt.Errorf("forget progress of %s: %w", id, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(id)
	return nil
}

// Flush writes every change Save and Finish made so far, in one
// transaction. On failure the changes stay in memory for the next flush.
func (c *Checkpoints) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	if err := c.flushLocked(ctx); err != nil {
		return fmt.Errorf("flush progress: %w", err)
	}
	return nil
}

// with runs fn under c.mu with the checkpoint of id in memory, first
// reading it from disk if it is not there; k is nil if there is none.
// fn runs in the same critical section that found the checkpoint, so
// nothing can take it out of memory in between.
func (c *Checkpoints) with(ctx context.Context, id string, fn func(k *cached) error) error {
	if err := checkTransferID(id); err != nil {
		return err
	}
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return errClosed
		}
		if k := c.cps[id]; k != nil {
			return c.runLocked(k, fn)
		}
		gen := c.gen
		c.mu.Unlock()

		cp, err := c.read(ctx, id)
		if err != nil {
			return err
		}

		c.mu.Lock()
		switch k := c.cps[id]; {
		case c.closed:
			c.mu.Unlock()
			return errClosed
		case k != nil:
			// Another caller read it first, and may have changed it.
			return c.runLocked(k, fn)
		case c.gen != gen:
			// A Begin, Forget or eviction ran meanwhile: what was read
			// may be stale.
			c.mu.Unlock()
			continue
		case cp == nil:
			return c.runLocked(nil, fn)
		}
		k := &cached{cp: *cp}
		c.cps[id] = k
		return c.runLocked(k, fn)
	}
}

// runLocked runs fn on k, called with c.mu held, and releases it.
func (c *Checkpoints) runLocked(k *cached, fn func(k *cached) error) error {
	defer c.mu.Unlock()
	if k != nil {
		k.touched = time.Now()
	}
	return fn(k)
}

// read reads the checkpoint of id from disk; nil if there is none.
func (c *Checkpoints) read(ctx context.Context, id string) (*checkpoint.Transfer, error) {
	var cp *checkpoint.Transfer
	err := c.s.db.Read(ctx, func(tx *sql.Tx) error {
		cp = nil
		var peer, dir string
		err := tx.QueryRowContext(ctx, `SELECT peer, dir FROM checkpoints WHERE transfer = ?`, id).Scan(&peer, &dir)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT entry, offered, path, size, mtime, is_dir, verified, done
			FROM checkpoint_entries WHERE transfer = ? ORDER BY entry`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		var entries []checkpoint.Entry
		for rows.Next() {
			var (
				i int
				e checkpoint.Entry
			)
			if err := rows.Scan(&i, &e.Offered, &e.Path, &e.Size, &e.ModTime, &e.Dir, &e.Verified, &e.Done); err != nil {
				return err
			}
			if i != len(entries) {
				return fmt.Errorf("checkpoint entries out of sequence: %d after %d", i, len(entries))
			}
			entries = append(entries, e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		cp = &checkpoint.Transfer{Peer: peer, Dir: dir, Entries: entries}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cp, nil
}

// markLocked marks entry of k changed and tells the flusher.
func (c *Checkpoints) markLocked(k *cached, entry int) {
	if _, ok := k.dirty[entry]; ok {
		return
	}
	if k.dirty == nil {
		k.dirty = make(map[int]struct{})
	}
	k.dirty[entry] = struct{}{}
	c.dirty++
	switch c.dirty {
	case 1:
		signal(c.wake)
	case flushBatch:
		signal(c.full)
	}
}

// dropLocked takes the checkpoint of id, if any, out of memory, changes
// and all.
func (c *Checkpoints) dropLocked(id string) {
	if k := c.cps[id]; k != nil {
		c.dirty -= len(k.dirty)
		delete(c.cps, id)
	}
	c.gen++
}

func (c *Checkpoints) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// signal wakes whoever waits on ch without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// change is one changed entry on its way to disk.
type change struct {
	k        *cached
	id       string
	entry    int
	path     string
	verified int64
	done     bool
}

// flushLocked writes the changed entries in one transaction. The caller
// holds flushMu, so no Begin or Forget rewrites the rows meanwhile, and
// no checkpoint leaves memory. On failure the entries are marked changed
// again (memory still holds their latest values) and the flusher is woken
// to try again.
func (c *Checkpoints) flushLocked(ctx context.Context) error {
	c.mu.Lock()
	if c.dirty == 0 {
		c.mu.Unlock()
		return nil
	}
	batch := make([]change, 0, c.dirty)
	for id, k := range c.cps {
		for i := range k.dirty {
			e := &k.cp.Entries[i]
			batch = append(batch, change{k: k, id: id, entry: i, path: e.Path, verified: e.Verified, done: e.Done})
		}
		k.dirty = nil
	}
	c.dirty = 0
	c.mu.Unlock()

	// In key order, each B-tree page is visited once.
	slices.SortFunc(batch, func(a, b change) int {
		return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.entry, b.entry))
	})
	err := c.s.db.Write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE checkpoint_entries SET path = ?, verified = ?, done = ?
			WHERE transfer = ? AND entry = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, ch := range batch {
			if _, err := stmt.ExecContext(ctx, ch.path, ch.verified, ch.done, ch.id, ch.entry); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range batch {
		if c.cps[ch.id] == ch.k {
			c.markLocked(ch.k, ch.entry)
		}
	}
	signal(c.wake)
	return fmt.Errorf("write %d entries: %w", len(batch), err)
}

// run is the flusher: woken by the first change after a flush, it waits
// flushInterval (or until flushBatch entries changed) and writes them
// all. Every idleEvict it drops the checkpoints nobody touched meanwhile.
func (c *Checkpoints) run() {
	defer close(c.exited)
	sweep := time.NewTicker(idleEvict)
	defer sweep.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-sweep.C:
			c.evict(idleEvict)
		case <-c.wake:
			t := time.NewTimer(flushInterval)
			select {
			case <-c.quit:
				t.Stop()
				return // close flushes
			case <-c.full:
			case <-t.C:
			}
			t.Stop()
			c.flushMu.Lock()
			err := c.flushLocked(context.Background())
			c.flushMu.Unlock()
			c.mu.Lock()
			c.flushErr = err
			c.mu.Unlock()
		}
	}
}

// evict drops from memory the checkpoints that are on disk as they are
// and were not touched for idle.
func (c *Checkpoints) evict(idle time.Duration) {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for id, k := range c.cps {
		if len(k.dirty) == 0 && now.Sub(k.touched) >= idle {
			c.dropLocked(id)
		}
	}
}

// close stops the flusher and writes what it had not written yet. Later
// calls of any method fail.
func (c *Checkpoints) close() error {
	close(c.quit)
	<-c.exited
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	err := c.flushLocked(context.Background())
	c.mu.Lock()
	c.cps = nil
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("flush progress: %w", err)
	}
	return nil
}
