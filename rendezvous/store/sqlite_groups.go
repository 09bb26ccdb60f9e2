package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// groupCols selects a Group from chat_groups g, with its member count.
const groupCols = `g.id, g.name, g.owner, g.created,
	(SELECT COUNT(*) FROM group_members c WHERE c.group_id = g.id),
	EXISTS (SELECT 1 FROM rooms r WHERE r.group_id = g.id)`

// CreateGroup adds a group with its owner as first member (joined at the
// group's creation), in one transaction; ErrExists if the name or id is
// taken. g.Members is ignored.
func (s *SQLite) CreateGroup(ctx context.Context, g Group) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := execN(ctx, tx, `INSERT INTO chat_groups (id, name, owner, created) VALUES (?, ?, ?, ?)`,
			g.ID, g.Name, g.Owner, nsOf(g.Created)); err != nil {
			return err
		}
		_, err := execN(ctx, tx, `INSERT INTO group_members (group_id, user, joined) VALUES (?, ?, ?)`,
			g.ID, g.Owner, nsOf(g.Created))
		return err
	})
	if err != nil {
		return fmt.Errorf("create group %s: %w", g.Name, err)
	}
	return nil
}

// Group looks a group up by name; ErrNotFound if there is none.
func (s *SQLite) Group(ctx context.Context, name string) (Group, error) {
	g, err := scanGroup(s.r.QueryRowContext(ctx, `SELECT `+groupCols+` FROM chat_groups g WHERE g.name = ?`, name))
	if err != nil {
		return Group{}, fmt.Errorf("group %s: %w", name, mapErr(err))
	}
	return g, nil
}

// GroupByID looks a group up by id; ErrNotFound if there is none.
func (s *SQLite) GroupByID(ctx context.Context, id string) (Group, error) {
	g, err := scanGroup(s.r.QueryRowContext(ctx, `SELECT `+groupCols+` FROM chat_groups g WHERE g.id = ?`, id))
	if err != nil {
		return Group{}, fmt.Errorf("group %s: %w", id, mapErr(err))
	}
	return g, nil
}

// RenameGroup renames; ErrExists if the new name is taken, ErrNotFound if
// there is no such group.
func (s *SQLite) RenameGroup(ctx context.Context, id, name string) error {
	if err := execOne(ctx, s.w, `UPDATE chat_groups SET name = ? WHERE id = ?`, name, id); err != nil {
		return fmt.Errorf("rename group %s to %s: %w", id, name, err)
	}
	return nil
}

// SetGroupOwner passes ownership to a member; ErrNotFound if there is no
// such group or owner is not one of its members.
func (s *SQLite) SetGroupOwner(ctx context.Context, id, owner string) error {
	err := execOne(ctx, s.w, `UPDATE chat_groups SET owner = ?2 WHERE id = ?1
		AND EXISTS (SELECT 1 FROM group_members WHERE group_id = ?1 AND user = ?2)`, id, owner)
	if err != nil {
		return fmt.Errorf("set owner of group %s to %s: %w", id, owner, err)
	}
	return nil
}

// DeleteGroup removes a group with its members and invites, in one
// transaction; ErrNotFound if there is no such group.
func (s *SQLite) DeleteGroup(ctx context.Context, id string) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		// The foreign keys cascade too; deleting explicitly keeps this
		// correct even on a connection where they were off.
		if _, err := execN(ctx, tx, `DELETE FROM group_invites WHERE group_id = ?`, id); err != nil {
			return err
		}
		if _, err := execN(ctx, tx, `DELETE FROM group_members WHERE group_id = ?`, id); err != nil {
			return err
		}
		return execOne(ctx, tx, `DELETE FROM chat_groups WHERE id = ?`, id)
	})
	if err != nil {
		return fmt.Errorf("delete group %s: %w", id, err)
	}
	return nil
}

