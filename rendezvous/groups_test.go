package rendezvous

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// This file tests groups (docs/protocol.md, group.* and the group event).

// waitGroupEvent waits until u is told of change to group.
func waitGroupEvent(t *testing.T, u *testUser, change, group string) wire.GroupEvent {
	t.Helper()
	return waitEventWhere(t, u.c, wire.EvGroup, func(ev wire.GroupEvent) bool {
		return ev.Change == change && ev.Group.Name == group
	})
}

// memberList renders group.members as "name" or "name*" for the owner.
func memberList(t *testing.T, u *testUser, group string) string {
	t.Helper()
	gm := call[wire.GroupMembersResponse](t, u.c, wire.OpGroupMembers, wire.GroupRequest{Group: group})
	var out []string
	for _, m := range gm.Members {
		if m.Owner {
			out = append(out, m.Username+"*")
		} else {
			out = append(out, m.Username)
		}
	}
	return strings.Join(out, " ")
}

// groupNames lists the groups and invitations of groups.list.
func groupNames(t *testing.T, u *testUser) (groups, invites string) {
	t.Helper()
	gl := call[wire.GroupsListResponse](t, u.c, wire.OpGroupsList, wire.Empty{})
	var g, i []string
	for _, x := range gl.Groups {
		g = append(g, x.Name)
	}
	for _, x := range gl.Invites {
		i = append(i, x.Group.Name+" by "+x.By)
	}
	return strings.Join(g, " "), strings.Join(i, ", ")
}

var groupID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestGroupCreate(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")

	before := time.Now().Add(-time.Second)
	g := call[wire.Group](t, alice.c, wire.OpGroupCreate, wire.GroupRequest{Group: "Team"})
	if g.Name != "team" || g.Owner != "alice" || g.Members != 1 || !groupID.MatchString(g.ID) || g.Created.Before(before) {
		t.Errorf("created %+v, want team owned by alice with one member", g)
	}
	if got, _ := groupNames(t, alice); got != "team" {
		t.Errorf("alice's groups %q, want team", got)
	}
	if got := memberList(t, alice, "TEAM"); got != "alice*" {
		t.Errorf("members %q, want alice*", got)
	}

	for _, name := range []string{"team", "TEAM", "tEaM"} {
		callErr(t, bob.c, wire.OpGroupCreate, wire.GroupRequest{Group: name}, wire.CodeConflict)
	}
	for _, name := range []string{"", "two words", "ünï", "a/b", strings.Repeat("x", wire.MaxGroupName+1)} {
		werr := callErr(t, bob.c, wire.OpGroupCreate, wire.GroupRequest{Group: name}, wire.CodeInvalid)
		if werr.Field != "group" {
			t.Errorf("create %q: field %q, want group", name, werr.Field)
		}
	}
	// The shortest and longest names are fine.
	call[wire.Group](t, bob.c, wire.OpGroupCreate, wire.GroupRequest{Group: "x"})
	call[wire.Group](t, bob.c, wire.OpGroupCreate, wire.GroupRequest{Group: strings.Repeat("y", wire.MaxGroupName)})
	if got, _ := groupNames(t, bob); got != "x "+strings.Repeat("y", wire.MaxGroupName) {
		t.Errorf("bob's groups %q", got)
	}
}

