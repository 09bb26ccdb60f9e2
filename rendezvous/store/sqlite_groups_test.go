package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

func groupID(n int) string { return fmt.Sprintf("%032x", n) }

func mkGroup(t *testing.T, s suiteStore, n int, name, owner string) Group {
	t.Helper()
	g := Group{ID: groupID(n), Name: name, Owner: owner, Created: at(time.Duration(n) * time.Second)}
	mustNil(t, s.CreateGroup(context.Background(), g))
	return g
}

func invite(t *testing.T, s suiteStore, g Group, user, by string, when time.Time) {
	t.Helper()
	mustNil(t, s.CreateInvite(context.Background(), Invite{Group: g, User: user, By: by, At: when}))
}

func join(t *testing.T, s suiteStore, g Group, user string, when time.Time) {
	t.Helper()
	invite(t, s, g, user, g.Owner, when)
	mustNil(t, s.JoinGroup(context.Background(), g.ID, user, when))
}

func memberNames(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.User)
	}
	return out
}

func TestCreateGroup(t *testing.T) { eachStore(t, testCreateGroup) }

func testCreateGroup(t *testing.T, s suiteStore) {
	ctx := context.Background()
	g := mkGroup(t, s, 1, "team", "alice")

	for _, lookup := range []func() (Group, error){
		func() (Group, error) { return s.Group(ctx, "team") },
		func() (Group, error) { return s.GroupByID(ctx, g.ID) },
	} {
		got, err := lookup()
		mustNil(t, err)
		if got.ID != g.ID || got.Name != "team" || got.Owner != "alice" || !got.Created.Equal(g.Created) ||
			got.Members != 1 || got.Created.Location() != time.UTC {
			t.Errorf("group = %+v", got)
		}
	}
	ms, err := s.Members(ctx, g.ID)
	mustNil(t, err)
	if len(ms) != 1 || ms[0].User != "alice" || !ms[0].Joined.Equal(g.Created) {
		t.Errorf("members = %+v", ms)
	}

	// Same name, other id: ErrExists, and nothing half-made.
	err = s.CreateGroup(ctx, Group{ID: groupID(2), Name: "team", Owner: "bob", Created: at(0)})
	wantErr(t, err, ErrExists)
	_, err = s.GroupByID(ctx, groupID(2))
	wantErr(t, err, ErrNotFound)
	if ok, _ := s.IsMember(ctx, groupID(2), "bob"); ok {
		t.Error("failed CreateGroup left a member")
	}
	// Same id, other name: ErrExists.
	wantErr(t, s.CreateGroup(ctx, Group{ID: g.ID, Name: "other", Owner: "bob"}), ErrExists)

	_, err = s.Group(ctx, "nope")
	wantErr(t, err, ErrNotFound)
	_, err = s.GroupByID(ctx, groupID(99))
	wantErr(t, err, ErrNotFound)
}

func TestRenameAndOwner(t *testing.T) { eachStore(t, testRenameAndOwner) }

func testRenameAndOwner(t *testing.T, s suiteStore) {
	ctx := context.Background()
	g := mkGroup(t, s, 1, "team", "alice")
	mkGroup(t, s, 2, "other", "bob")
	join(t, s, g, "carol", at(time.Minute))

	mustNil(t, s.RenameGroup(ctx, g.ID, "crew"))
	_, err := s.Group(ctx, "team")
	wantErr(t, err, ErrNotFound)
	got, err := s.Group(ctx, "crew")
	mustNil(t, err)
	if got.ID != g.ID || got.Members != 2 {
		t.Errorf("renamed group = %+v", got)
	}
	wantErr(t, s.RenameGroup(ctx, g.ID, "other"), ErrExists)
	wantErr(t, s.RenameGroup(ctx, groupID(99), "x"), ErrNotFound)
	mustNil(t, s.RenameGroup(ctx, g.ID, "crew")) // to its own name

	mustNil(t, s.SetGroupOwner(ctx, g.ID, "carol"))
	got, err = s.GroupByID(ctx, g.ID)
	mustNil(t, err)
	if got.Owner != "carol" {
		t.Errorf("owner = %s", got.Owner)
	}
	wantErr(t, s.SetGroupOwner(ctx, g.ID, "dave"), ErrNotFound) // not a member
	wantErr(t, s.SetGroupOwner(ctx, groupID(99), "carol"), ErrNotFound)
}

func TestInvitesAndJoin(t *testing.T) { eachStore(t, testInvitesAndJoin) }