// CreateInvite records an invitation; ErrExists if already invited,
// ErrNotFound if there is no such group. inv.Group.ID names the group.
func (s *SQLite) CreateInvite(ctx context.Context, inv Invite) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO group_invites (group_id, user, by_user, at) VALUES (?, ?, ?, ?)`,
		inv.Group.ID, inv.User, inv.By, nsOf(inv.At))
	if err != nil {
		return fmt.Errorf("invite %s to group %s: %w", inv.User, inv.Group.ID, mapErr(err))
	}
	return nil
}

// DeleteInvite removes an invitation; ErrNotFound if there is none.
func (s *SQLite) DeleteInvite(ctx context.Context, groupID, user string) error {
	err := execOne(ctx, s.w, `DELETE FROM group_invites WHERE group_id = ? AND user = ?`, groupID, user)
	if err != nil {
		return fmt.Errorf("delete invite of %s to group %s: %w", user, groupID, err)
	}
	return nil
}

// Invites lists user's pending invitations, oldest first, each with its
// group filled in.
func (s *SQLite) Invites(ctx context.Context, user string) ([]Invite, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+groupCols+`, i.user, i.by_user, i.at
		FROM group_invites i JOIN chat_groups g ON g.id = i.group_id
		WHERE i.user = ? ORDER BY i.at, g.name`, user)
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
func (s *SQLite) JoinGroup(ctx context.Context, groupID, user string, at time.Time) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := execOne(ctx, tx, `DELETE FROM group_invites WHERE group_id = ? AND user = ?`, groupID, user); err != nil {
			return err
		}
		_, err := execN(ctx, tx, `INSERT INTO group_members (group_id, user, joined) VALUES (?, ?, ?)
			ON CONFLICT (group_id, user) DO NOTHING`, groupID, user, nsOf(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("%s join group %s: %w", user, groupID, err)
	}
	return nil
}

// RemoveMember removes a member; ErrNotFound if not a member.
func (s *SQLite) RemoveMember(ctx context.Context, groupID, user string) error {
	err := execOne(ctx, s.w, `DELETE FROM group_members WHERE group_id = ? AND user = ?`, groupID, user)
	if err != nil {
		return fmt.Errorf("remove %s from group %s: %w", user, groupID, err)
	}
	return nil
}

// Members lists a group's members, oldest first (none for an unknown
// group).
func (s *SQLite) Members(ctx context.Context, groupID string) ([]Member, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT user, joined FROM group_members
		WHERE group_id = ? ORDER BY joined, user`, groupID)
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
func (s *SQLite) IsMember(ctx context.Context, groupID, user string) (bool, error) {
	var ok bool
	err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM group_members
		WHERE group_id = ? AND user = ?)`, groupID, user).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("is %s in group %s: %w", user, groupID, err)
	}
	return ok, nil
}

// Groups lists the groups user belongs to, by name; rooms are not
// listed (Rooms lists them).
func (s *SQLite) Groups(ctx context.Context, user string) ([]Group, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+groupCols+`
		FROM group_members m JOIN chat_groups g ON g.id = m.group_id
		WHERE m.user = ? AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.group_id = g.id)
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
func (s *SQLite) ShareGroup(ctx context.Context, a, b string) (bool, error) {
	var ok bool
	err := s.rs.queryRow(ctx, `SELECT EXISTS (SELECT 1
		FROM group_members x JOIN group_members y ON y.group_id = x.group_id
		WHERE x.user = ? AND y.user = ?)`, a, b).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("do %s and %s share a group: %w", a, b, err)
	}
	return ok, nil
}

// Contacts lists, by name, everyone who may see user's presence: friends
// and co-members of any group, without duplicates, excluding user.
func (s *SQLite) Contacts(ctx context.Context, user string) ([]string, error) {
	names, err := collectStrings(s.r.QueryContext(ctx, `
		SELECT b FROM friendships WHERE a = ?1
		UNION
		SELECT a FROM friendships WHERE b = ?1
		UNION
		SELECT y.user FROM group_members x JOIN group_members y ON y.group_id = x.group_id
		WHERE x.user = ?1 AND y.user <> ?1
		ORDER BY 1`, user))
	if err != nil {
		return nil, fmt.Errorf("contacts of %s: %w", user, err)
	}
	return names, nil
}
