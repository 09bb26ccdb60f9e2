package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

func (s *Postgres) queryRooms(ctx context.Context, what, query string, args ...any) ([]Room, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out, err := scanAll(rows, scanRoom)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// lockUserRooms serialises, until tx ends, the transactions that add user
// to rooms, so two nodes cannot both let them past the per-user limit.
func lockUserRooms(ctx context.Context, tx pgx.Tx, user string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('rooms of ' || $1, 0))`, user)
	return err
}

// pgRoomsOf counts the rooms user is in, inside tx.
func pgRoomsOf(ctx context.Context, tx pgx.Tx, user string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM group_members m JOIN rooms r ON r.group_id = m.group_id
		WHERE m.user_name = $1`, user).Scan(&n)
	return n, err
}

// CreateRoom adds a room with its owner as first member and its topic.
func (s *Postgres) CreateRoom(ctx context.Context, g Group, topic string, perUser int) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := lockUserRooms(ctx, tx, g.Owner); err != nil {
			return err
		}
		if n, err := pgRoomsOf(ctx, tx, g.Owner); err != nil {
			return err
		} else if n >= perUser {
			return ErrTooManyRooms
		}
		if _, err := pgExecN(ctx, tx, `INSERT INTO chat_groups (id, name, owner, created) VALUES ($1, $2, $3, $4)`,
			g.ID, g.Name, g.Owner, pgNanos(g.Created)); err != nil {
			return err
		}
		if _, err := pgExecN(ctx, tx, `INSERT INTO rooms (group_id, topic) VALUES ($1, $2)`, g.ID, topic); err != nil {
			return err
		}
		_, err := pgExecN(ctx, tx, `INSERT INTO group_members (group_id, user_name, joined) VALUES ($1, $2, $3)`,
			g.ID, g.Owner, pgNanos(g.Created))
		return err
	})
	if err != nil {
		return fmt.Errorf("create room %s: %w", g.Name, err)
	}
	return nil
}

// lobbyLock serialises EnsureLobby across nodes starting at once
// ("lobby" in ASCII).
const lobbyLock = 0x6c6f626279

// EnsureLobby makes the room named g.Name the lobby, creating it with
// every enabled user as a member if no group has the name.
func (s *Postgres) EnsureLobby(ctx context.Context, g Group) (Room, error) {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lobbyLock)); err != nil {
			return err
		}
		if _, err := pgExecN(ctx, tx, `UPDATE rooms SET lobby = false WHERE lobby`); err != nil {
			return err
		}
		if g.Name == "" {
			return nil
		}
		var id string
		var room bool
		err := tx.QueryRow(ctx, `SELECT g.id, EXISTS (SELECT 1 FROM rooms r WHERE r.group_id = g.id)
			FROM chat_groups g WHERE g.name = $1`, g.Name).Scan(&id, &room)
		switch {
		case err == nil && !room:
			return fmt.Errorf("%q is a group, not a room: %w", g.Name, ErrExists)
		case err == nil:
			return pgExecOne(ctx, tx, `UPDATE rooms SET lobby = true WHERE group_id = $1`, id)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if _, err := pgExecN(ctx, tx, `INSERT INTO chat_groups (id, name, owner, created) VALUES ($1, $2, '', $3)`,
			g.ID, g.Name, pgNanos(g.Created)); err != nil {
			return err
		}
		if _, err := pgExecN(ctx, tx, `INSERT INTO rooms (group_id, lobby) VALUES ($1, true)`, g.ID); err != nil {
			return err
		}
		_, err = pgExecN(ctx, tx, `INSERT INTO group_members (group_id, user_name, joined)
			SELECT $1, name, $2 FROM users WHERE NOT disabled`, g.ID, pgNanos(g.Created))
		return err
	})
	if err != nil {
		return Room{}, fmt.Errorf("lobby %s: %w", g.Name, err)
	}
	if g.Name == "" {
		return Room{}, fmt.Errorf("no lobby: %w", ErrNotFound)
	}
	return s.Room(ctx, g.Name)
}

