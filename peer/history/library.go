package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LibraryItem is one file of a group's shared library.
type LibraryItem struct {
	Group  string // the group's id
	ID     string
	Sharer string
	Path   string
	Size   int64
	SHA256 string
	Shared time.Time
	// Holders are the members serving it, the sharer included while it
	// does, with Bad set for one whose copy failed this member's check.
	Holders []Holder
}

// Holder is a member that serves a library item.
type Holder struct {
	User string
	Bad  bool
}

// LocalCopy is a file this user serves for a library item.
type LocalCopy struct {
	Group   string
	ID      string
	Path    string // absolute
	Size    int64
	ModTime time.Time
	Fetched bool // a fetched copy, not the sharer's original
	SHA256  string
}

// AddShare lists an item in its group's library, its sharer as its first
// holder. It is idempotent: the same item again changes nothing and
// returns false; an id the group's library has from another sharer is
// ErrConflict, and one withdrawn stays withdrawn (false).
func (s *Store) AddShare(ctx context.Context, it LibraryItem) (inserted bool, err error) {
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		var sharer string
		err := tx.QueryRowContext(ctx, `SELECT sharer FROM library WHERE grp = ? AND id = ?`, it.Group, it.ID).Scan(&sharer)
		switch {
		case err == nil && sharer != it.Sharer:
			return ErrConflict
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO library (grp, id, sharer, path, size, sha256, shared) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			it.Group, it.ID, it.Sharer, it.Path, it.Size, it.SHA256, it.Shared.UnixNano()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO library_holders (grp, id, holder, serving, at) VALUES (?, ?, ?, 1, ?)
			ON CONFLICT (grp, id, holder) DO NOTHING`, it.Group, it.ID, it.Sharer, it.Shared.UnixNano()); err != nil {
			return err
		}
		inserted = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("add share %s: %w", it.ID, err)
	}
	return inserted, nil
}

// RemoveShare withdraws an item: it stays known as withdrawn, without
// holders or a local copy to serve.
func (s *Store) RemoveShare(ctx context.Context, group, id string) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE library SET removed = ? WHERE grp = ? AND id = ? AND removed IS NULL`,
			time.Now().UnixNano(), group, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM library_holders WHERE grp = ? AND id = ?`, group, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM library_local WHERE grp = ? AND id = ?`, group, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove share %s: %w", id, err)
	}
	return nil
}

// SetHolder records what user said last about serving an item, at the
// send time of its message: an older statement than the one recorded
// changes nothing. It may come before the item's share (from another
// sender, by another path); a withdrawn item is ErrNotFound.
func (s *Store) SetHolder(ctx context.Context, group, id, user string, serving bool, at time.Time) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM library WHERE grp = ? AND id = ? AND removed IS NOT NULL`,
			group, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrNotFound
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO library_holders (grp, id, holder, serving, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (grp, id, holder) DO UPDATE SET serving = excluded.serving, at = excluded.at, bad = 0
			WHERE excluded.at >= library_holders.at`, group, id, user, serving, at.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("set holder of %s: %w", id, err)
	}
	return nil
}

