package daemon

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// directoryServer answers the server's directory, friend and group calls
// for bob: carol is a friend, dave asked to be one, #team has bob and
// erin.
type directoryServer struct {
	mu    sync.Mutex
	calls []string
	gone  bool // carol removed
}

var teamGroup = wire.Group{ID: "00112233445566778899aabbccddeeff", Name: "team", Owner: "bob", Members: 2}

func (s *directoryServer) handle(op string, req, resp any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, op)
	switch r := resp.(type) {
	case *wire.FriendsListResponse:
		if !s.gone {
			r.Friends = []wire.Friend{{Username: "carol", DisplayName: "Carol", Presence: wire.Presence{Username: "carol", Status: wire.StatusOnline}}}
		}
		r.Incoming = []wire.FriendRequestInfo{{From: "dave", To: "bob", At: time.Now()}}
	case *wire.GroupsListResponse:
		r.Groups = []wire.Group{teamGroup}
		r.Invites = []wire.GroupInvite{{Group: wire.Group{ID: "ffeeddccbbaa99887766554433221100", Name: "ops"}, By: "erin"}}
	case *wire.GroupMembersResponse:
		r.Group = teamGroup
		r.Members = []wire.Member{{Username: "bob", Owner: true}, {Username: "erin"}}
	case *wire.UsersSearchResponse:
		r.Users = []wire.UserSummary{{Username: "carol"}, {Username: "carlos"}}
	case *wire.FriendRequestResponse:
		r.Status = "pending"
	case *wire.Group:
		*r = wire.Group{ID: "aabbccddeeff00112233445566778899", Name: "new"}
	}
	if op == wire.OpFriendRemove {
		s.gone = true
	}
	return nil
}

func TestDirectoryThroughTheServer(t *testing.T) {
	u := newUnitDaemon(t)
	srv := &directoryServer{}
	u.fake.handle = srv.handle
	ctx := context.Background()

	friends, err := u.Friends(ctx)
	if err != nil || len(friends) != 1 || friends[0].Username != "carol" || friends[0].Presence.Status != wire.StatusOnline {
		t.Fatalf("Friends = %+v, %v", friends, err)
	}
	reqs, err := u.FriendRequests(ctx)
	if err != nil || len(reqs.Incoming) != 1 || reqs.Incoming[0].User != "dave" || reqs.Outgoing == nil {
		t.Errorf("FriendRequests = %+v, %v", reqs, err)
	}
	users, err := u.SearchUsers(ctx, "car", 0)
	if err != nil || len(users) != 2 {
		t.Errorf("SearchUsers = %+v, %v", users, err)
	}
	if r, err := u.Friend(ctx, api.FriendAdd, "frank"); err != nil || r.Status != "pending" {
		t.Errorf("friend add = %+v, %v", r, err)
	}
	if _, err := u.Friend(ctx, "befriend", "frank"); err == nil {
		t.Error("an unknown friend action was taken")
	}
	if !u.roster.Related("carol") {
		t.Fatal("carol is not related after the sync")
	}
	if _, err := u.Friend(ctx, api.FriendRemove, "carol"); err != nil {
		t.Fatal(err)
	}
	if u.roster.Related("carol") {
		t.Error("carol still related after her removal")
	}
	for _, a := range []string{api.FriendAccept, api.FriendReject} {
		if _, err := u.Friend(ctx, a, "dave"); err != nil {
			t.Errorf("friend %s: %v", a, err)
		}
	}

	groups, err := u.Groups(ctx)
	if err != nil || len(groups.Groups) != 1 || len(groups.Invites) != 1 {
		t.Errorf("Groups = %+v, %v", groups, err)
	}
	members, err := u.GroupMembers(ctx, "#team")
	if err != nil || len(members.Members) != 2 || !members.Members[0].Owner {
		t.Errorf("GroupMembers = %+v, %v", members, err)
	}
	g, err := u.Group(ctx, api.GroupRequest{Action: api.GroupCreate, Name: "#new"})
	if err != nil || g.Name != "new" {
		t.Errorf("group create = %+v, %v", g, err)
	}
	for _, a := range []string{api.GroupInviteUser, api.GroupJoin, api.GroupLeave, api.GroupKick, api.GroupRename, api.GroupDelete} {
		if _, err := u.Group(ctx, api.GroupRequest{Action: a, Name: "#team", User: "erin", NewName: "#crew"}); err != nil {
			t.Errorf("group %s: %v", a, err)
		}
	}
	if _, err := u.Group(ctx, api.GroupRequest{Action: "merge", Name: "#team"}); err == nil {
		t.Error("an unknown group action was taken")
	}

	// Signed out: all of it is refused at once, without the server.
	u.session.signOut("logged in elsewhere")
	srv.mu.Lock()
	srv.calls = nil
	srv.mu.Unlock()
	if _, err := u.Friends(ctx); err == nil {
		t.Error("Friends answered while signed out")
	}
	if _, err := u.Groups(ctx); err == nil {
		t.Error("Groups answered while signed out")
	}
	if _, err := u.SearchUsers(ctx, "x", 1); err == nil {
		t.Error("SearchUsers answered while signed out")
	}
	if len(srv.calls) != 0 {
		t.Errorf("calls while signed out: %v", srv.calls)
	}
}

