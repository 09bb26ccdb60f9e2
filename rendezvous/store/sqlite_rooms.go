package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// roomCols selects a Room from chat_groups g joined with rooms r.
const roomCols = groupCols + `, r.topic, r.lobby`

func (s *SQLite) queryRooms(ctx context.Context, what, query string, args ...any) ([]Room, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
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

// roomsOf counts the rooms user is in, inside tx.
func roomsOf(ctx context.Context, tx *sql.Tx, user string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM group_members m JOIN rooms r ON r.group_id = m.group_id
		WHERE m.user = ?`, user).Scan(&n)
	return n, err
}

// CreateRoom adds a room with its owner as first member and its topic.
func (s *SQLite) CreateRoom(ctx context.Context, g Group, topic string, perUser int) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if n, err := roomsOf(ctx, tx, g.Owner); err != nil {
			return err
		} else if n >= perUser {
			return ErrTooManyRooms
		}
		if _, err := execN(ctx, tx, `INSERT INTO chat_groups (id, name, owner, created) VALUES (?, ?, ?, ?)`,
			g.ID, g.Name, g.Owner, nsOf(g.Created)); err != nil {
			return err
		}
		if _, err := execN(ctx, tx, `INSERT INTO rooms (group_id, topic) VALUES (?, ?)`, g.ID, topic); err != nil {
			return err
		}
		_, err := execN(ctx, tx, `INSERT INTO group_members (group_id, user, joined) VALUES (?, ?, ?)`,
			g.ID, g.Owner, nsOf(g.Created))
		return err
	})
	if err != nil {
		return fmt.Errorf("create room %s: %w", g.Name, err)
	}
	return nil
}

// EnsureLobby makes the room named g.Name the lobby, creating it with
// every enabled user as a member if no group has the name.
func (s *SQLite) EnsureLobby(ctx context.Context, g Group) (Room, error) {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := execN(ctx, tx, `UPDATE rooms SET lobby = 0 WHERE lobby = 1`); err != nil {
			return err
		}
		if g.Name == "" {
			return nil
		}
		var id string
		var room bool
		err := tx.QueryRowContext(ctx, `SELECT g.id, EXISTS (SELECT 1 FROM rooms r WHERE r.group_id = g.id)
			FROM chat_groups g WHERE g.name = ?`, g.Name).Scan(&id, &room)
		switch {
		case err == nil && !room:
			return fmt.Errorf("%q is a group, not a room: %w", g.Name, ErrExists)
		case err == nil:
			return execOne(ctx, tx, `UPDATE rooms SET lobby = 1 WHERE group_id = ?`, id)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := execN(ctx, tx, `INSERT INTO chat_groups (id, name, owner, created) VALUES (?, ?, '', ?)`,
			g.ID, g.Name, nsOf(g.Created)); err != nil {
			return err
		}
		if _, err := execN(ctx, tx, `INSERT INTO rooms (group_id, lobby) VALUES (?, 1)`, g.ID); err != nil {
			return err
		}
		_, err = execN(ctx, tx, `INSERT INTO group_members (group_id, user, joined)
			SELECT ?, name, ? FROM users WHERE disabled = 0`, g.ID, nsOf(g.Created))
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
func (s *SQLite) Room(ctx context.Context, name string) (Room, error) {
	r, err := scanRoom(s.r.QueryRowContext(ctx, `SELECT `+roomCols+`
		FROM chat_groups g JOIN rooms r ON r.group_id = g.id WHERE g.name = ?`, name))
	if err != nil {
		return Room{}, fmt.Errorf("room %s: %w", name, mapErr(err))
	}
	return r, nil
}

// RoomDirectory lists rooms whose name starts with prefix, by name.
func (s *SQLite) RoomDirectory(ctx context.Context, prefix string, limit int) ([]Room, error) {
	// Names hold only letters, digits, '.', '_' and '-', lower-case:
	// a range on the name is the prefix match, and uses its index.
	return s.queryRooms(ctx, "room directory", `SELECT `+roomCols+`
		FROM chat_groups g JOIN rooms r ON r.group_id = g.id
		WHERE g.name >= ?1 AND g.name < ?1 || char(1114111)
		ORDER BY g.name LIMIT ?2`, prefix, limit)
}

// Rooms lists the rooms user is in, by name.
func (s *SQLite) Rooms(ctx context.Context, user string) ([]Room, error) {
	return s.queryRooms(ctx, "rooms of "+user, `SELECT `+roomCols+`
		FROM group_members m JOIN chat_groups g ON g.id = m.group_id JOIN rooms r ON r.group_id = g.id
		WHERE m.user = ? ORDER BY g.name`, user)
}

// JoinRoom adds user to a room after its checks, in one transaction.
func (s *SQLite) JoinRoom(ctx context.Context, id, user string, at time.Time, lim RoomLimits) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var members int
		var banned, member bool
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM group_members WHERE group_id = ?1),
			EXISTS (SELECT 1 FROM room_bans WHERE group_id = ?1 AND user = ?2),
			EXISTS (SELECT 1 FROM group_members WHERE group_id = ?1 AND user = ?2)
			FROM rooms WHERE group_id = ?1`, id, user).Scan(&members, &banned, &member)
		if err != nil {
			return mapErr(err)
		}
		switch {
		case banned:
			return ErrBanned
		case member:
			return ErrExists
		case members >= lim.Members:
			return ErrQuota
		}
		if n, err := roomsOf(ctx, tx, user); err != nil {
			return err
		} else if n >= lim.PerUser {
			return ErrTooManyRooms
		}
		_, err = execN(ctx, tx, `INSERT INTO group_members (group_id, user, joined) VALUES (?, ?, ?)`, id, user, nsOf(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("%s join room %s: %w", user, id, err)
	}
	return nil
}

// LeaveRoom removes a member and their admin role.
func (s *SQLite) LeaveRoom(ctx context.Context, id, user string) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := execN(ctx, tx, `DELETE FROM room_admins WHERE group_id = ? AND user = ?`, id, user); err != nil {
			return err
		}
		return execOne(ctx, tx, `DELETE FROM group_members WHERE group_id = ? AND user = ?`, id, user)
	})
	if err != nil {
		return fmt.Errorf("%s leave room %s: %w", user, id, err)
	}
	return nil
}