func testInvitesAndJoin(t *testing.T, s suiteStore) {
	ctx := context.Background()
	g1 := mkGroup(t, s, 1, "zeta", "alice")
	g2 := mkGroup(t, s, 2, "alpha", "bob")

	invite(t, s, g1, "carol", "alice", at(2*time.Minute))
	invite(t, s, g2, "carol", "bob", at(time.Minute))
	wantErr(t, s.CreateInvite(ctx, Invite{Group: g1, User: "carol", By: "alice", At: at(0)}), ErrExists)
	wantErr(t, s.CreateInvite(ctx, Invite{Group: Group{ID: groupID(99)}, User: "carol", By: "x", At: at(0)}), ErrNotFound)

	invs, err := s.Invites(ctx, "carol")
	mustNil(t, err)
	if len(invs) != 2 {
		t.Fatalf("invites = %+v", invs)
	}
	// Oldest first, with the group filled in.
	if i := invs[0]; i.Group.ID != g2.ID || i.Group.Name != "alpha" || i.Group.Owner != "bob" ||
		i.Group.Members != 1 || i.User != "carol" || i.By != "bob" || !i.At.Equal(at(time.Minute)) {
		t.Errorf("invite[0] = %+v", i)
	}
	if invs[1].Group.ID != g1.ID {
		t.Errorf("invite[1] = %+v", invs[1])
	}

	// Join consumes the invitation and adds the member.
	mustNil(t, s.JoinGroup(ctx, g1.ID, "carol", at(3*time.Minute)))
	wantErr(t, s.JoinGroup(ctx, g1.ID, "carol", at(4*time.Minute)), ErrNotFound)
	wantErr(t, s.JoinGroup(ctx, g1.ID, "dave", at(4*time.Minute)), ErrNotFound)
	if ok, err := s.IsMember(ctx, g1.ID, "carol"); err != nil || !ok {
		t.Errorf("IsMember = %v, %v", ok, err)
	}
	if ok, _ := s.IsMember(ctx, g1.ID, "dave"); ok {
		t.Error("dave is a member")
	}
	invs, err = s.Invites(ctx, "carol")
	mustNil(t, err)
	if len(invs) != 1 || invs[0].Group.ID != g2.ID {
		t.Errorf("invites after join = %+v", invs)
	}
	ms, err := s.Members(ctx, g1.ID)
	mustNil(t, err)
	if got := memberNames(ms); !slices.Equal(got, []string{"alice", "carol"}) {
		t.Errorf("members = %v", got)
	}
	if !ms[1].Joined.Equal(at(3 * time.Minute)) {
		t.Errorf("joined = %v", ms[1].Joined)
	}

	// Re-invited while already a member: joining keeps the first join time.
	invite(t, s, g1, "carol", "alice", at(5*time.Minute))
	mustNil(t, s.JoinGroup(ctx, g1.ID, "carol", at(6*time.Minute)))
	ms, err = s.Members(ctx, g1.ID)
	mustNil(t, err)
	if len(ms) != 2 || !ms[1].Joined.Equal(at(3*time.Minute)) {
		t.Errorf("members after re-join = %+v", ms)
	}

	mustNil(t, s.DeleteInvite(ctx, g2.ID, "carol"))
	wantErr(t, s.DeleteInvite(ctx, g2.ID, "carol"), ErrNotFound)
	invs, err = s.Invites(ctx, "carol")
	mustNil(t, err)
	if len(invs) != 0 {
		t.Errorf("invites = %+v", invs)
	}
}

func TestMembersAndGroups(t *testing.T) { eachStore(t, testMembersAndGroups) }

func testMembersAndGroups(t *testing.T, s suiteStore) {
	ctx := context.Background()
	g1 := mkGroup(t, s, 1, "zeta", "alice")
	g2 := mkGroup(t, s, 2, "alpha", "bob")
	join(t, s, g1, "bob", at(time.Hour))
	join(t, s, g1, "carol", at(30*time.Minute))

	ms, err := s.Members(ctx, g1.ID)
	mustNil(t, err)
	if got := memberNames(ms); !slices.Equal(got, []string{"alice", "carol", "bob"}) {
		t.Errorf("members oldest first = %v", got)
	}
	ms, err = s.Members(ctx, groupID(99))
	mustNil(t, err)
	if len(ms) != 0 {
		t.Errorf("members of unknown group = %v", ms)
	}

	gs, err := s.Groups(ctx, "bob")
	mustNil(t, err)
	if len(gs) != 2 || gs[0].Name != "alpha" || gs[1].Name != "zeta" || gs[0].Members != 1 || gs[1].Members != 3 {
		t.Errorf("Groups(bob) = %+v", gs)
	}
	gs, err = s.Groups(ctx, "nobody")
	mustNil(t, err)
	if len(gs) != 0 {
		t.Errorf("Groups(nobody) = %+v", gs)
	}

	mustNil(t, s.RemoveMember(ctx, g1.ID, "bob"))
	wantErr(t, s.RemoveMember(ctx, g1.ID, "bob"), ErrNotFound)
	wantErr(t, s.RemoveMember(ctx, groupID(99), "bob"), ErrNotFound)
	g, err := s.GroupByID(ctx, g1.ID)
	mustNil(t, err)
	if g.Members != 2 {
		t.Errorf("members after remove = %d", g.Members)
	}
	_ = g2
}

