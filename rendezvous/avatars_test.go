package rendezvous

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/media"
	"github.com/lanchat/lanchat/internal/wire"
)

// testPicture is a w×h picture of stripes, encoded with enc.
func testPicture(t *testing.T, w, h int, enc func(*bytes.Buffer, image.Image) error) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 3), uint8((x + y) * 5), 255})
		}
	}
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegOf(b *bytes.Buffer, img image.Image) error {
	return jpeg.Encode(b, img, &jpeg.Options{Quality: 80})
}
func pngOf(b *bytes.Buffer, img image.Image) error { return png.Encode(b, img) }

// testAvatar is an avatar as the CLI makes it.
func testAvatar(t *testing.T) []byte {
	t.Helper()
	av, err := media.Avatar(context.Background(), testPicture(t, 400, 300, jpegOf), media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return av
}

// jpegBomb is a small JPEG whose header claims side×side pixels.
func jpegBomb(t *testing.T, side int) []byte {
	t.Helper()
	b := testPicture(t, 16, 16, jpegOf)
	i := bytes.Index(b, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 in the test JPEG")
	}
	binary.BigEndian.PutUint16(b[i+5:], uint16(side))
	binary.BigEndian.PutUint16(b[i+7:], uint16(side))
	return b
}

func avatarUpdate(b []byte) wire.ProfileUpdateRequest { return wire.ProfileUpdateRequest{Avatar: &b} }

func TestAvatarServedToContactsOnly(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	mallory := ts.register(t, "mallory")
	makeFriends(t, alice, bob)
	call[wire.Group](t, alice.c, wire.OpGroupCreate, wire.GroupRequest{Group: "team"})
	call[wire.Empty](t, alice.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "carol"})
	call[wire.Group](t, carol.c, wire.OpGroupJoin, wire.GroupRequest{Group: "team"})

	av := testAvatar(t)
	id := wire.AvatarID(av)
	p := call[wire.Profile](t, alice.c, wire.OpProfileUpdate, avatarUpdate(av))
	if p.Avatar != id || p.DisplayName != "User alice" {
		t.Fatalf("profile after setting the avatar: %+v, want avatar %s", p, id)
	}
	// A friend is told, sees the id in friends.list and gets the bytes.
	ev := waitEventWhere(t, bob.c, wire.EvProfile, func(ev wire.ProfileEvent) bool { return ev.Username == "alice" })
	if ev.Avatar != id {
		t.Errorf("profile event %+v, want avatar %s", ev, id)
	}
	fl := call[wire.FriendsListResponse](t, bob.c, wire.OpFriendsList, nil)
	if len(fl.Friends) != 1 || fl.Friends[0].Avatar != id {
		t.Errorf("bob's friends %+v, want alice with avatar %s", fl.Friends, id)
	}
	got := call[wire.AvatarResponse](t, bob.c, wire.OpAvatarGet, wire.UserRequest{Username: "Alice"})
	if !bytes.Equal(got.Avatar, av) || got.ID != id || got.Username != "alice" {
		t.Errorf("bob got avatar %s of %d bytes, want %s of %d", got.ID, len(got.Avatar), id, len(av))
	}
	// A co-member sees it in the member list and gets it too.
	gm := call[wire.GroupMembersResponse](t, carol.c, wire.OpGroupMembers, wire.GroupRequest{Group: "team"})
	for _, m := range gm.Members {
		if m.Username == "alice" && m.Avatar != id {
			t.Errorf("member %+v, want avatar %s", m, id)
		}
	}
	got = call[wire.AvatarResponse](t, carol.c, wire.OpAvatarGet, wire.UserRequest{Username: "alice"})
	if !bytes.Equal(got.Avatar, av) {
		t.Error("carol got other bytes")
	}
	// The owner gets it back, and it survives a new login.
	alice2 := ts.login(t, alice)
	if alice2.session.Profile.Avatar != id {
		t.Errorf("session profile %+v, want avatar %s", alice2.session.Profile, id)
	}
	call[wire.AvatarResponse](t, alice2.c, wire.OpAvatarGet, wire.UserRequest{Username: "alice"})
	// A stranger gets the answer about a user that does not exist.
	werr := callErr(t, mallory.c, wire.OpAvatarGet, wire.UserRequest{Username: "alice"}, wire.CodeNotFound)
	if werr.Message != "no user alice" {
		t.Errorf("stranger told %q", werr.Message)
	}
	noEvent(t, mallory.c, wire.EvProfile, 300*time.Millisecond)

	// Removing it: the profile says none, contacts are told, the
	// directory answers not_found.
	p = call[wire.Profile](t, alice2.c, wire.OpProfileUpdate, avatarUpdate([]byte{}))
	if p.Avatar != "" {
		t.Fatalf("profile after removal %+v", p)
	}
	waitEventWhere(t, bob.c, wire.EvProfile, func(ev wire.ProfileEvent) bool { return ev.Avatar == "" })
	callErr(t, bob.c, wire.OpAvatarGet, wire.UserRequest{Username: "alice"}, wire.CodeNotFound)
}

func TestAvatarRefused(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	av := testAvatar(t)
	call[wire.Profile](t, alice.c, wire.OpProfileUpdate, avatarUpdate(av))

	big := append(bytes.Clone(av), make([]byte, media.MaxAvatar)...)
	for _, tc := range []struct {
		name, data, want string
	}{
		{"oversized", string(big), "too large"},
		{"png", string(testPicture(t, 64, 64, pngOf)), "not a JPEG"},
		{"text", "hello", "not a JPEG"},
		{"bomb", string(jpegBomb(t, 30000)), "too large"},
		{"too wide", string(testPicture(t, 512, 512, jpegOf)), "too large"},
		{"not square", string(testPicture(t, 64, 32, jpegOf)), "square"},
		{"truncated", string(av[:len(av)/2]), "corrupt"},
	} {
		werr := callErr(t, alice.c, wire.OpProfileUpdate, avatarUpdate([]byte(tc.data)), wire.CodeInvalid)
		if werr.Field != "avatar" || !strings.Contains(werr.Message, tc.want) {
			t.Errorf("%s: refused with %+v, want field avatar and %q", tc.name, werr, tc.want)
		}
	}
	// Nothing refused replaced the avatar; a profile update without one
	// keeps it.
	name := "Alice"
	p := call[wire.Profile](t, alice.c, wire.OpProfileUpdate, wire.ProfileUpdateRequest{DisplayName: &name})
	if p.Avatar != wire.AvatarID(av) {
		t.Errorf("profile %+v, want the first avatar kept", p)
	}
	got := call[wire.AvatarResponse](t, alice.c, wire.OpAvatarGet, wire.UserRequest{Username: "alice"})
	if !bytes.Equal(got.Avatar, av) {
		t.Error("the avatar kept changed")
	}
}
