package daemon

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// TestAvatarsKeptAndForgotten covers what the daemon decides without the
// server: its own avatar is kept as set, served through the Service, and
// avatars of users no longer related, or who removed theirs, are
// forgotten; a profile event about a stranger is ignored.
func TestAvatarsKeptAndForgotten(t *testing.T) {
	u := newUnitDaemon(t)
	u.fake.setSession(false) // the server is away
	d := u.Daemon
	ctx := context.Background()
	if _, err := d.Avatar(ctx, "bob"); !isCode(err, api.CodeNotFound) {
		t.Fatalf("avatar before one is set: %v", err)
	}
	jpg := []byte("\xff\xd8\xff own")
	d.avatars.keepOwnAvatar(ctx, "bob", &jpg)
	a, err := d.Avatar(ctx, "BOB")
	if err != nil || !bytes.Equal(a.Data, jpg) || a.ID != wire.AvatarID(jpg) {
		t.Fatalf("own avatar %+v, %v", a, err)
	}

	for _, u := range []string{"alice", "carol", "mallory", "dave", "erin"} {
		if err := d.db.SetAvatar(ctx, u, history.Avatar{ID: "id-" + u, Data: []byte(u)}); err != nil {
			t.Fatal(err)
		}
	}
	// alice unchanged, carol removed hers, mallory is no longer related;
	// dave and erin are met in a room only: erin's unchanged copy stays,
	// dave's changed one is forgotten (fetched again when asked for), and
	// frank's is not fetched.
	d.avatars.refreshAvatars(ctx,
		map[string]string{"bob": wire.AvatarID(jpg), "alice": "id-alice", "carol": "", "dave": "id-dave2", "erin": "id-erin", "frank": "id-frank"},
		map[string]bool{"bob": true, "alice": true, "carol": true})
	ids := d.avatars.keptAvatarIDs(ctx)
	if len(ids) != 3 || ids["alice"] != "id-alice" || ids["bob"] != wire.AvatarID(jpg) || ids["erin"] != "id-erin" {
		t.Fatalf("kept after refresh: %v", ids)
	}
	if calls := u.fake.called(); slices.Contains(calls, wire.OpAvatarGet) {
		t.Fatalf("avatars of people met only in rooms were fetched: %v", calls)
	}

	d.avatars.profileEvent(ctx, wire.ProfileEvent{Username: "alice", Avatar: ""})
	if ids := d.avatars.keptAvatarIDs(ctx); ids["alice"] != "id-alice" {
		t.Fatal("a profile event about a user not related changed what is kept")
	}
	d.roster.Load(history.Roster{Friends: []history.RosterFriend{{Username: "alice"}}})
	d.avatars.profileEvent(ctx, wire.ProfileEvent{Username: "alice", DisplayName: "Alice", Avatar: ""})
	if _, ok := d.avatars.keptAvatarIDs(ctx)["alice"]; ok {
		t.Fatal("a friend's removed avatar is still kept")
	}
	if fs := d.roster.Friends(); len(fs) != 1 || fs[0].DisplayName != "Alice" || fs[0].Avatar != "" {
		t.Fatalf("roster after profile event: %+v", fs)
	}

	none := []byte{}
	d.avatars.keepOwnAvatar(ctx, "bob", &none)
	if _, err := d.Avatar(ctx, "bob"); !isCode(err, api.CodeNotFound) {
		t.Fatalf("own avatar after removal: %v", err)
	}
}

func isCode(err error, code string) bool {
	e, ok := err.(*api.Error)
	return ok && e.Code == code
}
