package store

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
)

func TestAvatar(t *testing.T) { eachStore(t, testAvatar) }

func testAvatar(t *testing.T, s suiteStore) {
	ctx := context.Background()
	addUsers(t, s, "alice")
	if _, err := s.Avatar(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("avatar before one is set: %v", err)
	}
	av := []byte("\xff\xd8\xff pretend jpeg")
	mustNil(t, s.SetProfile(ctx, "alice", Profile{DisplayName: "Alice", Avatar: av}))
	got, err := s.Avatar(ctx, "alice")
	if err != nil || !bytes.Equal(got, av) {
		t.Fatalf("avatar = %q, %v", got, err)
	}
	u, err := s.User(ctx, "alice")
	mustNil(t, err)
	if u.AvatarID != wire.AvatarID(av) || u.AvatarID == "" {
		t.Fatalf("avatar id %q", u.AvatarID)
	}

	if err := s.SetProfile(ctx, "alice", Profile{Avatar: make([]byte, MaxAvatar)}); !errors.Is(err, ErrQuota) {
		t.Fatalf("oversized avatar stored: %v", err)
	}
	if got, _ := s.Avatar(ctx, "alice"); !bytes.Equal(got, av) {
		t.Fatal("a refused avatar replaced the one kept")
	}

	mustNil(t, s.SetProfile(ctx, "alice", Profile{DisplayName: "Alice"}))
	if _, err := s.Avatar(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("avatar after removal: %v", err)
	}
	if u, _ := s.User(ctx, "alice"); u.AvatarID != "" {
		t.Fatalf("avatar id after removal %q", u.AvatarID)
	}
	if _, err := s.Avatar(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("avatar of nobody: %v", err)
	}
}
