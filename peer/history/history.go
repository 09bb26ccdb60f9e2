// Package history is the peer daemon's store: one SQLite file per user that
// keeps everything the daemon must remember between runs. It holds the
// contacts with their pinned identity keys and the addresses that last
// reached them; the conversations and their messages, with a full-text
// index for search; the outbox of messages that still have to leave this
// machine; the secret halves of the user's prekeys, which open relayed
// envelopes; the file transfers both ways; and the receiver's resume state
// of each transfer (Checkpoints, the daemon's transfer.Progress).
//
// The store is where two rules of the design are enforced. Message ids are
// unique, so a message delivered twice (a relay push after a crash, a
// retried direct send) is stored once: delivery is at-least-once on the
// wire and exactly-once here. And a contact's identity key is pinned on
// first sight; a different key later is kept aside as pending, the contact
// is held (the outbox stops sending to them) until the user trusts the new
// key.
//
// The file is opened by internal/sqlitedb, like the rendezvous server's:
// WAL, one writer connection plus a read-only pool, synchronous=FULL so a
// write is durable when its method returns (Checkpoints' Save and Finish,
// and the outbox bookkeeping Done and Attempted, excepted: see there),
// foreign keys on, and the schema migrated by PRAGMA user_version. The file is mode 0600 and written with
// secure_delete, because it holds prekey secrets that must really be gone
// once deleted.
package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/lanchat/lanchat/internal/sqlitedb"
)

// Sentinel errors callers branch on. Errors from Store methods wrap them
// with what was being done.
var (
	// ErrNotFound means the contact, message, outbox item, prekey,
	// transfer or checkpoint asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means a prekey with the same id is already stored.
	ErrExists = errors.New("already exists")
	// ErrInvalid means an argument breaks the rules in its documentation:
	// a malformed message id or conversation, an unknown kind, a
	// non-UTF-8 body, an identity key of the wrong size.
	ErrInvalid = errors.New("invalid")
	// ErrConflict means a message id is already stored for a different
	// message (another conversation, sender or direction), or a transfer
	// id is already recorded. A true redelivery of a message is not a
	// conflict; it reports inserted == false.
	ErrConflict = errors.New("id already used by another record")
	// ErrHeld means the contact's identity key changed and the user has
	// not yet trusted the new key, or its pinned key is also another
	// contact's (Contact.Held), so nothing may be sent to them.
	ErrHeld = errors.New("contact held: identity key changed")
	// ErrNotPending means Trust was given a key that is not the contact's
	// pending key.
	ErrNotPending = errors.New("key is not the pending key")
	// ErrNotPinned means MarkVerified was given a key that is not the
	// contact's pinned key.
	ErrNotPinned = errors.New("key is not the pinned key")
	// ErrKeyShared means Trust was given a key another contact is
	// pinned with: a key belongs to one account.
	ErrKeyShared = errors.New("identity key pinned for another contact too")
)

// Store is the peer's history database. Every method is safe for
// concurrent use. A write method returns only after its transaction is
// durably committed (Done and Attempted, bookkeeping, excepted: they are
// committed, and durable with the next durable write). The writes on a
// message's path (AddOutgoing, AddIncoming, Done, Delivered, Failed,
// Attempted) are group-committed: concurrent ones share one transaction
// and one fsync, each in its own savepoint.
type Store struct {
	db  *sqlitedb.DB
	w   *sql.DB // the one writer connection
	r   *sql.DB // read-only pool
	cps *Checkpoints
	// group shares one transaction and one fsync between the concurrent
	// writes on a message's path (see write).
	group *sqlitedb.Group[*sql.Tx]
	stmts prepared // the message path's statements, on the writer
	// rstmts are the message path's reads, on the read pool.
	rstmts prepared
	// settings and contacts are kept in memory until a write to them
	// (see memo).
	settings memo[Settings]
	contacts memo[contactList]

	closeOnce sync.Once
	closeErr  error
}

// Open opens the history database at path, creating it (mode 0600) if it
// does not exist, tightening its mode to 0600 if it does, and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, path, sqlitedb.Options{
		Migrations:   migrations,
		SecureDelete: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	stmts, err := prepare(ctx, db.Writer(), pathStmts...)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open history: prepare: %w", err)
	}
	rstmts, err := prepare(ctx, db.Reader(), readStmts...)
	if err != nil {
		stmts.close()
		db.Close()
		return nil, fmt.Errorf("open history: prepare: %w", err)
	}
	s := &Store{db: db, w: db.Writer(), r: db.Reader(), group: sqlitedb.NewGroup(db), stmts: stmts, rstmts: rstmts}
	s.group.Isolate = stmts.isolate
	s.cps = newCheckpoints(s)
	return s, nil
}

// Close stops the checkpoint flusher, writes the progress it had not
// written yet, and closes both connection pools. Later calls return the
// first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = errors.Join(s.cps.close(), s.stmts.close(), s.rstmts.close(), s.db.Close())
	})
	return s.closeErr
}

// write runs fn in a transaction shared with the concurrent writes of
// other callers (sqlitedb.Group): it returns once that transaction is
// durably committed, fn's error if fn failed (only its own savepoint
// rolled back). The writes on a message's path use it, so that messages
// sent or received at once share one fsync; fn gets the group's context.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.group.Write(ctx, fn)
}

// bookkeep is write for records that may be lost with the machine (never
// with the process) because losing them only repeats work: it returns
// once committed, without waiting for an fsync of its own; the next
// durable commit carries it to disk.
func (s *Store) bookkeep(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.group.WriteNoSync(ctx, fn)
}

// Commits returns the counts of the group commit of the message path:
// transactions, how many of them were durable (one fsync each), writes.
func (s *Store) Commits() sqlitedb.GroupStats { return s.group.Stats() }

// execN runs a statement and returns how many rows it changed.
func execN(ctx context.Context, db sqlitedb.Execer, query string, args ...any) (int, error) {
	n, err := sqlitedb.ExecN(ctx, db, query, args...)
	return n, mapErr(err)
}

// mapErr turns sql.ErrNoRows into ErrNotFound and unique-key violations
// into ErrExists.
func mapErr(err error) error {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case sqlitedb.IsUnique(err):
		return ErrExists
	}
	return err
}

// Times are stored the sqlitedb way: Unix nanoseconds, with the zero time
// as NULL.
var (
	nsOf   = sqlitedb.Nanos
	timeOf = sqlitedb.Time
)

// invalid makes an ErrInvalid with a reason.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
