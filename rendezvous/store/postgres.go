package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the Store for several rendezvous nodes sharing one
// PostgreSQL database. Every method is one statement or one transaction
// on a pooled connection; a write returns after PostgreSQL has committed
// it (synchronous_commit as the server is configured, on by default).
// Times are stored as Unix nanoseconds (BIGINT, NULL for the zero time),
// as in the SQLite store; text columns use the "C" collation, so names
// sort and compare by code point there as here.
type Postgres struct {
	pool *pgxpool.Pool
	url  string
}

var _ Store = (*Postgres)(nil)

// defaultPoolConns is the pool size unless the URL names one
// (pool_max_conns).
const defaultPoolConns = 16

// IsPostgresURL reports whether a --store value names a PostgreSQL
// database rather than a SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// OpenPostgres connects to the database at url (postgres://…) and brings
// its schema up to date; several nodes may do so at once.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can echo the URL, password included.
		return nil, errors.New("open store: malformed PostgreSQL URL")
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultPoolConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := migratePostgres(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &Postgres{pool: pool, url: url}, nil
}

// Close closes the connection pool.
func (s *Postgres) Close() error {
	s.pool.Close()
	return nil
}

// ConnectListener opens a connection of its own, outside the pool, for
// LISTEN: the caller owns it and closes it.
func (s *Postgres) ConnectListener(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return nil, fmt.Errorf("connect for notifications: %w", err)
	}
	return conn, nil
}

// Notify sends payload on a notification channel; every connection
// listening on it, on any node, receives it once the statement commits.
func (s *Postgres) Notify(ctx context.Context, channel, payload string) error {
	if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// pgx execution surface shared by the pool and a transaction.
type pgExecer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// write runs fn in one transaction and commits it, retrying a few times
// when PostgreSQL aborts it for a serialization failure or deadlock.
func (s *Postgres) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, fn)
		var pe *pgconn.PgError
		if attempt < 3 && errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") {
			continue
		}
		return mapPgErr(err)
	}
}

// pgExecOne runs a statement that must change at least one row, and
// returns ErrNotFound if it changed none.
func pgExecOne(ctx context.Context, db pgExecer, query string, args ...any) error {
	n, err := pgExecN(ctx, db, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// pgExecN runs a statement and returns how many rows it changed.
func pgExecN(ctx context.Context, db pgExecer, query string, args ...any) (int, error) {
	tag, err := db.Exec(ctx, query, args...)
	if err != nil {
		return 0, mapPgErr(err)
	}
	return int(tag.RowsAffected()), nil
}

// mapPgErr turns constraint violations into the sentinel errors: a clash
// on the identity key into ErrKeyInUse, other unique violations into
// ErrExists, foreign-key violations and pgx.ErrNoRows into ErrNotFound.
func mapPgErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			if pe.ConstraintName == "users_identity_key" {
				return ErrKeyInUse
			}
			return ErrExists
		case "23503": // foreign_key_violation
			return ErrNotFound
		}
	}
	return err
}

// pgNanos stores a time as Unix nanoseconds, the zero time as NULL.
func pgNanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

// pgTime reads a time stored by pgNanos.
func pgTime(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// pgStrings reads a one-column result of names.
func pgStrings(rows pgx.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(names) == 0 {
		return nil, err
	}
	return names, nil
}

// LiveApplications lists the application names starting with prefix of
// the sessions connected to this database now.
func (s *Postgres) LiveApplications(ctx context.Context, prefix string) ([]string, error) {
	names, err := pgStrings(s.pool.Query(ctx, `SELECT DISTINCT application_name FROM pg_stat_activity
		WHERE datname = current_database() AND starts_with(application_name, $1)`, prefix))
	if err != nil {
		return nil, fmt.Errorf("list live nodes: %w", err)
	}
	return names, nil
}