func TestGroupInviteAndJoin(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	dave := ts.register(t, "dave")
	carol.c.Close()
	call[wire.Group](t, alice.c, wire.OpGroupCreate, wire.GroupRequest{Group: "team"})

	// An online invitee is told at once.
	call[wire.Empty](t, alice.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "Team", Username: "Bob"})
	ev := waitEvent[wire.GroupEvent](t, bob.c, wire.EvGroup)
	if ev.Change != wire.GroupInvited || ev.Group.Name != "team" || ev.Username != "bob" || ev.By != "alice" {
		t.Errorf("invite event %+v, want bob invited to team by alice", ev)
	}
	// An offline one at their next login.
	call[wire.Empty](t, alice.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "carol"})
	carol = ts.login(t, carol)
	ev = waitEvent[wire.GroupEvent](t, carol.c, wire.EvGroup)
	if ev.Change != wire.GroupInvited || ev.Group.Name != "team" || ev.Username != "carol" || ev.By != "alice" {
		t.Errorf("invite event at login %+v, want carol invited to team by alice", ev)
	}

	// Inviting twice changes nothing and tells nothing: bob's next group
	// event is about another group.
	call[wire.Empty](t, alice.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "bob"})
	call[wire.Group](t, alice.c, wire.OpGroupCreate, wire.GroupRequest{Group: "other"})
	call[wire.Empty](t, alice.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "other", Username: "bob"})
	if ev := waitEvent[wire.GroupEvent](t, bob.c, wire.EvGroup); ev.Group.Name != "other" {
		t.Errorf("a repeated invitation sent %+v", ev)
	}
	if g, inv := groupNames(t, bob); g != "" || inv != "team by alice, other by alice" {
		t.Errorf("bob's groups.list: groups %q, invites %q", g, inv)
	}

	errs := []struct {
		name string
		as   *testUser
		op   string
		req  any
		code string
	}{
		{"invite by non-member", dave, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "dave"}, wire.CodeNotFound},
		{"invite by invitee", bob, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "dave"}, wire.CodeNotFound},
		{"invite to no group", alice, wire.OpGroupInvite, wire.GroupUserRequest{Group: "nope", Username: "dave"}, wire.CodeNotFound},
		{"invite unknown user", alice, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "nobody"}, wire.CodeNotFound},
		{"invite member", alice, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "alice"}, wire.CodeConflict},
		{"invite bad name", alice, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "a b"}, wire.CodeInvalid},
		{"join without invitation", dave, wire.OpGroupJoin, wire.GroupRequest{Group: "team"}, wire.CodeNotFound},
		{"join no group", dave, wire.OpGroupJoin, wire.GroupRequest{Group: "nope"}, wire.CodeNotFound},
		{"join as member", alice, wire.OpGroupJoin, wire.GroupRequest{Group: "team"}, wire.CodeConflict},
		{"members by non-member", dave, wire.OpGroupMembers, wire.GroupRequest{Group: "team"}, wire.CodeNotFound},
		{"members by invitee", bob, wire.OpGroupMembers, wire.GroupRequest{Group: "team"}, wire.CodeNotFound},
		{"members of no group", alice, wire.OpGroupMembers, wire.GroupRequest{Group: "nope"}, wire.CodeNotFound},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) { callErr(t, tc.as.c, tc.op, tc.req, tc.code) })
	}

	// bob joins: every member, bob included, is told, and bob and alice
	// learn each other's presence.
	g := call[wire.Group](t, bob.c, wire.OpGroupJoin, wire.GroupRequest{Group: "TEAM"})
	if g.Name != "team" || g.Members != 2 || g.Owner != "alice" {
		t.Errorf("join reply %+v, want team with 2 members", g)
	}
	for _, u := range []*testUser{alice, bob} {
		ev := waitGroupEvent(t, u, wire.GroupJoined, "team")
		if ev.Username != "bob" || ev.Group.Members != 2 {
			t.Errorf("%s: joined event %+v, want bob joined, 2 members", u.name, ev)
		}
	}
	waitPresence(t, alice, "bob", wire.StatusOnline)
	waitPresence(t, bob, "alice", wire.StatusOnline)
	callErr(t, bob.c, wire.OpGroupJoin, wire.GroupRequest{Group: "team"}, wire.CodeConflict)
	if g, inv := groupNames(t, bob); g != "team" || inv != "other by alice" {
		t.Errorf("bob's groups.list after joining: groups %q, invites %q", g, inv)
	}

	// Any member may invite: bob invites dave. carol takes up the
	// invitation she was given while offline.
	call[wire.Empty](t, bob.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "dave"})
	if ev := waitGroupEvent(t, dave, wire.GroupInvited, "team"); ev.By != "bob" {
		t.Errorf("dave's invitation is by %q, want bob", ev.By)
	}
	call[wire.Group](t, carol.c, wire.OpGroupJoin, wire.GroupRequest{Group: "team"})
	for _, u := range []*testUser{alice, bob} {
		if ev := waitGroupEvent(t, u, wire.GroupJoined, "team"); ev.Username != "carol" {
			t.Errorf("%s: joined event %+v, want carol", u.name, ev)
		}
		waitPresence(t, u, "carol", wire.StatusOnline)
	}

	// group.members: join order, owner flagged, with presence.
	gm := call[wire.GroupMembersResponse](t, carol.c, wire.OpGroupMembers, wire.GroupRequest{Group: "team"})
	if gm.Group.Name != "team" || gm.Group.Members != 3 {
		t.Errorf("group.members group %+v", gm.Group)
	}
	want := []wire.Member{
		{Username: "alice", DisplayName: "User alice", Owner: true},
		{Username: "bob", DisplayName: "User bob"},
		{Username: "carol", DisplayName: "User carol"},
	}
	if len(gm.Members) != len(want) {
		t.Fatalf("members %+v, want %d", gm.Members, len(want))
	}
	for i, m := range gm.Members {
		w := want[i]
		if m.Username != w.Username || m.DisplayName != w.DisplayName || m.Owner != w.Owner {
			t.Errorf("member %d: %+v, want %+v", i, m, w)
		}
		if m.Presence.Username != w.Username || m.Presence.Status != wire.StatusOnline {
			t.Errorf("member %s presence %+v, want online", m.Username, m.Presence)
		}
	}
}