// MarkBad marks a holder whose copy of an item failed the hash check:
// it is not asked again until it says anew that it serves the item.
func (s *Store) MarkBad(ctx context.Context, group, id, user string) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE library_holders SET bad = 1 WHERE grp = ? AND id = ? AND holder = ?`,
		group, id, user); err != nil {
		return fmt.Errorf("mark holder of %s: %w", id, err)
	}
	return nil
}

// Library returns a group's listing, newest first, withdrawn items left
// out.
func (s *Store) Library(ctx context.Context, group string) ([]LibraryItem, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, sharer, path, size, sha256, shared FROM library
		WHERE grp = ? AND removed IS NULL ORDER BY shared DESC, id`, group)
	if err != nil {
		return nil, fmt.Errorf("library: %w", err)
	}
	var items []LibraryItem
	for rows.Next() {
		it := LibraryItem{Group: group}
		var shared int64
		if err := rows.Scan(&it.ID, &it.Sharer, &it.Path, &it.Size, &it.SHA256, &shared); err != nil {
			rows.Close()
			return nil, fmt.Errorf("library: %w", err)
		}
		it.Shared = time.Unix(0, shared)
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("library: %w", err)
	}
	for i := range items {
		if items[i].Holders, err = s.holders(ctx, group, items[i].ID); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// LibraryItem returns one item of a group's listing; ErrNotFound if it
// is unknown or withdrawn.
func (s *Store) LibraryItem(ctx context.Context, group, id string) (LibraryItem, error) {
	it := LibraryItem{Group: group, ID: id}
	var shared int64
	err := s.r.QueryRowContext(ctx, `SELECT sharer, path, size, sha256, shared FROM library
		WHERE grp = ? AND id = ? AND removed IS NULL`, group, id).Scan(&it.Sharer, &it.Path, &it.Size, &it.SHA256, &shared)
	if errors.Is(err, sql.ErrNoRows) {
		return it, fmt.Errorf("library item %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return it, fmt.Errorf("library item %s: %w", id, err)
	}
	it.Shared = time.Unix(0, shared)
	it.Holders, err = s.holders(ctx, group, id)
	return it, err
}

func (s *Store) holders(ctx context.Context, group, id string) ([]Holder, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT holder, bad FROM library_holders
		WHERE grp = ? AND id = ? AND serving = 1 ORDER BY at`, group, id)
	if err != nil {
		return nil, fmt.Errorf("holders of %s: %w", id, err)
	}
	defer rows.Close()
	var hs []Holder
	for rows.Next() {
		var h Holder
		if err := rows.Scan(&h.User, &h.Bad); err != nil {
			return nil, fmt.Errorf("holders of %s: %w", id, err)
		}
		hs = append(hs, h)
	}
	return hs, rows.Err()
}

// SetLocal records the copy this user serves for an item.
func (s *Store) SetLocal(ctx context.Context, c LocalCopy) error {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO library_local (grp, id, path, size, mtime, fetched, sha256)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (grp, id) DO UPDATE SET path = excluded.path, size = excluded.size,
		mtime = excluded.mtime, fetched = excluded.fetched, sha256 = excluded.sha256`,
		c.Group, c.ID, c.Path, c.Size, c.ModTime.UnixNano(), c.Fetched, c.SHA256); err != nil {
		return fmt.Errorf("set local copy of %s: %w", c.ID, err)
	}
	return nil
}

// RemoveLocal forgets the copy this user served for an item.
func (s *Store) RemoveLocal(ctx context.Context, group, id string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM library_local WHERE grp = ? AND id = ?`, group, id); err != nil {
		return fmt.Errorf("remove local copy of %s: %w", id, err)
	}
	return nil
}

// LocalCopies returns the copies this user serves of the file with the
// given whole-file hash, in any group; with fetched false, only the
// originals it shared.
func (s *Store) LocalCopies(ctx context.Context, sha256 string, fetched bool) ([]LocalCopy, error) {
	q := `SELECT grp, id, path, size, mtime, fetched FROM library_local WHERE sha256 = ?`
	if !fetched {
		q += ` AND fetched = 0`
	}
	rows, err := s.r.QueryContext(ctx, q, sha256)
	if err != nil {
		return nil, fmt.Errorf("local copies: %w", err)
	}
	defer rows.Close()
	var out []LocalCopy
	for rows.Next() {
		c := LocalCopy{SHA256: sha256}
		var mtime int64
		if err := rows.Scan(&c.Group, &c.ID, &c.Path, &c.Size, &mtime, &c.Fetched); err != nil {
			return nil, fmt.Errorf("local copies: %w", err)
		}
		c.ModTime = time.Unix(0, mtime)
		out = append(out, c)
	}
	return out, rows.Err()
}

// HasLocal reports whether this user serves a copy of an item.
func (s *Store) HasLocal(ctx context.Context, group, id string) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM library_local WHERE grp = ? AND id = ?`, group, id).Scan(&n); err != nil {
		return false, fmt.Errorf("local copy of %s: %w", id, err)
	}
	return n > 0, nil
}

// FetchedCopies returns the copies this user fetched and recorded, in
// every group.
func (s *Store) FetchedCopies(ctx context.Context) ([]LocalCopy, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT grp, id, path, size, mtime, sha256 FROM library_local WHERE fetched = 1`)
	if err != nil {
		return nil, fmt.Errorf("fetched copies: %w", err)
	}
	defer rows.Close()
	var out []LocalCopy
	for rows.Next() {
		c := LocalCopy{Fetched: true}
		var mtime int64
		if err := rows.Scan(&c.Group, &c.ID, &c.Path, &c.Size, &mtime, &c.SHA256); err != nil {
			return nil, fmt.Errorf("fetched copies: %w", err)
		}
		c.ModTime = time.Unix(0, mtime)
		out = append(out, c)
	}
	return out, rows.Err()
}
