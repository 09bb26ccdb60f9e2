package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CreateFriendRequest records a pending request; ErrExists if the same
// request is already pending.
func (s *SQLite) CreateFriendRequest(ctx context.Context, r FriendRequest) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO friend_requests (from_user, to_user, at) VALUES (?, ?, ?)`,
		r.From, r.To, nsOf(r.At))
	if err != nil {
		return fmt.Errorf("create friend request %s->%s: %w", r.From, r.To, mapErr(err))
	}
	return nil
}

// FriendRequest returns the pending request from→to; ErrNotFound if there
// is none.
func (s *SQLite) FriendRequest(ctx context.Context, from, to string) (FriendRequest, error) {
	var at sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT at FROM friend_requests WHERE from_user = ? AND to_user = ?`,
		from, to).Scan(&at)
	if err != nil {
		return FriendRequest{}, fmt.Errorf("friend request %s->%s: %w", from, to, mapErr(err))
	}
	return FriendRequest{From: from, To: to, At: timeOf(at)}, nil
}

// DeleteFriendRequest removes a pending request; ErrNotFound if there is
// none.
func (s *SQLite) DeleteFriendRequest(ctx context.Context, from, to string) error {
	err := execOne(ctx, s.w, `DELETE FROM friend_requests WHERE from_user = ? AND to_user = ?`, from, to)
	if err != nil {
		return fmt.Errorf("delete friend request %s->%s: %w", from, to, err)
	}
	return nil
}

// FriendRequests lists requests to and from user, oldest first.
func (s *SQLite) FriendRequests(ctx context.Context, user string) (incoming, outgoing []FriendRequest, err error) {
	err = s.db.Read(ctx, func(tx *sql.Tx) error {
		var err error
		incoming, err = queryFriendRequests(ctx, tx, `SELECT from_user, to_user, at FROM friend_requests
			WHERE to_user = ? ORDER BY at, from_user`, user)
		if err != nil {
			return err
		}
		outgoing, err = queryFriendRequests(ctx, tx, `SELECT from_user, to_user, at FROM friend_requests
			WHERE from_user = ? ORDER BY at, to_user`, user)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("friend requests of %s: %w", user, err)
	}
	return incoming, outgoing, nil
}

func queryFriendRequests(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]FriendRequest, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanAll(rows, scanFriendRequest)
}

// pair orders two names the way the friendships table stores them.
func pair(a, b string) (string, string) {
	if b < a {
		return b, a
	}
	return a, b
}

// AcceptFriendRequest deletes the pending request from→to (and any request
// to→from) and records the friendship, in one transaction; ErrNotFound if
// there is no request from→to.
func (s *SQLite) AcceptFriendRequest(ctx context.Context, from, to string, at time.Time) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := execOne(ctx, tx, `DELETE FROM friend_requests WHERE from_user = ? AND to_user = ?`, from, to); err != nil {
			return err
		}
		if _, err := execN(ctx, tx, `DELETE FROM friend_requests WHERE from_user = ? AND to_user = ?`, to, from); err != nil {
			return err
		}
		a, b := pair(from, to)
		_, err := execN(ctx, tx, `INSERT INTO friendships (a, b, since) VALUES (?, ?, ?)
			ON CONFLICT (a, b) DO NOTHING`, a, b, nsOf(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("accept friend request %s->%s: %w", from, to, err)
	}
	return nil
}

// DeleteFriendship ends a friendship; ErrNotFound if there was none.
func (s *SQLite) DeleteFriendship(ctx context.Context, a, b string) error {
	x, y := pair(a, b)
	if err := execOne(ctx, s.w, `DELETE FROM friendships WHERE a = ? AND b = ?`, x, y); err != nil {
		return fmt.Errorf("delete friendship %s/%s: %w", a, b, err)
	}
	return nil
}

// Friends lists user's friends by name.
func (s *SQLite) Friends(ctx context.Context, user string) ([]string, error) {
	names, err := collectStrings(s.r.QueryContext(ctx, `
		SELECT b FROM friendships WHERE a = ?1
		UNION ALL
		SELECT a FROM friendships WHERE b = ?1
		ORDER BY 1`, user))
	if err != nil {
		return nil, fmt.Errorf("friends of %s: %w", user, err)
	}
	return names, nil
}

// AreFriends reports whether a and b are friends.
func (s *SQLite) AreFriends(ctx context.Context, a, b string) (bool, error) {
	x, y := pair(a, b)
	var ok bool
	err := s.rs.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM friendships WHERE a = ? AND b = ?)`,
		x, y).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("are %s and %s friends: %w", a, b, err)
	}
	return ok, nil
}
