package daemon

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

const (
	loungeID = "ffeeddccbbaa99887766554433221100"
	itemA    = "0123456789abcdef0123456789abcdef"
	itemB    = "fedcba9876543210fedcba9876543210"
	itemC    = "00112233445566778899aabbccddeeff"
)

// receiveShare lists an item shared by from in group's library, as its
// share message would.
func receiveShare(t *testing.T, u *unitDaemon, group, from, id string) {
	t.Helper()
	_, body, err := content.Encode(content.Share{ID: id, Path: "plan.txt", Size: 4, SHA256: strings.Repeat("ab", 32)})
	if err != nil {
		t.Fatal(err)
	}
	if werr := u.library.receiveLibrary(context.Background(), incoming{From: from, Group: group, Kind: content.KindShare, Body: string(body), Sent: time.Now()}); werr != nil {
		t.Fatalf("share by %s: %v", from, werr)
	}
}

var lounge = wire.Group{ID: loungeID, Name: "lounge", Owner: "carol", Room: true, Members: 4}

// roomAdmins makes the fake server list the lounge's members with the
// given admins.
func roomAdmins(u *unitDaemon, admins ...string) {
	u.fake.mu.Lock()
	defer u.fake.mu.Unlock()
	u.fake.handle = func(op string, req, resp any) error {
		switch r := resp.(type) {
		case *wire.GroupsListResponse:
			r.Rooms = []wire.Group{lounge}
		case *wire.GroupMembersResponse:
			r.Group = lounge
			for _, m := range []string{"bob", "carol", "dave", "eve"} {
				r.Members = append(r.Members, wire.Member{Username: m, Owner: m == "carol", Admin: slices.Contains(admins, m)})
			}
		}
		return nil
	}
}

