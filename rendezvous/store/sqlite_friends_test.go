package store

import (
	"context"
	"slices"
	"testing"
)

func reqPairs(rs []FriendRequest) [][2]string {
	var out [][2]string
	for _, r := range rs {
		out = append(out, [2]string{r.From, r.To})
	}
	return out
}

func TestFriendRequests(t *testing.T) { eachStore(t, testFriendRequests) }

func testFriendRequests(t *testing.T, s suiteStore) {
	ctx := context.Background()
	addUsers(t, s, "alice", "bob", "carol", "dave")

	r := FriendRequest{From: "alice", To: "bob", At: at(1)}
	mustNil(t, s.CreateFriendRequest(ctx, r))
	wantErr(t, s.CreateFriendRequest(ctx, r), ErrExists)
	// The reverse direction is a different request.
	mustNil(t, s.CreateFriendRequest(ctx, FriendRequest{From: "bob", To: "alice", At: at(2)}))

	got, err := s.FriendRequest(ctx, "alice", "bob")
	mustNil(t, err)
	if got.From != "alice" || got.To != "bob" || !got.At.Equal(at(1)) {
		t.Errorf("FriendRequest = %+v", got)
	}
	_, err = s.FriendRequest(ctx, "alice", "carol")
	wantErr(t, err, ErrNotFound)

	// Listing: oldest first, both directions.
	mustNil(t, s.CreateFriendRequest(ctx, FriendRequest{From: "dave", To: "alice", At: at(0)}))
	mustNil(t, s.CreateFriendRequest(ctx, FriendRequest{From: "alice", To: "carol", At: at(-1)}))
	in, out, err := s.FriendRequests(ctx, "alice")
	mustNil(t, err)
	if got, want := reqPairs(in), [][2]string{{"dave", "alice"}, {"bob", "alice"}}; !slices.Equal(got, want) {
		t.Errorf("incoming = %v, want %v", got, want)
	}
	if got, want := reqPairs(out), [][2]string{{"alice", "carol"}, {"alice", "bob"}}; !slices.Equal(got, want) {
		t.Errorf("outgoing = %v, want %v", got, want)
	}
	in, out, err = s.FriendRequests(ctx, "nobody")
	mustNil(t, err)
	if len(in)+len(out) != 0 {
		t.Errorf("nobody has requests %v %v", in, out)
	}

	mustNil(t, s.DeleteFriendRequest(ctx, "alice", "carol"))
	wantErr(t, s.DeleteFriendRequest(ctx, "alice", "carol"), ErrNotFound)
	_, err = s.FriendRequest(ctx, "alice", "carol")
	wantErr(t, err, ErrNotFound)
}

func TestAcceptFriendRequest(t *testing.T) { eachStore(t, testAcceptFriendRequest) }

func testAcceptFriendRequest(t *testing.T, s suiteStore) {
	ctx := context.Background()
	addUsers(t, s, "alice", "bob", "carol")

	wantErr(t, s.AcceptFriendRequest(ctx, "alice", "bob", at(0)), ErrNotFound)
	if ok, _ := s.AreFriends(ctx, "alice", "bob"); ok {
		t.Fatal("failed accept made friends")
	}

	// Requests both ways: accepting one removes both.
	mustNil(t, s.CreateFriendRequest(ctx, FriendRequest{From: "bob", To: "alice", At: at(1)}))
	mustNil(t, s.CreateFriendRequest(ctx, FriendRequest{From: "alice", To: "bob", At: at(2)}))
	mustNil(t, s.CreateFriendRequest(ctx, FriendRequest{From: "carol", To: "alice", At: at(3)}))
	mustNil(t, s.AcceptFriendRequest(ctx, "bob", "alice", at(4)))
	for _, p := range [][2]string{{"bob", "alice"}, {"alice", "bob"}} {
		_, err := s.FriendRequest(ctx, p[0], p[1])
		wantErr(t, err, ErrNotFound)
	}
	if _, err := s.FriendRequest(ctx, "carol", "alice"); err != nil {
		t.Errorf("unrelated request went: %v", err)
	}
	for _, p := range [][2]string{{"alice", "bob"}, {"bob", "alice"}} {
		ok, err := s.AreFriends(ctx, p[0], p[1])
		mustNil(t, err)
		if !ok {
			t.Errorf("AreFriends(%s, %s) = false", p[0], p[1])
		}
	}
	// Accepting a second time finds no request.
	wantErr(t, s.AcceptFriendRequest(ctx, "bob", "alice", at(5)), ErrNotFound)

	// With the request only in the other direction it is still ErrNotFound.
	wantErr(t, s.AcceptFriendRequest(ctx, "alice", "carol", at(5)), ErrNotFound)
	mustNil(t, s.AcceptFriendRequest(ctx, "carol", "alice", at(6)))

	for _, c := range []struct {
		user string
		want []string
	}{
		{"alice", []string{"bob", "carol"}},
		{"bob", []string{"alice"}},
		{"carol", []string{"alice"}},
		{"nobody", nil},
	} {
		got, err := s.Friends(ctx, c.user)
		mustNil(t, err)
		if !slices.Equal(got, c.want) {
			t.Errorf("Friends(%s) = %v, want %v", c.user, got, c.want)
		}
	}
	if ok, _ := s.AreFriends(ctx, "bob", "carol"); ok {
		t.Error("bob and carol are friends")
	}
}

func TestDeleteFriendship(t *testing.T) { eachStore(t, testDeleteFriendship) }

func testDeleteFriendship(t *testing.T, s suiteStore) {
	ctx := context.Background()
	addUsers(t, s, "alice", "bob")
	wantErr(t, s.DeleteFriendship(ctx, "alice", "bob"), ErrNotFound)
	mustNil(t, s.CreateFriendRequest(ctx, FriendRequest{From: "alice", To: "bob", At: at(0)}))
	mustNil(t, s.AcceptFriendRequest(ctx, "alice", "bob", at(1)))
	// Either order names the same friendship.
	mustNil(t, s.DeleteFriendship(ctx, "bob", "alice"))
	wantErr(t, s.DeleteFriendship(ctx, "alice", "bob"), ErrNotFound)
	ok, err := s.AreFriends(ctx, "alice", "bob")
	mustNil(t, err)
	if ok {
		t.Error("still friends")
	}
	fs, err := s.Friends(ctx, "alice")
	mustNil(t, err)
	if len(fs) != 0 {
		t.Errorf("Friends = %v", fs)
	}
}