func TestGroupLeave(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	// zoe joins before bob, so she is the longest-standing member after
	// olga, though bob sorts first by name.
	olga := ts.register(t, "olga")
	zoe := ts.register(t, "zoe")
	bob := ts.register(t, "bob")
	shareGroup(t, "team", olga, zoe, bob)

	// A member leaves: the rest, and the leaver, are told.
	call[wire.Empty](t, bob.c, wire.OpGroupLeave, wire.GroupRequest{Group: "team"})
	for _, u := range []*testUser{olga, zoe, bob} {
		if ev := waitGroupEvent(t, u, wire.GroupLeft, "team"); ev.Username != "bob" || ev.Group.Members != 2 {
			t.Errorf("%s: left event %+v, want bob left, 2 members", u.name, ev)
		}
	}
	callErr(t, bob.c, wire.OpGroupMembers, wire.GroupRequest{Group: "team"}, wire.CodeNotFound)
	callErr(t, bob.c, wire.OpGroupLeave, wire.GroupRequest{Group: "team"}, wire.CodeNotFound)
	if got := memberList(t, olga, "team"); got != "olga* zoe" {
		t.Errorf("members after bob left: %q", got)
	}

	// bob comes back, then the owner leaves: ownership passes to zoe.
	call[wire.Empty](t, zoe.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "bob"})
	call[wire.Group](t, bob.c, wire.OpGroupJoin, wire.GroupRequest{Group: "team"})
	call[wire.Empty](t, olga.c, wire.OpGroupLeave, wire.GroupRequest{Group: "team"})
	for _, u := range []*testUser{zoe, bob} {
		if ev := waitGroupEvent(t, u, wire.GroupLeft, "team"); ev.Username != "olga" {
			t.Errorf("%s: left event %+v, want olga left", u.name, ev)
		}
		if ev := waitGroupEvent(t, u, wire.GroupOwner, "team"); ev.Username != "zoe" || ev.Group.Owner != "zoe" {
			t.Errorf("%s: owner event %+v, want zoe", u.name, ev)
		}
	}
	// Both online: by name.
	if got := memberList(t, bob, "team"); got != "bob zoe*" {
		t.Errorf("members after the owner left: %q, want bob zoe*", got)
	}
	// zoe now has the owner's rights.
	call[wire.Empty](t, zoe.c, wire.OpGroupKick, wire.GroupUserRequest{Group: "team", Username: "bob"})
	if got := memberList(t, zoe, "team"); got != "zoe*" {
		t.Errorf("members after zoe kicked bob: %q, want zoe*", got)
	}

	// The last member leaves: the group, and any invitation to it, goes.
	call[wire.Empty](t, zoe.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "olga"})
	call[wire.Empty](t, zoe.c, wire.OpGroupLeave, wire.GroupRequest{Group: "team"})
	callErr(t, zoe.c, wire.OpGroupMembers, wire.GroupRequest{Group: "team"}, wire.CodeNotFound)
	callErr(t, olga.c, wire.OpGroupJoin, wire.GroupRequest{Group: "team"}, wire.CodeNotFound)
	if g, inv := groupNames(t, olga); g != "" || inv != "" {
		t.Errorf("olga's groups.list after the group went: groups %q, invites %q", g, inv)
	}
	if _, err := ts.store.Group(context.Background(), "team"); err == nil {
		t.Error("the empty group is still stored")
	}
	// Its name is free again.
	call[wire.Group](t, bob.c, wire.OpGroupCreate, wire.GroupRequest{Group: "team"})
}

