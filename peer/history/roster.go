package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/lanchat/lanchat/internal/wire"
)

// Roster is who the server last said the user may talk to: friends, and
// the groups with their members. The daemon saves it after every sync and
// a restarted daemon applies it until its next sync, so a removed friend
// or a kicked member stays out while the server is away.
type Roster struct {
	Friends []RosterFriend
	Groups  []RosterGroup
	// Synced is when the server gave this roster.
	Synced time.Time
}

// RosterFriend is one friend in a Roster.
type RosterFriend struct {
	Username    string
	DisplayName string
}

// RosterGroup is one group in a Roster, with its members' usernames.
type RosterGroup struct {
	ID      string
	Name    string
	Owner   string
	Created time.Time
	Members []string
}

// SaveRoster replaces the stored roster with r.
func (s *Store) SaveRoster(ctx context.Context, r Roster) error {
	if err := checkRoster(r); err != nil {
		return fmt.Errorf("save roster: %w", err)
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM roster_members`, `DELETE FROM roster_groups`, `DELETE FROM roster_friends`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		for _, f := range r.Friends {
			if _, err := tx.ExecContext(ctx, `INSERT INTO roster_friends (username, display_name) VALUES (?, ?)
				ON CONFLICT DO NOTHING`, f.Username, f.DisplayName); err != nil {
				return err
			}
		}
		for _, g := range r.Groups {
			if _, err := tx.ExecContext(ctx, `INSERT INTO roster_groups (id, name, owner, created) VALUES (?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, g.ID, g.Name, g.Owner, nsOf(g.Created)); err != nil {
				return err
			}
			for _, m := range g.Members {
				if _, err := tx.ExecContext(ctx, `INSERT INTO roster_members (grp, username) VALUES (?, ?)
					ON CONFLICT DO NOTHING`, g.ID, m); err != nil {
					return err
				}
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO roster (id, synced) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET synced = excluded.synced`, r.Synced.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("save roster: %w", err)
	}
	return nil
}

// LoadRoster returns the stored roster; ErrNotFound if none was ever
// saved. Rows that break the rules SaveRoster enforces (a file edited by
// hand) are left out, so they admit nobody.
func (s *Store) LoadRoster(ctx context.Context) (Roster, error) {
	var r Roster
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		r = Roster{}
		var synced int64
		if err := tx.QueryRowContext(ctx, `SELECT synced FROM roster WHERE id = 1`).Scan(&synced); err != nil {
			return mapErr(err)
		}
		r.Synced = time.Unix(0, synced).UTC()
		rows, err := tx.QueryContext(ctx, `SELECT username, display_name FROM roster_friends ORDER BY username`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var f RosterFriend
			if err := rows.Scan(&f.Username, &f.DisplayName); err != nil {
				return err
			}
			if checkUser(f.Username) == nil {
				r.Friends = append(r.Friends, f)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		groups, err := tx.QueryContext(ctx, `SELECT id, name, owner, created FROM roster_groups ORDER BY name`)
		if err != nil {
			return err
		}
		defer groups.Close()
		index := make(map[string]int)
		for groups.Next() {
			var (
				g       RosterGroup
				created sql.NullInt64
			)
			if err := groups.Scan(&g.ID, &g.Name, &g.Owner, &created); err != nil {
				return err
			}
			g.Created = timeOf(created)
			if checkGroup(g) == nil {
				index[g.ID] = len(r.Groups)
				r.Groups = append(r.Groups, g)
			}
		}
		if err := groups.Err(); err != nil {
			return err
		}
		groups.Close()
		members, err := tx.QueryContext(ctx, `SELECT grp, username FROM roster_members ORDER BY grp, username`)
		if err != nil {
			return err
		}
		defer members.Close()
		for members.Next() {
			var id, u string
			if err := members.Scan(&id, &u); err != nil {
				return err
			}
			if i, ok := index[id]; ok && checkUser(u) == nil {
				r.Groups[i].Members = append(r.Groups[i].Members, u)
			}
		}
		return members.Err()
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Roster{}, fmt.Errorf("load roster: %w", ErrNotFound)
		}
		return Roster{}, fmt.Errorf("load roster: %w", err)
	}
	return r, nil
}

// checkRoster accepts a roster whose names are in the protocol's forms.
func checkRoster(r Roster) error {
	if r.Synced.IsZero() {
		return invalid("a roster needs its sync time")
	}
	for _, f := range r.Friends {
		if err := checkUser(f.Username); err != nil {
			return err
		}
		if !utf8.ValidString(f.DisplayName) {
			return invalid("display name of %s must be UTF-8", f.Username)
		}
	}
	for _, g := range r.Groups {
		if err := checkGroup(g); err != nil {
			return err
		}
		for _, m := range g.Members {
			if err := checkUser(m); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkGroup(g RosterGroup) error {
	if werr := wire.CheckMessageID("group", g.ID); werr != nil {
		return invalid("group id %q: %v", g.ID, werr)
	}
	if g.Name == "" || !utf8.ValidString(g.Name) {
		return invalid("group %s has no valid name", g.ID)
	}
	if g.Owner != "" {
		if err := checkUser(g.Owner); err != nil {
			return err
		}
	}
	return nil
}
