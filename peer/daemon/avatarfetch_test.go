package daemon

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"slices"
	"sync"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// squareJPEG is a small valid avatar.
func squareJPEG(t *testing.T, side int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, side, side)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// avatarServer answers avatar.get with what answers holds by user: an
// avatar, or none (not found); it counts the requests by user.
type avatarServer struct {
	mu      sync.Mutex
	answers map[string]wire.AvatarResponse
	asked   map[string]int
}

func (s *avatarServer) handle(op string, req, resp any) error {
	if op != wire.OpAvatarGet {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	user := req.(wire.UserRequest).Username
	s.asked[user]++
	a, ok := s.answers[user]
	if !ok {
		return wire.Errorf(wire.CodeNotFound, "no avatar")
	}
	*resp.(*wire.AvatarResponse) = a
	return nil
}

func (s *avatarServer) count(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked[user]
}

// TestAvatarsFetchedAndChecked: an avatar of someone related but not
// kept is fetched when asked for and kept; what the server answers is
// checked as the server checks it (the user asked about, a square JPEG),
// a refused answer keeps nothing, strangers are never fetched, and a
// friend's new avatar is fetched on its profile event while one removed
// on the server is forgotten.
func TestAvatarsFetchedAndChecked(t *testing.T) {
	u := newUnitDaemon(t)
	ctx := context.Background()
	jpg, other := squareJPEG(t, 32), squareJPEG(t, 16)
	srv := &avatarServer{asked: map[string]int{}, answers: map[string]wire.AvatarResponse{
		"carol": {Username: "carol", Avatar: jpg},
		"dave":  {Username: "mallory", Avatar: jpg},
		"erin":  {Username: "erin", Avatar: []byte("GIF89a not a jpeg")},
		"frank": {Username: "frank", Avatar: squareJPEG(t, 8)[:40]},
	}}
	u.fake.mu.Lock()
	u.fake.handle = srv.handle
	u.fake.mu.Unlock()
	u.roster.Load(history.Roster{
		Friends: []history.RosterFriend{{Username: "carol"}, {Username: "dave"}, {Username: "erin"}, {Username: "frank"}, {Username: "gina"}},
	})

	a, err := u.Avatar(ctx, "carol")
	if err != nil || !bytes.Equal(a.Data, jpg) || a.ID != wire.AvatarID(jpg) {
		t.Fatalf("carol's avatar fetched on demand: %+v, %v", a, err)
	}
	if _, err := u.Avatar(ctx, "carol"); err != nil || srv.count("carol") != 1 {
		t.Fatalf("a kept avatar was fetched again: %d requests, %v", srv.count("carol"), err)
	}
	for _, user := range []string{"dave", "erin", "frank", "gina"} {
		if _, err := u.Avatar(ctx, user); !isCode(err, api.CodeNotFound) {
			t.Errorf("%s's refused or missing avatar: %v", user, err)
		}
		if srv.count(user) != 1 {
			t.Errorf("%s's avatar asked %d times", user, srv.count(user))
		}
	}
	if ids := u.avatars.keptAvatarIDs(ctx); len(ids) != 1 || ids["carol"] == "" {
		t.Fatalf("kept: %v", ids)
	}
	if _, err := u.Avatar(ctx, "stranger"); !isCode(err, api.CodeNotFound) || srv.count("stranger") != 0 {
		t.Fatalf("a stranger's avatar: asked %d times, %v", srv.count("stranger"), err)
	}

	// carol changes hers: the new one replaces the old.
	srv.mu.Lock()
	srv.answers["carol"] = wire.AvatarResponse{Username: "carol", Avatar: other}
	srv.mu.Unlock()
	u.avatars.profileEvent(ctx, wire.ProfileEvent{Username: "carol", Avatar: wire.AvatarID(other)})
	if a, err := u.Avatar(ctx, "carol"); err != nil || !bytes.Equal(a.Data, other) {
		t.Fatalf("carol's new avatar: %v", err)
	}
	// The server no longer has one for carol: a fetch forgets it.
	srv.mu.Lock()
	delete(srv.answers, "carol")
	srv.mu.Unlock()
	if err := u.avatars.fetchAvatar(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, ok := u.avatars.keptAvatarIDs(ctx)["carol"]; ok {
		t.Fatal("an avatar removed on the server is still kept")
	}

	// Without a session nothing is fetched.
	u.fake.setSession(false)
	u.fake.called() // forget the calls so far
	if _, err := u.Avatar(ctx, "dave"); !isCode(err, api.CodeNotFound) {
		t.Fatalf("dave's avatar without a session: %v", err)
	}
	if calls := u.fake.called(); slices.Contains(calls, wire.OpAvatarGet) {
		t.Fatalf("fetched without a session: %v", calls)
	}
}
