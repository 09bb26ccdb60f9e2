package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CreateGroup adds a group with its owner as first member (joined at the
// group's creation), in one transaction; ErrExists if the name or id is
// taken. g.Members is ignored.
func (s *Postgres) CreateGroup(ctx context.Context, g Group) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := pgExecN(ctx, tx, `INSERT INTO chat_groups (id, name, owner, created) VALUES ($1, $2, $3, $4)`,
			g.ID, g.Name, g.Owner, pgNanos(g.Created)); err != nil {
			return err
		}
		_, err := pgExecN(ctx, tx, `INSERT INTO group_members (group_id, user_name, joined) VALUES ($1, $2, $3)`,
			g.ID, g.Owner, pgNanos(g.Created))
		return err
	})
	if err != nil {
		return fmt.Errorf("create group %s: %w", g.Name, err)
	}
	return nil
}

// Group looks a group up by name; ErrNotFound if there is none.
func (s *Postgres) Group(ctx context.Context, name string) (Group, error) {
	g, err := scanGroup(s.pool.QueryRow(ctx, `SELECT `+groupCols+` FROM chat_groups g WHERE g.name = $1`, name))
	if err != nil {
		return Group{}, fmt.Errorf("group %s: %w", name, mapPgErr(err))
	}
	return g, nil
}

// GroupByID looks a group up by id; ErrNotFound if there is none.
func (s *Postgres) GroupByID(ctx context.Context, id string) (Group, error) {
	g, err := scanGroup(s.pool.QueryRow(ctx, `SELECT `+groupCols+` FROM chat_groups g WHERE g.id = $1`, id))
	if err != nil {
		return Group{}, fmt.Errorf("group %s: %w", id, mapPgErr(err))
	}
	return g, nil
}

// RenameGroup renames; ErrExists if the new name is taken, ErrNotFound if
// there is no such group.
func (s *Postgres) RenameGroup(ctx context.Context, id, name string) error {
	if err := pgExecOne(ctx, s.pool, `UPDATE chat_groups SET name = $1 WHERE id = $2`, name, id); err != nil {
		return fmt.Errorf("rename group %s to %s: %w", id, name, err)
	}
	return nil
}

// SetGroupOwner passes ownership to a member; ErrNotFound if there is no
// such group or owner is not one of its members.
func (s *Postgres) SetGroupOwner(ctx context.Context, id, owner string) error {
	err := pgExecOne(ctx, s.pool, `UPDATE chat_groups SET owner = $2 WHERE id = $1
		AND EXISTS (SELECT 1 FROM group_members WHERE group_id = $1 AND user_name = $2)`, id, owner)
	if err != nil {
		return fmt.Errorf("set owner of group %s to %s: %w", id, owner, err)
	}
	return nil
}

// DeleteGroup removes a group with its members and invites (the foreign
// keys cascade); ErrNotFound if there is no such group.
func (s *Postgres) DeleteGroup(ctx context.Context, id string) error {
	if err := pgExecOne(ctx, s.pool, `DELETE FROM chat_groups WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete group %s: %w", id, err)
	}
	return nil
}

// CreateInvite records an invitation; ErrExists if already invited,
// ErrNotFound if there is no such group. inv.Group.ID names the group.
func (s *Postgres) CreateInvite(ctx context.Context, inv Invite) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO group_invites (group_id, user_name, by_user, at) VALUES ($1, $2, $3, $4)`,
		inv.Group.ID, inv.User, inv.By, pgNanos(inv.At))
	if err != nil {
		return fmt.Errorf("invite %s to group %s: %w", inv.User, inv.Group.ID, mapPgErr(err))
	}
	return nil
}

// DeleteInvite removes an invitation; ErrNotFound if there is none.
func (s *Postgres) DeleteInvite(ctx context.Context, groupID, user string) error {
	err := pgExecOne(ctx, s.pool, `DELETE FROM group_invites WHERE group_id = $1 AND user_name = $2`, groupID, user)
	if err != nil {
		return fmt.Errorf("delete invite of %s to group %s: %w", user, groupID, err)
	}
	return nil
}

