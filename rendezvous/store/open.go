package store

import (
	"context"
	"errors"
)

// OpenAny opens the store a --store value names: a PostgreSQL database
// for a postgres:// or postgresql:// URL, else the SQLite file at that
// path. Either is brought to the current schema.
func OpenAny(ctx context.Context, where string) (Store, error) {
	if where == "" {
		return nil, errors.New("open store: no database named")
	}
	if IsPostgresURL(where) {
		return OpenPostgres(ctx, where)
	}
	return Open(ctx, where)
}
