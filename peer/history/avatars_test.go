package history

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestAvatars(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if _, err := s.Avatar(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("avatar before one is kept: %v", err)
	}
	a := Avatar{ID: "id1", Data: []byte("jpeg one")}
	if err := s.SetAvatar(ctx, "alice", a); err != nil {
		t.Fatal(err)
	}
	b := Avatar{ID: "id2", Data: []byte("jpeg two")}
	if err := s.SetAvatar(ctx, "alice", b); err != nil {
		t.Fatal(err)
	}
	got, err := s.Avatar(ctx, "alice")
	if err != nil || got.ID != "id2" || !bytes.Equal(got.Data, b.Data) {
		t.Fatalf("avatar %+v, %v; want the second", got, err)
	}
	if err := s.SetAvatar(ctx, "bob", Avatar{ID: "x", Data: make([]byte, MaxAvatar)}); err == nil {
		t.Fatal("an oversized avatar was kept")
	}
	ids, err := s.AvatarIDs(ctx)
	if err != nil || len(ids) != 1 || ids["alice"] != "id2" {
		t.Fatalf("ids %v, %v", ids, err)
	}
	if err := s.DeleteAvatar(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Avatar(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("avatar after delete: %v", err)
	}
}