func TestGroupKick(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	dave := ts.register(t, "dave")
	erin := ts.register(t, "erin")
	shareGroup(t, "team", alice, bob, carol)
	call[wire.Empty](t, alice.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "dave"})

	errs := []struct {
		name string
		as   *testUser
		who  string
		code string
	}{
		{"by member", bob, "carol", wire.CodeForbidden},
		{"owner by member", bob, "alice", wire.CodeForbidden},
		{"by invitee", dave, "carol", wire.CodeNotFound},
		{"by stranger", erin, "carol", wire.CodeNotFound},
		{"self", alice, "alice", wire.CodeInvalid},
		{"self other case", alice, "ALICE", wire.CodeInvalid},
		{"neither member nor invited", alice, "erin", wire.CodeNotFound},
		{"unknown user", alice, "nobody", wire.CodeNotFound},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			callErr(t, tc.as.c, wire.OpGroupKick, wire.GroupUserRequest{Group: "team", Username: tc.who}, tc.code)
		})
	}
	callErr(t, alice.c, wire.OpGroupKick, wire.GroupUserRequest{Group: "nope", Username: "bob"}, wire.CodeNotFound)
	if got := memberList(t, alice, "team"); got != "alice* bob carol" {
		t.Fatalf("members after failed kicks: %q", got)
	}

	call[wire.Empty](t, alice.c, wire.OpGroupKick, wire.GroupUserRequest{Group: "team", Username: "Carol"})
	for _, u := range []*testUser{alice, bob, carol} {
		if ev := waitGroupEvent(t, u, wire.GroupKicked, "team"); ev.Username != "carol" || ev.By != "alice" || ev.Group.Members != 2 {
			t.Errorf("%s: kicked event %+v, want carol kicked by alice, 2 members", u.name, ev)
		}
	}
	// carol has lost access, and with it her relation to bob.
	callErr(t, carol.c, wire.OpGroupMembers, wire.GroupRequest{Group: "team"}, wire.CodeNotFound)
	callErr(t, carol.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "erin"}, wire.CodeNotFound)
	relayErr(t, carol, wire.RelayEnvelope{To: "bob", ID: relayID(1), Envelope: []byte("x")}, wire.CodeNotFriends)
	if g, _ := groupNames(t, carol); g != "" {
		t.Errorf("carol's groups after the kick: %q", g)
	}
	if got := memberList(t, bob, "team"); got != "alice* bob" {
		t.Errorf("members after the kick: %q", got)
	}

	// Kicking someone only invited withdraws the invitation.
	call[wire.Empty](t, alice.c, wire.OpGroupKick, wire.GroupUserRequest{Group: "team", Username: "dave"})
	if _, inv := groupNames(t, dave); inv != "" {
		t.Errorf("dave's invitations after the kick: %q", inv)
	}
	callErr(t, dave.c, wire.OpGroupJoin, wire.GroupRequest{Group: "team"}, wire.CodeNotFound)
	callErr(t, alice.c, wire.OpGroupKick, wire.GroupUserRequest{Group: "team", Username: "dave"}, wire.CodeNotFound)
}

func TestGroupRename(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	shareGroup(t, "alpha", alice, bob)
	call[wire.Group](t, carol.c, wire.OpGroupCreate, wire.GroupRequest{Group: "beta"})

	callErr(t, bob.c, wire.OpGroupRename, wire.GroupRenameRequest{Group: "alpha", Name: "gamma"}, wire.CodeForbidden)
	callErr(t, carol.c, wire.OpGroupRename, wire.GroupRenameRequest{Group: "alpha", Name: "gamma"}, wire.CodeNotFound)
	callErr(t, alice.c, wire.OpGroupRename, wire.GroupRenameRequest{Group: "nope", Name: "gamma"}, wire.CodeNotFound)
	callErr(t, alice.c, wire.OpGroupRename, wire.GroupRenameRequest{Group: "alpha", Name: "Beta"}, wire.CodeConflict)
	for _, name := range []string{"", "two words", strings.Repeat("z", wire.MaxGroupName+1)} {
		werr := callErr(t, alice.c, wire.OpGroupRename, wire.GroupRenameRequest{Group: "alpha", Name: name}, wire.CodeInvalid)
		if werr.Field != "name" {
			t.Errorf("rename to %q: field %q, want name", name, werr.Field)
		}
	}

	g := call[wire.Group](t, alice.c, wire.OpGroupRename, wire.GroupRenameRequest{Group: "alpha", Name: "Gamma"})
	if g.Name != "gamma" || g.Owner != "alice" || g.Members != 2 {
		t.Errorf("rename reply %+v, want gamma", g)
	}
	for _, u := range []*testUser{alice, bob} {
		if ev := waitGroupEvent(t, u, wire.GroupRenamed, "gamma"); ev.OldName != "alpha" || ev.By != "alice" || ev.Group.ID != g.ID {
			t.Errorf("%s: renamed event %+v, want alpha → gamma by alice", u.name, ev)
		}
	}
	callErr(t, bob.c, wire.OpGroupMembers, wire.GroupRequest{Group: "alpha"}, wire.CodeNotFound)
	if got := memberList(t, bob, "gamma"); got != "alice* bob" {
		t.Errorf("members of gamma: %q", got)
	}
	// The old name is free.
	call[wire.Group](t, carol.c, wire.OpGroupCreate, wire.GroupRequest{Group: "alpha"})
}