// TestLibraryRoomAdminsWithdraw: in a room, an admin the server lists may
// withdraw anyone's item, locally or by an unshare message; a member who
// is not one may not, and with the server's list unknown only the owner
// may.
func TestLibraryRoomAdminsWithdraw(t *testing.T) {
	u := newUnitDaemon(t)
	ctx := context.Background()
	roomAdmins(u)
	if _, err := u.roster.Sync(ctx, u.fake, time.Now()); err != nil {
		t.Fatal(err)
	}
	receiveShare(t, u, loungeID, "dave", itemA)
	receiveShare(t, u, loungeID, "dave", itemB)
	count := func() int {
		t.Helper()
		l, err := u.library.Shares(ctx, "#lounge")
		if err != nil {
			t.Fatal(err)
		}
		return len(l.Shares)
	}

	// Nobody but the owner moderates yet.
	if err := u.library.ShareRemove(ctx, "#lounge", itemA); !isCode(err, api.CodeForbidden) {
		t.Fatalf("withdrawal by a plain member: %v", err)
	}
	if !slices.Contains(u.fake.called(), wire.OpGroupMembers) {
		t.Fatalf("the room's admins were not asked of the server: %v", u.fake.called())
	}
	if err := u.library.ShareRemove(ctx, "#lounge", "00000000000000000000000000000000"); !isCode(err, api.CodeNotFound) {
		t.Fatalf("withdrawal of an unknown item: %v", err)
	}

	unshare := func(from, id string) {
		t.Helper()
		_, body, err := content.Encode(content.Unshare{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if werr := u.library.receiveLibrary(ctx, incoming{From: from, Group: loungeID, Kind: content.KindUnshare, Body: string(body), Sent: time.Now()}); werr != nil {
			t.Fatalf("unshare by %s: %v", from, werr)
		}
	}
	unshare("eve", itemA)
	if n := count(); n != 2 {
		t.Fatalf("a withdrawal by eve, no admin, was applied: %d items", n)
	}

	roomAdmins(u, "bob", "eve")
	unshare("eve", itemA)
	if n := count(); n != 1 {
		t.Fatalf("a withdrawal by eve, an admin, was ignored: %d items", n)
	}
	if err := u.library.ShareRemove(ctx, "#lounge", itemB); err != nil {
		t.Fatalf("withdrawal by bob, an admin: %v", err)
	}
	if n := count(); n != 0 {
		t.Fatalf("after bob's withdrawal: %d items", n)
	}
	pending, err := u.db.Pending(ctx, "dave", 10)
	if err != nil || len(pending) != 1 || pending[0].Message.Kind != content.KindUnshare {
		t.Fatalf("the withdrawal queued to dave: %+v, %v", pending, err)
	}

	// The server's list unavailable: only the owner may.
	u.fake.mu.Lock()
	u.fake.handle = func(op string, req, resp any) error { return wire.Errorf(wire.CodeInternal, "down") }
	u.fake.mu.Unlock()
	receiveShare(t, u, loungeID, "dave", itemC)
	if err := u.library.ShareRemove(ctx, "#lounge", itemC); !isCode(err, api.CodeForbidden) {
		t.Fatalf("withdrawal by an admin with the server away: %v", err)
	}
}

// TestShareGetRefusals: an unknown item is not found, and an item whose
// holders are all out of reach is unavailable, with nothing written.
func TestShareGetRefusals(t *testing.T) {
	u := newUnitDaemon(t)
	ctx := context.Background()
	u.roster.Load(history.Roster{Groups: []history.RosterGroup{
		{ID: teamID, Name: "team", Owner: "carol", Members: []string{"bob", "carol", "dave"}},
	}})
	receiveShare(t, u, teamID, "dave", itemA)
	dir := t.TempDir()
	if _, err := u.library.ShareGet(ctx, api.ShareGetRequest{Target: "#team", ID: itemB, Dir: dir}); !isCode(err, api.CodeNotFound) {
		t.Fatalf("get of an unknown item: %v", err)
	}
	if _, err := u.library.ShareGet(ctx, api.ShareGetRequest{Target: "#nope", ID: itemA, Dir: dir}); !isCode(err, api.CodeNotFound) {
		t.Fatalf("get from a group we are not in: %v", err)
	}
	if _, err := u.library.ShareGet(ctx, api.ShareGetRequest{Target: "#team", ID: itemA, Dir: dir}); !isCode(err, api.CodeUnavailable) {
		t.Fatalf("get with no holder reachable: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("a failed get left files: %v", ents)
	}
}

// TestShareKeep: the setting is stored; turning it on announces the
// fetched copies still as fetched, drops those changed since; turning it
// off withdraws this user as holder.
func TestShareKeep(t *testing.T) {
	u := newUnitDaemon(t)
	ctx := context.Background()
	u.roster.Load(history.Roster{Groups: []history.RosterGroup{
		{ID: teamID, Name: "team", Owner: "carol", Members: []string{"bob", "carol", "dave"}},
	}})
	receiveShare(t, u, teamID, "dave", itemA)
	receiveShare(t, u, teamID, "dave", itemB)
	dir := t.TempDir()
	local := func(id, name string) history.LocalCopy {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("plan"), 0o600); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		c := history.LocalCopy{Group: teamID, ID: id, Path: p, Size: 4, ModTime: info.ModTime(), Fetched: true, SHA256: strings.Repeat("ab", 32)}
		if err := u.db.SetLocal(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	local(itemA, "a.txt")
	changed := local(itemB, "b.txt")
	if err := os.WriteFile(changed.Path, []byte("plan, edited"), 0o600); err != nil {
		t.Fatal(err)
	}
	holders := func() map[string]int {
		t.Helper()
		l, err := u.library.Shares(ctx, "#team")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, s := range l.Shares {
			m[s.ID] = s.Holders
		}
		return m
	}

	if err := u.library.ShareKeep(ctx, api.ShareKeepRequest{On: true}); err != nil {
		t.Fatal(err)
	}
	if h := holders(); h[itemA] != 2 || h[itemB] != 1 {
		t.Fatalf("holders after keep on: %v (want bob too for %s only)", h, itemA)
	}
	copies, err := u.db.FetchedCopies(ctx)
	if err != nil || len(copies) != 1 || copies[0].ID != itemA {
		t.Fatalf("fetched copies after keep on: %+v, %v", copies, err)
	}
	pending, err := u.db.Pending(ctx, "carol", 10)
	if err != nil || len(pending) == 0 || pending[len(pending)-1].Message.Kind != content.KindHolder {
		t.Fatalf("holder messages queued to carol: %+v, %v", pending, err)
	}

	if err := u.library.ShareKeep(ctx, api.ShareKeepRequest{On: false}); err != nil {
		t.Fatal(err)
	}
	if s, err := u.db.Settings(ctx); err != nil || s.ShareKeep {
		t.Fatalf("share-keep after turning it off: %+v, %v", s, err)
	}
	if h := holders(); h[itemA] != 1 {
		t.Fatalf("bob still a holder after keep off: %v", h)
	}

	u.session.resumed(wire.Profile{})
	if err := u.library.ShareKeep(ctx, api.ShareKeepRequest{On: true}); err == nil {
		t.Fatal("share keep while logged out succeeded")
	}
}