// SetRoomTopic sets a room's topic.
func (s *SQLite) SetRoomTopic(ctx context.Context, id, topic string) error {
	if err := execOne(ctx, s.w, `UPDATE rooms SET topic = ? WHERE group_id = ?`, topic, id); err != nil {
		return fmt.Errorf("set topic of room %s: %w", id, err)
	}
	return nil
}

// SetRoomAdmin makes a member an admin, or not.
func (s *SQLite) SetRoomAdmin(ctx context.Context, id, user string, admin bool) error {
	var err error
	if admin {
		err = execOne(ctx, s.w, `INSERT INTO room_admins (group_id, user)
			SELECT group_id, user FROM group_members WHERE group_id = ? AND user = ?
			ON CONFLICT DO NOTHING`, id, user)
		if errors.Is(err, ErrNotFound) {
			// Already an admin changes nothing; not a member is not found.
			var ok bool
			if qerr := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM room_admins
				WHERE group_id = ? AND user = ?)`, id, user).Scan(&ok); qerr == nil && ok {
				err = nil
			}
		}
	} else {
		err = execOne(ctx, s.w, `DELETE FROM room_admins WHERE group_id = ? AND user = ?`, id, user)
	}
	if err != nil {
		return fmt.Errorf("set admin %s of room %s to %v: %w", user, id, admin, err)
	}
	return nil
}

// RoomAdmins lists a room's admins by name.
func (s *SQLite) RoomAdmins(ctx context.Context, id string) ([]string, error) {
	names, err := collectStrings(s.r.QueryContext(ctx, `SELECT user FROM room_admins WHERE group_id = ? ORDER BY user`, id))
	if err != nil {
		return nil, fmt.Errorf("admins of room %s: %w", id, err)
	}
	return names, nil
}

// BanFromRoom bans user and removes them if a member.
func (s *SQLite) BanFromRoom(ctx context.Context, id, user, by string, at time.Time) (bool, error) {
	var member bool
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := execN(ctx, tx, `INSERT INTO room_bans (group_id, user, by_user, at) VALUES (?, ?, ?, ?)`,
			id, user, by, nsOf(at)); err != nil {
			return err
		}
		if _, err := execN(ctx, tx, `DELETE FROM room_admins WHERE group_id = ? AND user = ?`, id, user); err != nil {
			return err
		}
		n, err := execN(ctx, tx, `DELETE FROM group_members WHERE group_id = ? AND user = ?`, id, user)
		member = n > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("ban %s from room %s: %w", user, id, err)
	}
	return member, nil
}

// UnbanFromRoom lifts a ban.
func (s *SQLite) UnbanFromRoom(ctx context.Context, id, user string) error {
	if err := execOne(ctx, s.w, `DELETE FROM room_bans WHERE group_id = ? AND user = ?`, id, user); err != nil {
		return fmt.Errorf("unban %s from room %s: %w", user, id, err)
	}
	return nil
}

// IsBanned reports whether user is banned from the room.
func (s *SQLite) IsBanned(ctx context.Context, id, user string) (bool, error) {
	var ok bool
	err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM room_bans WHERE group_id = ? AND user = ?)`,
		id, user).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("is %s banned from room %s: %w", user, id, err)
	}
	return ok, nil
}

// DeleteRoom removes a room with its members, admins and bans.
func (s *SQLite) DeleteRoom(ctx context.Context, id string) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM room_bans WHERE group_id = ?`,
			`DELETE FROM room_admins WHERE group_id = ?`,
			`DELETE FROM rooms WHERE group_id = ?`,
			`DELETE FROM group_members WHERE group_id = ?`,
		} {
			if _, err := execN(ctx, tx, q, id); err != nil {
				return err
			}
		}
		return execOne(ctx, tx, `DELETE FROM chat_groups WHERE id = ?`, id)
	})
	if err != nil {
		return fmt.Errorf("delete room %s: %w", id, err)
	}
	return nil
}

// MemberUsers returns the accounts of a group's members, by name.
func (s *SQLite) MemberUsers(ctx context.Context, groupID string) ([]User, error) {
	us, err := s.queryUsers(ctx, `SELECT `+userCols+` FROM users
		WHERE name IN (SELECT user FROM group_members WHERE group_id = ?) ORDER BY name`, groupID)
	if err != nil {
		return nil, fmt.Errorf("member accounts of group %s: %w", groupID, err)
	}
	return us, nil
}

// UsersNamed returns the accounts of the names that exist, by name.
func (s *SQLite) UsersNamed(ctx context.Context, names []string) ([]User, error) {
	if len(names) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(names)
	if err != nil {
		return nil, fmt.Errorf("accounts named: %w", err)
	}
	us, err := s.queryUsers(ctx, `SELECT `+userCols+` FROM users
		WHERE name IN (SELECT value FROM json_each(?)) ORDER BY name`, string(list))
	if err != nil {
		return nil, fmt.Errorf("accounts named: %w", err)
	}
	return us, nil
}