func TestGroupDelete(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	shareGroup(t, "team", alice, bob)
	call[wire.Empty](t, alice.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "carol"})

	callErr(t, bob.c, wire.OpGroupDelete, wire.GroupRequest{Group: "team"}, wire.CodeForbidden)
	callErr(t, carol.c, wire.OpGroupDelete, wire.GroupRequest{Group: "team"}, wire.CodeNotFound)
	call[wire.Empty](t, alice.c, wire.OpGroupDelete, wire.GroupRequest{Group: "team"})
	for _, u := range []*testUser{alice, bob} {
		if ev := waitGroupEvent(t, u, wire.GroupDeleted, "team"); ev.By != "alice" {
			t.Errorf("%s: deleted event %+v, want by alice", u.name, ev)
		}
	}
	for _, u := range []*testUser{alice, bob} {
		callErr(t, u.c, wire.OpGroupMembers, wire.GroupRequest{Group: "team"}, wire.CodeNotFound)
		if g, _ := groupNames(t, u); g != "" {
			t.Errorf("%s still lists groups %q", u.name, g)
		}
	}
	callErr(t, alice.c, wire.OpGroupDelete, wire.GroupRequest{Group: "team"}, wire.CodeNotFound)
	callErr(t, carol.c, wire.OpGroupJoin, wire.GroupRequest{Group: "team"}, wire.CodeNotFound)
	if _, inv := groupNames(t, carol); inv != "" {
		t.Errorf("carol's invitation outlived the group: %q", inv)
	}
}

func TestGroupMemberLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	late := ts.register(t, "late")
	ts.register(t, "extra")
	g := call[wire.Group](t, alice.c, wire.OpGroupCreate, wire.GroupRequest{Group: "big"})
	call[wire.Empty](t, alice.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "big", Username: "late"})

	// Fill the group.
	now := time.Now().UnixNano()
	seedDB(t, ts, func(exec func(string, ...any)) {
		for i := range maxGroupMembers - 1 {
			exec(`INSERT INTO group_members (group_id, user, joined) VALUES (?, ?, ?)`, g.ID, fmt.Sprintf("m%03d", i), now+int64(i))
		}
	})
	ctx := context.Background()
	callErr(t, alice.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "big", Username: "extra"}, wire.CodeLimit)
	callErr(t, late.c, wire.OpGroupJoin, wire.GroupRequest{Group: "big"}, wire.CodeLimit)

	// One leaves: there is room for exactly one.
	if err := ts.store.RemoveMember(ctx, g.ID, "m000"); err != nil {
		t.Fatal(err)
	}
	if g := call[wire.Group](t, late.c, wire.OpGroupJoin, wire.GroupRequest{Group: "big"}); g.Members != maxGroupMembers {
		t.Errorf("after joining: %d members, want %d", g.Members, maxGroupMembers)
	}
	callErr(t, alice.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "big", Username: "extra"}, wire.CodeLimit)
}

func TestGroupCountLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	call[wire.Group](t, bob.c, wire.OpGroupCreate, wire.GroupRequest{Group: "bobs"})
	call[wire.Empty](t, bob.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "bobs", Username: "alice"})

	now := time.Now().UnixNano()
	seedDB(t, ts, func(exec func(string, ...any)) {
		for i := range maxGroupsPerUser {
			id := fmt.Sprintf("%032x", i+1)
			exec(`INSERT INTO chat_groups (id, name, owner, created) VALUES (?, ?, ?, ?)`, id, fmt.Sprintf("g%03d", i), "alice", now)
			exec(`INSERT INTO group_members (group_id, user, joined) VALUES (?, ?, ?)`, id, "alice", now)
		}
	})
	callErr(t, alice.c, wire.OpGroupCreate, wire.GroupRequest{Group: "one-more"}, wire.CodeLimit)
	callErr(t, alice.c, wire.OpGroupJoin, wire.GroupRequest{Group: "bobs"}, wire.CodeLimit)
	call[wire.Empty](t, alice.c, wire.OpGroupLeave, wire.GroupRequest{Group: "g000"})
	call[wire.Group](t, alice.c, wire.OpGroupJoin, wire.GroupRequest{Group: "bobs"})
	callErr(t, alice.c, wire.OpGroupCreate, wire.GroupRequest{Group: "one-more"}, wire.CodeLimit)
}
