package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache keeps prepared statements by their text, so that a statement
// run often (the relay's, the lookups of every relay.send) is parsed once
// per connection rather than at every call: parsing was a quarter of the
// server's time under relay load. Only statements whose text is fixed in
// the code go through it, so it stays small.
//
// The writer has one connection, which a transaction holds: preparing on
// it from inside a transaction would wait for itself. So the writer's
// cache is filled when the store opens (writerStmts) and never prepares
// later; a query it lacks runs unprepared.
type stmtCache struct {
	db    *sql.DB
	fixed bool // prepare nothing after newStmtCache
	mu    sync.Mutex
	m     map[string]*sql.Stmt
}

// errNotPrepared: the query is not among a fixed cache's statements.
var errNotPrepared = errors.New("statement not prepared")

// newStmtCache makes a cache on db with queries prepared; a fixed cache
// prepares nothing more.
func newStmtCache(ctx context.Context, db *sql.DB, fixed bool, queries ...string) (*stmtCache, error) {
	c := &stmtCache{db: db, fixed: fixed, m: make(map[string]*sql.Stmt)}
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			c.close()
			return nil, err
		}
		c.m[q] = st
	}
	return c, nil
}

// get returns the statement for query, preparing it on first use.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[query]; st != nil {
		return st, nil
	}
	if c.fixed {
		return nil, errNotPrepared
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m[query] = st
	return st, nil
}

// close closes every statement.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// queryRow runs a one-row query on the read pool with a cached
// statement.
func (c *stmtCache) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.get(ctx, query)
	if err != nil {
		return c.db.QueryRowContext(ctx, query, args...) // reports the error
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a query on the read pool with a cached statement.
func (c *stmtCache) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// txStmt is the cached statement for query, bound to tx (the writer's
// connection keeps it prepared between transactions).
func (c *stmtCache) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, st), nil
}

// txQueryRow is tx.QueryRowContext with a cached statement.
func (c *stmtCache) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	st, err := c.txStmt(ctx, tx, query)
	if err != nil {
		return tx.QueryRowContext(ctx, query, args...) // reports the error
	}
	return st.QueryRowContext(ctx, args...)
}

// txExecN is execN with a cached statement.
func (c *stmtCache) txExecN(ctx context.Context, tx *sql.Tx, query string, args ...any) (int, error) {
	st, err := c.txStmt(ctx, tx, query)
	if errors.Is(err, errNotPrepared) {
		return execN(ctx, tx, query, args...)
	}
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
