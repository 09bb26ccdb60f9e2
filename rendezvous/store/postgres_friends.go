package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CreateFriendRequest records a pending request; ErrExists if the same
// request is already pending.
func (s *Postgres) CreateFriendRequest(ctx context.Context, r FriendRequest) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO friend_requests (from_user, to_user, at) VALUES ($1, $2, $3)`,
		r.From, r.To, pgNanos(r.At))
	if err != nil {
		return fmt.Errorf("create friend request %s->%s: %w", r.From, r.To, mapPgErr(err))
	}
	return nil
}

// FriendRequest returns the pending request from→to; ErrNotFound if there
// is none.
func (s *Postgres) FriendRequest(ctx context.Context, from, to string) (FriendRequest, error) {
	var at *int64
	err := s.pool.QueryRow(ctx, `SELECT at FROM friend_requests WHERE from_user = $1 AND to_user = $2`,
		from, to).Scan(&at)
	if err != nil {
		return FriendRequest{}, fmt.Errorf("friend request %s->%s: %w", from, to, mapPgErr(err))
	}
	return FriendRequest{From: from, To: to, At: pgTime(at)}, nil
}

// DeleteFriendRequest removes a pending request; ErrNotFound if there is
// none.
func (s *Postgres) DeleteFriendRequest(ctx context.Context, from, to string) error {
	err := pgExecOne(ctx, s.pool, `DELETE FROM friend_requests WHERE from_user = $1 AND to_user = $2`, from, to)
	if err != nil {
		return fmt.Errorf("delete friend request %s->%s: %w", from, to, err)
	}
	return nil
}

// FriendRequests lists requests to and from user, oldest first, from one
// snapshot.
func (s *Postgres) FriendRequests(ctx context.Context, user string) (incoming, outgoing []FriendRequest, err error) {
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			var err error
			incoming, err = queryPgFriendRequests(ctx, tx, `SELECT from_user, to_user, at FROM friend_requests
				WHERE to_user = $1 ORDER BY at, from_user`, user)
			if err != nil {
				return err
			}
			outgoing, err = queryPgFriendRequests(ctx, tx, `SELECT from_user, to_user, at FROM friend_requests
				WHERE from_user = $1 ORDER BY at, to_user`, user)
			return err
		})
	if err != nil {
		return nil, nil, fmt.Errorf("friend requests of %s: %w", user, err)
	}
	return incoming, outgoing, nil
}

func queryPgFriendRequests(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]FriendRequest, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanAll(rows, scanFriendRequest)
}

// AcceptFriendRequest deletes the pending request from→to (and any request
// to→from) and records the friendship, in one transaction; ErrNotFound if
// there is no request from→to.
func (s *Postgres) AcceptFriendRequest(ctx context.Context, from, to string, at time.Time) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := pgExecOne(ctx, tx, `DELETE FROM friend_requests WHERE from_user = $1 AND to_user = $2`, from, to); err != nil {
			return err
		}
		if _, err := pgExecN(ctx, tx, `DELETE FROM friend_requests WHERE from_user = $1 AND to_user = $2`, to, from); err != nil {
			return err
		}
		a, b := pair(from, to)
		_, err := pgExecN(ctx, tx, `INSERT INTO friendships (a, b, since) VALUES ($1, $2, $3)
			ON CONFLICT (a, b) DO NOTHING`, a, b, pgNanos(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("accept friend request %s->%s: %w", from, to, err)
	}
	return nil
}

// DeleteFriendship ends a friendship; ErrNotFound if there was none.
func (s *Postgres) DeleteFriendship(ctx context.Context, a, b string) error {
	x, y := pair(a, b)
	if err := pgExecOne(ctx, s.pool, `DELETE FROM friendships WHERE a = $1 AND b = $2`, x, y); err != nil {
		return fmt.Errorf("delete friendship %s/%s: %w", a, b, err)
	}
	return nil
}

// Friends lists user's friends by name.
func (s *Postgres) Friends(ctx context.Context, user string) ([]string, error) {
	names, err := pgStrings(s.pool.Query(ctx, `
		SELECT b FROM friendships WHERE a = $1
		UNION ALL
		SELECT a FROM friendships WHERE b = $1
		ORDER BY 1`, user))
	if err != nil {
		return nil, fmt.Errorf("friends of %s: %w", user, err)
	}
	return names, nil
}

// AreFriends reports whether a and b are friends.
func (s *Postgres) AreFriends(ctx context.Context, a, b string) (bool, error) {
	x, y := pair(a, b)
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM friendships WHERE a = $1 AND b = $2)`,
		x, y).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("are %s and %s friends: %w", a, b, err)
	}
	return ok, nil
}
