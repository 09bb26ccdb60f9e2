package history

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestRosterSaveLoad(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(ctx, path)
	mustNil(t, err)
	_, err = s.LoadRoster(ctx)
	wantErr(t, err, ErrNotFound)

	synced := time.Unix(1700000000, 5).UTC()
	r := Roster{
		Friends: []RosterFriend{{Username: "alice", DisplayName: "Alice A."}, {Username: "carol"}},
		Groups: []RosterGroup{{ID: gid, Name: "team", Owner: "alice", Created: time.Unix(1600000000, 0).UTC(),
			Members: []string{"alice", "bob", "dave"}}},
		Synced: synced,
	}
	mustNil(t, s.SaveRoster(ctx, r))
	mustNil(t, s.Close())

	s, err = Open(ctx, path)
	mustNil(t, err)
	defer s.Close()
	got, err := s.LoadRoster(ctx)
	mustNil(t, err)
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("loaded %+v\nwant %+v", got, r)
	}

	// A later sync replaces it whole: carol is no friend, dave was
	// kicked.
	r2 := Roster{
		Friends: []RosterFriend{{Username: "alice"}},
		Groups:  []RosterGroup{{ID: gid, Name: "team", Owner: "alice", Members: []string{"alice", "bob"}}},
		Synced:  synced.Add(time.Hour),
	}
	mustNil(t, s.SaveRoster(ctx, r2))
	got, err = s.LoadRoster(ctx)
	mustNil(t, err)
	if !reflect.DeepEqual(got, r2) {
		t.Fatalf("after the second save %+v\nwant %+v", got, r2)
	}
	mustNil(t, s.SaveRoster(ctx, Roster{Synced: synced.Add(2 * time.Hour)}))
	got, err = s.LoadRoster(ctx)
	mustNil(t, err)
	if len(got.Friends) != 0 || len(got.Groups) != 0 {
		t.Fatalf("after saving an empty roster: %+v", got)
	}
}

func TestRosterInvalid(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	now := time.Now()
	for name, r := range map[string]Roster{
		"no time":        {Friends: []RosterFriend{{Username: "alice"}}},
		"bad friend":     {Friends: []RosterFriend{{Username: "Alice"}}, Synced: now},
		"bad group id":   {Groups: []RosterGroup{{ID: "x", Name: "team"}}, Synced: now},
		"no group name":  {Groups: []RosterGroup{{ID: gid}}, Synced: now},
		"bad member":     {Groups: []RosterGroup{{ID: gid, Name: "team", Members: []string{"../x"}}}, Synced: now},
		"bad group name": {Groups: []RosterGroup{{ID: gid, Name: "\xff"}}, Synced: now},
	} {
		wantErr(t, s.SaveRoster(ctx, r), ErrInvalid)
		if _, err := s.LoadRoster(ctx); err == nil {
			t.Errorf("%s: a roster was saved", name)
		}
	}
}

// TestRosterHandEdited loads a roster with rows no sync would write:
// they are left out, so they admit nobody.
func TestRosterHandEdited(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(ctx, path)
	mustNil(t, err)
	mustNil(t, s.SaveRoster(ctx, Roster{Friends: []RosterFriend{{Username: "alice"}}, Synced: time.Now()}))
	mustNil(t, s.Close())
	db, err := sql.Open("sqlite", path)
	mustNil(t, err)
	for _, q := range []string{
		`INSERT INTO roster_friends (username) VALUES ('Mallory')`,
		`INSERT INTO roster_groups (id, name) VALUES ('not-an-id', 'x')`,
		`INSERT INTO roster_members (grp, username) VALUES ('not-an-id', 'mallory')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err = Open(ctx, path)
	mustNil(t, err)
	defer s.Close()
	got, err := s.LoadRoster(ctx)
	mustNil(t, err)
	if len(got.Friends) != 1 || got.Friends[0].Username != "alice" || len(got.Groups) != 0 {
		t.Fatalf("hand-edited roster loaded as %+v", got)
	}
}