// Room looks a room up by name.
func (s *Postgres) Room(ctx context.Context, name string) (Room, error) {
	r, err := scanRoom(s.pool.QueryRow(ctx, `SELECT `+roomCols+`
		FROM chat_groups g JOIN rooms r ON r.group_id = g.id WHERE g.name = $1`, name))
	if err != nil {
		return Room{}, fmt.Errorf("room %s: %w", name, mapPgErr(err))
	}
	return r, nil
}

// RoomDirectory lists rooms whose name starts with prefix, by name.
func (s *Postgres) RoomDirectory(ctx context.Context, prefix string, limit int) ([]Room, error) {
	// As in SQLite: names are lower-case letters, digits, '.', '_' and
	// '-', so a range on the name ("C" collation) is the prefix match.
	return s.queryRooms(ctx, "room directory", `SELECT `+roomCols+`
		FROM chat_groups g JOIN rooms r ON r.group_id = g.id
		WHERE g.name >= $1 AND g.name < $1 || chr(1114111)
		ORDER BY g.name LIMIT $2`, prefix, max(limit, 0))
}

// Rooms lists the rooms user is in, by name.
func (s *Postgres) Rooms(ctx context.Context, user string) ([]Room, error) {
	return s.queryRooms(ctx, "rooms of "+user, `SELECT `+roomCols+`
		FROM group_members m JOIN chat_groups g ON g.id = m.group_id JOIN rooms r ON r.group_id = g.id
		WHERE m.user_name = $1 ORDER BY g.name`, user)
}

// JoinRoom adds user to a room after its checks, in one transaction. The
// room's row is locked, so joins of one room take turns and its member
// limit holds across nodes; the user's advisory lock does the same for
// the per-user limit.
func (s *Postgres) JoinRoom(ctx context.Context, id, user string, at time.Time, lim RoomLimits) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := lockUserRooms(ctx, tx, user); err != nil {
			return err
		}
		var members int
		var banned, member bool
		err := tx.QueryRow(ctx, `SELECT
			(SELECT COUNT(*) FROM group_members WHERE group_id = $1),
			EXISTS (SELECT 1 FROM room_bans WHERE group_id = $1 AND user_name = $2),
			EXISTS (SELECT 1 FROM group_members WHERE group_id = $1 AND user_name = $2)
			FROM rooms WHERE group_id = $1 FOR UPDATE`, id, user).Scan(&members, &banned, &member)
		if err != nil {
			return mapPgErr(err)
		}
		switch {
		case banned:
			return ErrBanned
		case member:
			return ErrExists
		case members >= lim.Members:
			return ErrQuota
		}
		if n, err := pgRoomsOf(ctx, tx, user); err != nil {
			return err
		} else if n >= lim.PerUser {
			return ErrTooManyRooms
		}
		_, err = pgExecN(ctx, tx, `INSERT INTO group_members (group_id, user_name, joined) VALUES ($1, $2, $3)`,
			id, user, pgNanos(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("%s join room %s: %w", user, id, err)
	}
	return nil
}

// LeaveRoom removes a member and their admin role.
func (s *Postgres) LeaveRoom(ctx context.Context, id, user string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := pgExecN(ctx, tx, `DELETE FROM room_admins WHERE group_id = $1 AND user_name = $2`, id, user); err != nil {
			return err
		}
		return pgExecOne(ctx, tx, `DELETE FROM group_members WHERE group_id = $1 AND user_name = $2`, id, user)
	})
	if err != nil {
		return fmt.Errorf("%s leave room %s: %w", user, id, err)
	}
	return nil
}

// SetRoomTopic sets a room's topic.
func (s *Postgres) SetRoomTopic(ctx context.Context, id, topic string) error {
	if err := pgExecOne(ctx, s.pool, `UPDATE rooms SET topic = $1 WHERE group_id = $2`, topic, id); err != nil {
		return fmt.Errorf("set topic of room %s: %w", id, err)
	}
	return nil
}