func TestConversationsAndStatus(t *testing.T) {
	u := newUnitDaemon(t)
	u.fake.setSession(false)
	u.roster.Load(history.Roster{
		Friends: []history.RosterFriend{{Username: "carol"}},
		Groups:  []history.RosterGroup{{ID: teamGroup.ID, Name: "team", Owner: "bob", Members: []string{"bob", "erin"}}},
	})
	ctx := context.Background()
	events := u.events.subscribe(ctx)
	if _, err := u.Send(ctx, api.SendRequest{Target: "carol", Text: " "}); err == nil {
		t.Error("an empty text was sent")
	}
	if _, err := u.Send(ctx, api.SendRequest{Target: "bob", Text: "me"}); err == nil {
		t.Error("a message to oneself was sent")
	}
	if _, err := u.Send(ctx, api.SendRequest{Target: "zed", Text: "hi"}); err == nil {
		t.Error("a message to a stranger was sent")
	}
	if _, err := u.Send(ctx, api.SendRequest{Target: "#nope", Text: "hi"}); err == nil {
		t.Error("a message to an unknown group was sent")
	}
	res, err := u.Send(ctx, api.SendRequest{Target: "carol", Text: "hello carol"})
	if err != nil || res.Via != api.ViaQueued {
		t.Fatalf("Send = %+v, %v; want queued with no path", res, err)
	}
	gres, err := u.Send(ctx, api.SendRequest{Target: "#team", Text: "hello team"})
	if err != nil || gres.Copies["erin"] != api.ViaQueued {
		t.Fatalf("Send to #team = %+v, %v", gres, err)
	}
	if ev := <-events; ev.Type != api.EventMessage || ev.Message.Text != "hello carol" {
		t.Errorf("event %+v", ev)
	}
	msgs, err := u.History(ctx, "carol", 0, "", "")
	if err != nil || len(msgs) != 1 || msgs[0].Text != "hello carol" || !msgs[0].Outgoing {
		t.Errorf("History = %+v, %v", msgs, err)
	}
	msgs, err = u.History(ctx, "#team", 10, "team", "")
	if err != nil || len(msgs) != 1 || msgs[0].Conversation != "#team" {
		t.Errorf("History(#team, search) = %+v, %v", msgs, err)
	}
	if _, err := u.History(ctx, "#nope", 10, "", ""); err == nil {
		t.Error("History of an unknown group")
	}
	found, err := u.Search(ctx, "hello", 0)
	if err != nil || len(found) != 2 {
		t.Errorf("Search = %+v, %v", found, err)
	}
	recent, err := u.Recent(ctx)
	var targets []string
	for _, c := range recent {
		targets = append(targets, c.Target)
	}
	slices.Sort(targets)
	if err != nil || !slices.Equal(targets, []string{"#team", "carol"}) {
		t.Errorf("Recent = %v, %v", targets, err)
	}
	st, err := u.Status(ctx)
	if err != nil || !st.LoggedIn || st.Me.Username != "bob" || st.Outbox != 2 || st.ServerConnected != true {
		t.Errorf("Status = %+v, %v", st, err)
	}
	if err := u.Focus(ctx, api.FocusRequest{Client: "c", Conversation: "carol", Open: true}); err != nil {
		t.Error(err)
	}
}
