package store

// scanner is one row to read: *sql.Row, *sql.Rows, pgx.Row, pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// rowIter is a query's result, as both stores' drivers give it
// (*sql.Rows, pgx.Rows); the caller closes it.
type rowIter interface {
	scanner
	Next() bool
	Err() error
}

// scanAll reads every row of rows with scan, in order: nil if there are
// none, or the first error of a scan or of the result.
func scanAll[T any](rows rowIter, scan func(sc scanner) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
