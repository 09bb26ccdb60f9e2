package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/lanchat/lanchat/internal/pgtest"
)

// The store test suite runs against every backend: each TestX that
// calls eachStore or eachBackend has a subtest per backend.

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// suiteStore is a Store the suite can also look inside with SQL, to check
// what the interface does not show. Queries use ? placeholders; a scan
// that finds no row returns ErrNotFound.
type suiteStore interface {
	Store
	rawRow(ctx context.Context, query string, args ...any) rowScanner
	rawExec(ctx context.Context, query string, args ...any) error
}

type rowScanner interface{ Scan(dest ...any) error }

// scanFunc is a rowScanner that maps "no rows" to ErrNotFound.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error {
	err := f(dest...)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func (s *SQLite) rawRow(ctx context.Context, query string, args ...any) rowScanner {
	return scanFunc(s.r.QueryRowContext(ctx, query, args...).Scan)
}

func (s *SQLite) rawExec(ctx context.Context, query string, args ...any) error {
	_, err := s.w.ExecContext(ctx, query, args...)
	return err
}

// dollars rewrites ? placeholders to PostgreSQL's $1, $2, …
func dollars(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *Postgres) rawRow(ctx context.Context, query string, args ...any) rowScanner {
	return scanFunc(s.pool.QueryRow(ctx, dollars(query), args...).Scan)
}

func (s *Postgres) rawExec(ctx context.Context, query string, args ...any) error {
	_, err := s.pool.Exec(ctx, dollars(query), args...)
	return err
}

// backend is one Store implementation under test.
type backend struct {
	name string
	// location makes a new empty database: a file path or a URL.
	location func(t *testing.T) string
	open     func(ctx context.Context, location string) (suiteStore, error)
}

var backends = []backend{
	{
		name:     "sqlite",
		location: func(t *testing.T) string { return filepath.Join(t.TempDir(), "rendezvous.db") },
		open: func(ctx context.Context, path string) (suiteStore, error) {
			s, err := Open(ctx, path)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	},
	{
		name:     "postgres",
		location: newPgDatabase,
		open: func(ctx context.Context, url string) (suiteStore, error) {
			s, err := OpenPostgres(ctx, url)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	},
}

// pgTemplate is a database with the schema in place, copied for each test
// (faster than migrating each anew).
var pgTemplate struct {
	once sync.Once
	url  string
	err  error
}

// newPgDatabase returns the URL of a new database with the current schema.
func newPgDatabase(t *testing.T) string {
	t.Helper()
	pgtest.Shared(t) // skips without PostgreSQL
	pgTemplate.once.Do(func() {
		u := pgtest.NewDatabase(t)
		s, err := OpenPostgres(context.Background(), u)
		if err == nil {
			s.Close()
		}
		pgTemplate.url, pgTemplate.err = u, err
	})
	if pgTemplate.err != nil {
		t.Fatalf("migrate template database: %v", pgTemplate.err)
	}
	return pgtest.NewDatabaseFrom(t, pgTemplate.url)
}

// eachBackend runs test once per backend, as a subtest named after it.
func eachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
}

// eachStore runs test once per backend on a fresh store, closed when the
// subtest ends.
func eachStore(t *testing.T, test func(t *testing.T, s suiteStore)) {
	t.Helper()
	eachBackend(t, func(t *testing.T, b backend) {
		s, err := b.open(context.Background(), b.location(t))
		if err != nil {
			t.Fatalf("open %s store: %v", b.name, err)
		}
		t.Cleanup(func() { s.Close() })
		test(t, s)
	})
}