// SetRoomAdmin makes a member an admin, or not.
func (s *Postgres) SetRoomAdmin(ctx context.Context, id, user string, admin bool) error {
	var err error
	if admin {
		// Already an admin changes nothing; not a member is not found.
		var member bool
		err = s.pool.QueryRow(ctx, `WITH m AS (
				SELECT group_id, user_name FROM group_members WHERE group_id = $1 AND user_name = $2
			), ins AS (
				INSERT INTO room_admins (group_id, user_name) SELECT group_id, user_name FROM m
				ON CONFLICT DO NOTHING
			)
			SELECT EXISTS (SELECT 1 FROM m)`, id, user).Scan(&member)
		if err == nil && !member {
			err = ErrNotFound
		}
		err = mapPgErr(err)
	} else {
		err = pgExecOne(ctx, s.pool, `DELETE FROM room_admins WHERE group_id = $1 AND user_name = $2`, id, user)
	}
	if err != nil {
		return fmt.Errorf("set admin %s of room %s to %v: %w", user, id, admin, err)
	}
	return nil
}

// RoomAdmins lists a room's admins by name.
func (s *Postgres) RoomAdmins(ctx context.Context, id string) ([]string, error) {
	names, err := pgStrings(s.pool.Query(ctx, `SELECT user_name FROM room_admins WHERE group_id = $1 ORDER BY user_name`, id))
	if err != nil {
		return nil, fmt.Errorf("admins of room %s: %w", id, err)
	}
	return names, nil
}

// BanFromRoom bans user and removes them if a member.
func (s *Postgres) BanFromRoom(ctx context.Context, id, user, by string, at time.Time) (bool, error) {
	var member bool
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := pgExecN(ctx, tx, `INSERT INTO room_bans (group_id, user_name, by_user, at) VALUES ($1, $2, $3, $4)`,
			id, user, by, pgNanos(at)); err != nil {
			return err
		}
		if _, err := pgExecN(ctx, tx, `DELETE FROM room_admins WHERE group_id = $1 AND user_name = $2`, id, user); err != nil {
			return err
		}
		n, err := pgExecN(ctx, tx, `DELETE FROM group_members WHERE group_id = $1 AND user_name = $2`, id, user)
		member = n > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("ban %s from room %s: %w", user, id, err)
	}
	return member, nil
}

// UnbanFromRoom lifts a ban.
func (s *Postgres) UnbanFromRoom(ctx context.Context, id, user string) error {
	if err := pgExecOne(ctx, s.pool, `DELETE FROM room_bans WHERE group_id = $1 AND user_name = $2`, id, user); err != nil {
		return fmt.Errorf("unban %s from room %s: %w", user, id, err)
	}
	return nil
}

// IsBanned reports whether user is banned from the room.
func (s *Postgres) IsBanned(ctx context.Context, id, user string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM room_bans WHERE group_id = $1 AND user_name = $2)`,
		id, user).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("is %s banned from room %s: %w", user, id, err)
	}
	return ok, nil
}

// DeleteRoom removes a room with its members, admins and bans (the
// foreign keys cascade).
func (s *Postgres) DeleteRoom(ctx context.Context, id string) error {
	if err := pgExecOne(ctx, s.pool, `DELETE FROM chat_groups WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete room %s: %w", id, err)
	}
	return nil
}

// MemberUsers returns the accounts of a group's members, by name.
func (s *Postgres) MemberUsers(ctx context.Context, groupID string) ([]User, error) {
	us, err := s.queryUsers(ctx, `SELECT `+userCols+` FROM users
		WHERE name IN (SELECT user_name FROM group_members WHERE group_id = $1) ORDER BY name`, groupID)
	if err != nil {
		return nil, fmt.Errorf("member accounts of group %s: %w", groupID, err)
	}
	return us, nil
}

// UsersNamed returns the accounts of the names that exist, by name.
func (s *Postgres) UsersNamed(ctx context.Context, names []string) ([]User, error) {
	if len(names) == 0 {
		return nil, nil
	}
	us, err := s.queryUsers(ctx, `SELECT `+userCols+` FROM users
		WHERE name = ANY($1::text[]) ORDER BY name`, names)
	if err != nil {
		return nil, fmt.Errorf("accounts named: %w", err)
	}
	return us, nil
}