// Invites lists user's pending invitations, oldest first, each with its
// group filled in.
func (s *Postgres) Invites(ctx context.Context, user string) ([]Invite, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+groupCols+`, i.user_name, i.by_user, i.at
		FROM group_invites i JOIN chat_groups g ON g.id = i.group_id
		WHERE i.user_name = $1 ORDER BY i.at, g.name`, user)
	if err != nil {
		return nil, fmt.Errorf("invites of %s: %w", user, err)
	}
	defer rows.Close()
	out, err := scanAll(rows, scanInvite)
	if err != nil {
		return nil, fmt.Errorf("invites of %s: %w", user, err)
	}
	return out, nil
}

// JoinGroup consumes user's invitation and adds them as a member in one
// transaction; ErrNotFound if not invited. Joining a group one already
// belongs to keeps the original join time.
func (s *Postgres) JoinGroup(ctx context.Context, groupID, user string, at time.Time) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := pgExecOne(ctx, tx, `DELETE FROM group_invites WHERE group_id = $1 AND user_name = $2`, groupID, user); err != nil {
			return err
		}
		_, err := pgExecN(ctx, tx, `INSERT INTO group_members (group_id, user_name, joined) VALUES ($1, $2, $3)
			ON CONFLICT (group_id, user_name) DO NOTHING`, groupID, user, pgNanos(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("%s join group %s: %w", user, groupID, err)
	}
	return nil
}

// RemoveMember removes a member; ErrNotFound if not a member.
func (s *Postgres) RemoveMember(ctx context.Context, groupID, user string) error {
	err := pgExecOne(ctx, s.pool, `DELETE FROM group_members WHERE group_id = $1 AND user_name = $2`, groupID, user)
	if err != nil {
		return fmt.Errorf("remove %s from group %s: %w", user, groupID, err)
	}
	return nil
}

// Members lists a group's members, oldest first (none for an unknown
// group).
func (s *Postgres) Members(ctx context.Context, groupID string) ([]Member, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_name, joined FROM group_members
		WHERE group_id = $1 ORDER BY joined, user_name`, groupID)
	if err != nil {
		return nil, fmt.Errorf("members of group %s: %w", groupID, err)
	}
	defer rows.Close()
	out, err := scanAll(rows, scanMember)
	if err != nil {
		return nil, fmt.Errorf("members of group %s: %w", groupID, err)
	}
	return out, nil
}

// IsMember reports whether user belongs to the group.
func (s *Postgres) IsMember(ctx context.Context, groupID, user string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM group_members
		WHERE group_id = $1 AND user_name = $2)`, groupID, user).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("is %s in group %s: %w", user, groupID, err)
	}
	return ok, nil
}

// Groups lists the groups user belongs to, by name; rooms are not
// listed (Rooms lists them).
func (s *Postgres) Groups(ctx context.Context, user string) ([]Group, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+groupCols+`
		FROM group_members m JOIN chat_groups g ON g.id = m.group_id
		WHERE m.user_name = $1 AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.group_id = g.id)
		ORDER BY g.name`, user)
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", user, err)
	}
	defer rows.Close()
	out, err := scanAll(rows, scanGroupOnly)
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", user, err)
	}
	return out, nil
}

// ShareGroup reports whether a and b are members of a common group.
func (s *Postgres) ShareGroup(ctx context.Context, a, b string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1
		FROM group_members x JOIN group_members y ON y.group_id = x.group_id
		WHERE x.user_name = $1 AND y.user_name = $2)`, a, b).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("do %s and %s share a group: %w", a, b, err)
	}
	return ok, nil
}

// Contacts lists, by name, everyone who may see user's presence: friends
// and co-members of any group, without duplicates, excluding user.
func (s *Postgres) Contacts(ctx context.Context, user string) ([]string, error) {
	names, err := pgStrings(s.pool.Query(ctx, `
		SELECT b FROM friendships WHERE a = $1
		UNION
		SELECT a FROM friendships WHERE b = $1
		UNION
		SELECT y.user_name FROM group_members x JOIN group_members y ON y.group_id = x.group_id
		WHERE x.user_name = $1 AND y.user_name <> $1
		ORDER BY 1`, user))
	if err != nil {
		return nil, fmt.Errorf("contacts of %s: %w", user, err)
	}
	return names, nil
}
