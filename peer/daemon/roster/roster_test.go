package roster

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/history"
)

const gid = "00112233445566778899aabbccddeeff"

// fakeServer answers a sync as the server would, or fails at op.
type fakeServer struct {
	friends []wire.Friend
	groups  map[wire.Group][]wire.Member
	failAt  string
	calls   []string
}

func (s *fakeServer) Call(_ context.Context, op string, req, resp any) error {
	s.calls = append(s.calls, op)
	if op == s.failAt {
		return errors.New("server gone")
	}
	switch r := resp.(type) {
	case *wire.FriendsListResponse:
		r.Friends = s.friends
	case *wire.GroupsListResponse:
		for g := range s.groups {
			r.Groups = append(r.Groups, g)
		}
	case *wire.GroupMembersResponse:
		for g, ms := range s.groups {
			if g.Name == req.(wire.GroupRequest).Group {
				r.Group, r.Members = g, ms
			}
		}
	}
	return nil
}

func team() wire.Group { return wire.Group{ID: gid, Name: "team", Owner: "bob"} }

func online(user string) wire.Presence {
	return wire.Presence{Username: user, Status: wire.StatusOnline, Endpoints: []string{"10.0.0.7:4000"}}
}

func server() *fakeServer {
	return &fakeServer{
		friends: []wire.Friend{{Username: "alice", Presence: online("alice")}},
		groups: map[wire.Group][]wire.Member{team(): {
			{Username: "bob", Presence: online("bob")},
			{Username: "erin", Presence: wire.Presence{Username: "erin", Status: wire.StatusOffline}},
		}},
	}
}

// TestRulesBeforeTheFirstSync: with no roster nobody is related; on the
// roster kept on disk friends and members are, an ex-friend is not, and
// nobody's files are trusted until this run syncs.
func TestRulesBeforeTheFirstSync(t *testing.T) {
	r := New()
	if r.Known() || r.Related("alice") || r.TrustedFriend("alice") || r.Member(gid, "erin") {
		t.Fatal("an empty roster relates someone")
	}
	r.Load(history.Roster{
		Friends: []history.RosterFriend{{Username: "alice"}},
		Groups:  []history.RosterGroup{{ID: gid, Name: "team", Owner: "bob", Members: []string{"bob", "erin"}}},
	})
	if !r.Known() || r.HasSynced() {
		t.Fatal("the roster kept on disk: want known, not synced")
	}
	for u, want := range map[string]bool{"alice": true, "erin": true, "carol": false} {
		if r.Related(u) != want {
			t.Errorf("Related(%s) = %v", u, !want)
		}
	}
	if r.TrustedFriend("alice") {
		t.Error("a friend by the roster kept on disk is trusted before the sync")
	}
	if !r.Member(gid, "erin") || r.Member(gid, "alice") || r.Member("ffeeddccbbaa99887766554433221100", "erin") {
		t.Error("Member is wrong on the roster kept on disk")
	}
	if p, ok := r.Presence("alice"); ok {
		t.Errorf("presence %v known before the server said", p)
	}
	if f := r.Friends(); len(f) != 1 || f[0].Presence.Status != wire.StatusOffline {
		t.Errorf("Friends = %v, want alice offline", f)
	}

	if _, err := r.Sync(context.Background(), server(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if !r.TrustedFriend("alice") || r.TrustedFriend("erin") {
		t.Error("after the sync: alice's files trusted, erin's (no friend) not")
	}
	// A later load (the disk copy read late) does not undo the sync.
	r.Load(history.Roster{})
	if !r.Related("alice") {
		t.Error("the roster kept on disk replaced a synced one")
	}
}

func TestSync(t *testing.T) {
	r := New()
	srv := server()
	at := time.Now()
	got, err := r.Sync(context.Background(), srv, at)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(srv.calls, []string{wire.OpFriendsList, wire.OpGroupsList, wire.OpGroupMembers}) {
		t.Errorf("calls %v", srv.calls)
	}
	if len(got.Groups) != 1 || got.Stored.Synced != at || len(got.Stored.Friends) != 1 ||
		!slices.Equal(got.Stored.Groups[0].Members, []string{"bob", "erin"}) {
		t.Errorf("Sync = %+v", got)
	}
	if c := r.Contacts(); !slices.Equal(c, []string{"alice", "bob", "erin"}) {
		t.Errorf("Contacts = %v", c)
	}
	if o := r.Online(); !slices.Equal(o, []string{"alice", "bob"}) {
		t.Errorf("Online = %v", o)
	}
	g, members, ok := r.Group("TEAM")
	if !ok || g.ID != gid || !slices.Equal(members, []string{"bob", "erin"}) {
		t.Errorf("Group(TEAM) = %v, %v, %v", g, members, ok)
	}
	if g, ok := r.GroupByID(gid); !ok || g.Name != "team" {
		t.Errorf("GroupByID = %v, %v", g, ok)
	}
	r.SetPresence(wire.Presence{Username: "alice", Status: wire.StatusOffline})
	if p, _ := r.Presence("alice"); p.Status != wire.StatusOffline || r.Friends()[0].Presence.Status != wire.StatusOffline {
		t.Error("SetPresence did not reach the friend")
	}

	// A failed sync leaves the roster as it was.
	for _, op := range []string{wire.OpFriendsList, wire.OpGroupsList, wire.OpGroupMembers} {
		bad := server()
		bad.friends, bad.failAt = nil, op
		if _, err := r.Sync(context.Background(), bad, time.Now()); err == nil {
			t.Errorf("a sync failing at %s succeeded", op)
		}
		if !r.Related("alice") {
			t.Errorf("a sync failing at %s changed the roster", op)
		}
	}
}

func TestWaitSynced(t *testing.T) {
	r := New()
	ctx := context.Background()
	// The server is away: no wait at all.
	start := time.Now()
	r.WaitSynced(ctx, func() bool { return false }, time.Hour)
	if time.Since(start) > time.Second {
		t.Error("waited with no session")
	}
	// The session is up: it waits until the sync.
	done := make(chan struct{})
	go func() { defer close(done); r.WaitSynced(ctx, func() bool { return true }, time.Hour) }()
	select {
	case <-done:
		t.Fatal("returned before the sync")
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := r.Sync(ctx, server(), time.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("still waiting after the sync")
	}
	// Bounded, and ended by ctx.
	r2 := New()
	r2.WaitSynced(ctx, func() bool { return true }, 10*time.Millisecond)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	r2.WaitSynced(cctx, func() bool { return true }, time.Hour)
}
