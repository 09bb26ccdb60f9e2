package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/media"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
)

// writePicture writes a w×h PNG to dir and returns its path and bytes.
func writePicture(t *testing.T, dir string, w, h int) (string, []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(name, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return name, b.Bytes()
}

// avatarOf asks u's daemon for user's avatar through its API.
func avatarOf(t *testing.T, u *user, user string) ([]byte, error) {
	t.Helper()
	c := api.NewClient(filepath.Join(u.home, "daemon.sock"))
	defer c.Close()
	return c.Avatar(t.Context(), user)
}

func notFound(err error) bool {
	var e *api.Error
	return errors.As(err, &e) && e.Code == api.CodeNotFound
}

// TestAvatarReachesFriend: alice sets an avatar with the CLI; bob's
// daemon, a friend's, serves the same bytes through its API, also after a
// restart with the server down; carol, met only in the lobby, gets it
// when asked for; when alice removes it, bob's daemon forgets it. (That a
// stranger never gets it is rendezvous's TestAvatarServedToContactsOnly.)
func TestAvatarReachesFriend(t *testing.T) {
	srv := startRendezvous(t, freeAddr(t), t.TempDir(), "--lobby", "lobby")
	alice, bob, carol := newUser(t, srv, "alice"), newUser(t, srv, "bob"), newUser(t, srv, "carol")
	for _, u := range []*user{alice, bob, carol} {
		u.start(t)
		defer u.stop(t)
		u.register(t)
	}
	befriendUsers(t, alice, bob)

	if out := alice.must(t, "profile", "show"); !strings.Contains(out, "avatar") || !strings.Contains(out, "none") {
		t.Fatalf("profile show before an avatar is set:\n%s", out)
	}
	text := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(text, []byte("not a picture"), 0o600)
	if errs := alice.fails(t, "profile", "set", "--avatar", text); !strings.Contains(errs, "not a supported format") {
		t.Errorf("a text file as avatar: %s", errs)
	}

	file, pic := writePicture(t, t.TempDir(), 640, 480)
	want, err := media.Avatar(t.Context(), pic, media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	alice.must(t, "profile", "set", "--avatar", file)
	if out := alice.must(t, "profile", "show"); !regexpLine(out, "avatar", "set") {
		t.Errorf("profile show after setting an avatar:\n%s", out)
	}
	if got, err := avatarOf(t, alice, "alice"); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("alice's own avatar: %d bytes, %v", len(got), err)
	}
	eventually(t, 15*time.Second, func() (bool, string) {
		got, err := avatarOf(t, bob, "alice")
		return err == nil && bytes.Equal(got, want), fmt.Sprintf("bob's copy of alice's avatar: %d bytes, %v", len(got), err)
	})
	var fs []api.Friend
	bob.mustJSON(t, &fs, "friends")
	if len(fs) != 1 || fs[0].Avatar != wire.AvatarID(want) {
		t.Errorf("bob's friends %+v, want alice with avatar %s", fs, wire.AvatarID(want))
	}
	// carol meets alice only in the lobby: her daemon did not fetch the
	// avatar with the roster, but gets it when a client asks.
	var gm api.GroupMembers
	carol.mustJSON(t, &gm, "group", "members", "lobby")
	for _, m := range gm.Members {
		if m.Username == "alice" && m.Avatar != wire.AvatarID(want) {
			t.Errorf("lobby member %+v, want avatar %s", m, wire.AvatarID(want))
		}
	}
	if got, err := avatarOf(t, carol, "alice"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("carol's daemon, asked for alice's avatar: %d bytes, %v", len(got), err)
	}

	// Kept in bob's history: served after a restart with the server down.
	srv.signal(syscall.SIGTERM)
	srv.wait(t, 20*time.Second)
	bob.stop(t)
	bob.start(t)
	if got, err := avatarOf(t, bob, "alice"); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("bob's copy after a restart without the server: %d bytes, %v", len(got), err)
	}
	srv2 := startRendezvous(t, srv.addr, srv.data, "--lobby", "lobby")
	defer srv2.signal(syscall.SIGTERM)

	eventually(t, 20*time.Second, func() (bool, string) {
		_, _, code := alice.lc(t, "", "profile", "set", "--no-avatar")
		return code == 0, "alice removes her avatar"
	})
	eventually(t, 15*time.Second, func() (bool, string) {
		_, err := avatarOf(t, bob, "alice")
		return notFound(err), fmt.Sprintf("bob's copy after alice removed it: %v", err)
	})
	if out := alice.must(t, "profile", "show"); !strings.Contains(out, "none") {
		t.Errorf("profile show after removal:\n%s", out)
	}
}

// regexpLine reports whether out has a line with key followed by value.
func regexpLine(out, key, value string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == key && f[1] == value {
			return true
		}
	}
	return false
}
