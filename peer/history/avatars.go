package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// MaxAvatar bounds a kept avatar: it is under MaxAvatar bytes (as
// media.MaxAvatar).
const MaxAvatar = 64 << 10

// Avatar is a user's avatar as kept: a JPEG and its wire.AvatarID.
type Avatar struct {
	ID   string
	Data []byte
}

// SetAvatar keeps user's avatar, replacing the one kept.
func (s *Store) SetAvatar(ctx context.Context, user string, a Avatar) error {
	if len(a.Data) == 0 || len(a.Data) >= MaxAvatar {
		return fmt.Errorf("keep avatar of %s: %d bytes, it must be 1 to %d", user, len(a.Data), MaxAvatar-1)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO avatars (username, id, data) VALUES (?, ?, ?)
		ON CONFLICT (username) DO UPDATE SET id = excluded.id, data = excluded.data`, user, a.ID, a.Data)
	if err != nil {
		return fmt.Errorf("keep avatar of %s: %w", user, err)
	}
	return nil
}

// DeleteAvatar forgets user's avatar (no error if none is kept).
func (s *Store) DeleteAvatar(ctx context.Context, user string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM avatars WHERE username = ?`, user); err != nil {
		return fmt.Errorf("forget avatar of %s: %w", user, err)
	}
	return nil
}

// Avatar returns user's avatar; ErrNotFound if none is kept.
func (s *Store) Avatar(ctx context.Context, user string) (Avatar, error) {
	var a Avatar
	err := s.r.QueryRowContext(ctx, `SELECT id, data FROM avatars WHERE username = ?`, user).Scan(&a.ID, &a.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return Avatar{}, fmt.Errorf("avatar of %s: %w", user, ErrNotFound)
	}
	if err != nil {
		return Avatar{}, fmt.Errorf("avatar of %s: %w", user, err)
	}
	return a, nil
}

// AvatarIDs returns the id of every avatar kept, by username.
func (s *Store) AvatarIDs(ctx context.Context) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT username, id FROM avatars`)
	if err != nil {
		return nil, fmt.Errorf("avatar ids: %w", err)
	}
	defer rows.Close()
	ids := make(map[string]string)
	for rows.Next() {
		var user, id string
		if err := rows.Scan(&user, &id); err != nil {
			return nil, fmt.Errorf("avatar ids: %w", err)
		}
		ids[user] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("avatar ids: %w", err)
	}
	return ids, nil
}