func TestShareGroup(t *testing.T) { eachStore(t, testShareGroup) }

func testShareGroup(t *testing.T, s suiteStore) {
	ctx := context.Background()
	g1 := mkGroup(t, s, 1, "one", "alice")
	mkGroup(t, s, 2, "two", "carol")
	join(t, s, g1, "bob", at(0))
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"alice", "bob", true},
		{"bob", "alice", true},
		{"alice", "carol", false},
		{"carol", "dave", false},
	} {
		got, err := s.ShareGroup(ctx, c.a, c.b)
		mustNil(t, err)
		if got != c.want {
			t.Errorf("ShareGroup(%s, %s) = %v", c.a, c.b, got)
		}
	}
}

func TestDeleteGroupCascades(t *testing.T) { eachStore(t, testDeleteGroupCascades) }

func testDeleteGroupCascades(t *testing.T, s suiteStore) {
	ctx := context.Background()
	g := mkGroup(t, s, 1, "team", "alice")
	other := mkGroup(t, s, 2, "other", "alice")
	join(t, s, g, "bob", at(0))
	invite(t, s, g, "carol", "alice", at(0))
	invite(t, s, other, "carol", "alice", at(1))

	mustNil(t, s.DeleteGroup(ctx, g.ID))
	wantErr(t, s.DeleteGroup(ctx, g.ID), ErrNotFound)
	_, err := s.GroupByID(ctx, g.ID)
	wantErr(t, err, ErrNotFound)
	for _, tbl := range []string{"group_members", "group_invites"} {
		var n int
		mustNil(t, s.rawRow(ctx, "SELECT COUNT(*) FROM "+tbl+" WHERE group_id = ?", g.ID).Scan(&n))
		if n != 0 {
			t.Errorf("%s still has %d rows", tbl, n)
		}
	}
	if ok, _ := s.ShareGroup(ctx, "alice", "bob"); ok {
		t.Error("alice and bob still share a group")
	}
	invs, err := s.Invites(ctx, "carol")
	mustNil(t, err)
	if len(invs) != 1 || invs[0].Group.ID != other.ID {
		t.Errorf("invites = %+v", invs)
	}
	// The name is free again.
	mkGroup(t, s, 3, "team", "bob")

	// The foreign keys cascade on their own too.
	err = s.rawExec(ctx, "DELETE FROM chat_groups WHERE id = ?", other.ID)
	mustNil(t, err)
	invs, err = s.Invites(ctx, "carol")
	mustNil(t, err)
	ms, err := s.Members(ctx, other.ID)
	mustNil(t, err)
	if len(invs) != 0 || len(ms) != 0 {
		t.Errorf("cascade left invites %v members %v", invs, ms)
	}
}

func TestContacts(t *testing.T) { eachStore(t, testContacts) }

func testContacts(t *testing.T, s suiteStore) {
	ctx := context.Background()
	addUsers(t, s, "alice", "bob", "carol", "dave", "erin", "frank")
	befriend := func(a, b string) {
		mustNil(t, s.CreateFriendRequest(ctx, FriendRequest{From: a, To: b, At: at(0)}))
		mustNil(t, s.AcceptFriendRequest(ctx, a, b, at(0)))
	}
	befriend("alice", "bob")
	befriend("carol", "alice")
	g1 := mkGroup(t, s, 1, "one", "alice")
	join(t, s, g1, "bob", at(0))  // friend and co-member: once
	join(t, s, g1, "dave", at(0)) // co-member only
	g2 := mkGroup(t, s, 2, "two", "dave")
	join(t, s, g2, "alice", at(0)) // dave again through a second group
	join(t, s, g2, "erin", at(0))
	g3 := mkGroup(t, s, 3, "three", "frank") // alice only invited
	invite(t, s, g3, "alice", "frank", at(0))

	for _, c := range []struct {
		user string
		want []string
	}{
		{"alice", []string{"bob", "carol", "dave", "erin"}},
		{"bob", []string{"alice", "dave"}},
		{"carol", []string{"alice"}},
		{"erin", []string{"alice", "dave"}},
		{"frank", nil},
		{"nobody", nil},
	} {
		got, err := s.Contacts(ctx, c.user)
		mustNil(t, err)
		if !slices.Equal(got, c.want) {
			t.Errorf("Contacts(%s) = %v, want %v", c.user, got, c.want)
		}
	}
}
