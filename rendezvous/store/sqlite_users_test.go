package store

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
)

func checkUser(t *testing.T, got, want User) {
	t.Helper()
	if got.Name != want.Name || got.DisplayName != want.DisplayName || got.Email != want.Email ||
		got.Phone != want.Phone || got.PasswordHash != want.PasswordHash || got.Disabled != want.Disabled ||
		!bytes.Equal(got.IdentityKey, want.IdentityKey) || !prekeyEqual(got.Prekey, want.Prekey) ||
		!got.Created.Equal(want.Created) || !got.LastSeen.Equal(want.LastSeen) {
		t.Errorf("user:\n got %+v\nwant %+v", got, want)
	}
	for _, tm := range []time.Time{got.Created, got.LastSeen} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("time %v not in UTC", tm)
		}
	}
}

func prekeyEqual(a, b keys.SignedPrekey) bool {
	return bytes.Equal(a.Public, b.Public) && a.Created == b.Created && a.Expires == b.Expires &&
		bytes.Equal(a.Signature, b.Signature)
}

func userNames(us []User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Name)
	}
	return out
}

func TestCreateAndGetUser(t *testing.T) { eachStore(t, testCreateAndGetUser) }

func testCreateAndGetUser(t *testing.T, s suiteStore) {
	ctx := context.Background()
	u := testUser("alice")
	mustNil(t, s.CreateUser(ctx, u))
	got, err := s.User(ctx, "alice")
	mustNil(t, err)
	checkUser(t, got, u)
	if !got.LastSeen.IsZero() {
		t.Errorf("LastSeen = %v, want zero", got.LastSeen)
	}

	err = s.CreateUser(ctx, testUser("alice"))
	wantErr(t, err, ErrExists)
	if !strings.Contains(err.Error(), "alice") {
		t.Errorf("error lacks context: %v", err)
	}
	_, err = s.User(ctx, "nobody")
	wantErr(t, err, ErrNotFound)

	// A user with nothing but a name round-trips with nil keys.
	mustNil(t, s.CreateUser(ctx, User{Name: "bare"}))
	got, err = s.User(ctx, "bare")
	mustNil(t, err)
	checkUser(t, got, User{Name: "bare"})
	if got.IdentityKey != nil || got.Prekey.Public != nil {
		t.Errorf("bare user keys = %v, %v", got.IdentityKey, got.Prekey.Public)
	}
}

func TestUsers(t *testing.T) { eachStore(t, testUsers) }

func testUsers(t *testing.T, s suiteStore) {
	ctx := context.Background()
	us, err := s.Users(ctx)
	mustNil(t, err)
	if len(us) != 0 {
		t.Errorf("empty store lists %v", us)
	}
	addUsers(t, s, "carol", "alice", "bob")
	mustNil(t, s.SetDisabled(ctx, "bob", true, at(0)))
	us, err = s.Users(ctx)
	mustNil(t, err)
	if got := userNames(us); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Errorf("Users = %v", got)
	}
	if !us[1].Disabled {
		t.Error("bob not shown disabled")
	}
}

func TestUserUpdates(t *testing.T) { eachStore(t, testUserUpdates) }

func testUserUpdates(t *testing.T, s suiteStore) {
	ctx := context.Background()
	addUsers(t, s, "alice")
	want := testUser("alice")

	mustNil(t, s.SetPassword(ctx, "alice", "newhash"))
	want.PasswordHash = "newhash"

	p := Profile{DisplayName: "Alice Liddell", Email: "a@wonder.land", Phone: "+44"}
	mustNil(t, s.SetProfile(ctx, "alice", p))
	want.DisplayName, want.Email, want.Phone = p.DisplayName, p.Email, p.Phone

	pk := keys.SignedPrekey{Public: []byte("pk2"), Created: 1800000000, Expires: 1800086400, Signature: []byte("s2")}
	mustNil(t, s.SetIdentity(ctx, "alice", []byte("id2"), pk))
	want.IdentityKey, want.Prekey = []byte("id2"), pk

	pk3 := keys.SignedPrekey{Public: []byte("pk3"), Created: 1900000000, Expires: 1900086400, Signature: []byte("s3")}
	mustNil(t, s.SetPrekey(ctx, "alice", pk3))
	want.Prekey = pk3

	mustNil(t, s.SetLastSeen(ctx, "alice", at(time.Minute)))
	want.LastSeen = at(time.Minute)

	got, err := s.User(ctx, "alice")
	mustNil(t, err)
	checkUser(t, got, want)

	// Every update of a missing user is ErrNotFound.
	for name, err := range map[string]error{
		"SetPassword": s.SetPassword(ctx, "nobody", "h"),
		"SetProfile":  s.SetProfile(ctx, "nobody", p),
		"SetIdentity": s.SetIdentity(ctx, "nobody", []byte("id"), pk),
		"SetPrekey":   s.SetPrekey(ctx, "nobody", pk),
		"SetLastSeen": s.SetLastSeen(ctx, "nobody", at(0)),
		"SetDisabled": s.SetDisabled(ctx, "nobody", true, at(0)),
		"SetEnabled":  s.SetDisabled(ctx, "nobody", false, at(0)),
	} {
		if !errorsIsNotFound(err) {
			t.Errorf("%s(nobody) = %v, want ErrNotFound", name, err)
		}
	}
}

func TestSetDisabled(t *testing.T) { eachStore(t, testSetDisabled) }

func testSetDisabled(t *testing.T, s suiteStore) {
	ctx := context.Background()
	addUsers(t, s, "alice", "bob", "carol")
	for i, u := range []string{"alice", "alice", "bob"} {
		mustNil(t, s.CreateSession(ctx, Session{TokenHash: []byte{byte(i)}, User: u, Created: at(0), Expires: at(time.Hour)}))
	}

	mustNil(t, s.SetDisabled(ctx, "alice", true, at(10*time.Second)))
	u, err := s.User(ctx, "alice")
	mustNil(t, err)
	if !u.Disabled {
		t.Error("alice not disabled")
	}
	for i := range 2 {
		_, err := s.Session(ctx, []byte{byte(i)})
		wantErr(t, err, ErrNotFound)
	}
	if _, err := s.Session(ctx, []byte{2}); err != nil {
		t.Errorf("bob's session went: %v", err)
	}

	mustNil(t, s.SetDisabled(ctx, "bob", true, at(20*time.Second)))
	for _, c := range []struct {
		since time.Time
		want  []string
	}{
		{time.Time{}, []string{"alice", "bob"}},
		{at(0), []string{"alice", "bob"}},
		{at(10 * time.Second), []string{"alice", "bob"}},
		{at(10*time.Second + 1), []string{"bob"}},
		{at(20 * time.Second), []string{"bob"}},
		{at(21 * time.Second), nil},
	} {
		got, err := s.DisabledSince(ctx, c.since)
		mustNil(t, err)
		if !slices.Equal(got, c.want) {
			t.Errorf("DisabledSince(%v) = %v, want %v", c.since, got, c.want)
		}
	}

	// Enabling keeps sessions (there are none left to keep for alice, but
	// carol's survive a no-op enable) and drops the user from the list.
	mustNil(t, s.CreateSession(ctx, Session{TokenHash: []byte("c"), User: "carol", Expires: at(time.Hour)}))
	mustNil(t, s.SetDisabled(ctx, "carol", false, at(30*time.Second)))
	if _, err := s.Session(ctx, []byte("c")); err != nil {
		t.Errorf("enabling deleted a session: %v", err)
	}
	mustNil(t, s.SetDisabled(ctx, "alice", false, at(30*time.Second)))
	u, err = s.User(ctx, "alice")
	mustNil(t, err)
	if u.Disabled {
		t.Error("alice still disabled")
	}
	got, err := s.DisabledSince(ctx, time.Time{})
	mustNil(t, err)
	if !slices.Equal(got, []string{"bob"}) {
		t.Errorf("DisabledSince after enable = %v", got)
	}
}

func TestSearchUsers(t *testing.T) { eachStore(t, testSearchUsers) }

func testSearchUsers(t *testing.T, s suiteStore) {
	ctx := context.Background()
	for _, u := range []User{
		{Name: "alice", DisplayName: "Alice Liddell"},
		{Name: "alfred", DisplayName: "Batman's Butler"},
		{Name: "bob", DisplayName: "Alpha Bob"},
		{Name: "carol", DisplayName: "ÉMILE Zola"},
		{Name: "dave", DisplayName: "al_ice"},
		{Name: "erin", DisplayName: "100% Erin"},
		{Name: "frank", DisplayName: "Alfonso"},
		{Name: "al_x", DisplayName: "Underscore"},
	} {
		mustNil(t, s.CreateUser(ctx, u))
	}
	mustNil(t, s.SetDisabled(ctx, "frank", true, at(0)))

	for _, c := range []struct {
		prefix string
		limit  int
		want   []string
	}{
		{"al", 10, []string{"al_x", "alfred", "alice", "bob", "dave"}}, // frank disabled
		{"AL", 10, []string{"al_x", "alfred", "alice", "bob", "dave"}},
		{"al", 2, []string{"al_x", "alfred"}},
		{"al", 0, nil},
		{"ali", 10, []string{"alice"}},
		{"alice liddell", 10, []string{"alice"}},
		{"al_", 10, []string{"al_x", "dave"}}, // '_' is literal
		{"a_", 10, nil},
		{"%", 10, nil}, // '%' is literal
		{"100%", 10, []string{"erin"}},
		{"100% e", 10, []string{"erin"}},
		{"100%e", 10, nil},
		{"10_", 10, nil},
		{"émile", 10, []string{"carol"}}, // Unicode case folding
		{"ÉM", 10, []string{"carol"}},
		{"batman's", 10, []string{"alfred"}},
		{"zzz", 10, nil},
		{"", 3, []string{"al_x", "alfred", "alice"}},
		{"\U0010FFFF", 10, nil},
		{"\xff", 10, nil},
	} {
		us, err := s.SearchUsers(ctx, c.prefix, c.limit)
		mustNil(t, err)
		if got := userNames(us); !slices.Equal(got, c.want) {
			t.Errorf("SearchUsers(%q, %d) = %v, want %v", c.prefix, c.limit, got, c.want)
		}
	}
	// Disabled users are excluded however they match.
	us, err := s.SearchUsers(ctx, "frank", 10)
	mustNil(t, err)
	if len(us) != 0 {
		t.Errorf("disabled user found: %v", userNames(us))
	}
	// A profile change moves the user in search.
	mustNil(t, s.SetProfile(ctx, "bob", Profile{DisplayName: "Robert"}))
	us, err = s.SearchUsers(ctx, "rob", 10)
	mustNil(t, err)
	if got := userNames(us); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("after SetProfile: %v", got)
	}
}

func TestSessions(t *testing.T) { eachStore(t, testSessions) }

func testSessions(t *testing.T, s suiteStore) {
	ctx := context.Background()
	addUsers(t, s, "alice", "bob")
	sess := Session{TokenHash: []byte{0xde, 0xad}, User: "alice", Created: at(0), Expires: at(time.Hour)}
	mustNil(t, s.CreateSession(ctx, sess))
	wantErr(t, s.CreateSession(ctx, sess), ErrExists)

	got, err := s.Session(ctx, sess.TokenHash)
	mustNil(t, err)
	if !bytes.Equal(got.TokenHash, sess.TokenHash) || got.User != "alice" ||
		!got.Created.Equal(sess.Created) || !got.Expires.Equal(sess.Expires) || got.Expires.Location() != time.UTC {
		t.Errorf("Session = %+v", got)
	}
	_, err = s.Session(ctx, []byte("unknown"))
	wantErr(t, err, ErrNotFound)

	mustNil(t, s.DeleteSession(ctx, sess.TokenHash))
	_, err = s.Session(ctx, sess.TokenHash)
	wantErr(t, err, ErrNotFound)
	mustNil(t, s.DeleteSession(ctx, sess.TokenHash)) // already gone: no error
}

func TestDeleteSessions(t *testing.T) { eachStore(t, testDeleteSessions) }

func testDeleteSessions(t *testing.T, s suiteStore) {
	ctx := context.Background()
	mk := func() {
		for _, tok := range []string{"a1", "a2", "a3"} {
			s.CreateSession(ctx, Session{TokenHash: []byte(tok), User: "alice", Expires: at(time.Hour)})
		}
		s.CreateSession(ctx, Session{TokenHash: []byte("b1"), User: "bob", Expires: at(time.Hour)})
	}
	mk()
	n, err := s.DeleteSessions(ctx, "alice", []byte("a2"))
	mustNil(t, err)
	if n != 2 {
		t.Errorf("removed %d, want 2", n)
	}
	if _, err := s.Session(ctx, []byte("a2")); err != nil {
		t.Errorf("kept session gone: %v", err)
	}
	if _, err := s.Session(ctx, []byte("b1")); err != nil {
		t.Errorf("other user's session gone: %v", err)
	}
	mk()
	n, err = s.DeleteSessions(ctx, "alice", nil)
	mustNil(t, err)
	if n != 3 {
		t.Errorf("removed %d, want 3", n)
	}
	n, err = s.DeleteSessions(ctx, "nobody", nil)
	mustNil(t, err)
	if n != 0 {
		t.Errorf("removed %d for nobody", n)
	}
}

func TestDeleteExpiredSessions(t *testing.T) { eachStore(t, testDeleteExpiredSessions) }

func testDeleteExpiredSessions(t *testing.T, s suiteStore) {
	ctx := context.Background()
	for i, exp := range []time.Duration{-time.Hour, -time.Second, 0, time.Second, time.Hour} {
		mustNil(t, s.CreateSession(ctx, Session{TokenHash: []byte{byte(i)}, User: "alice", Expires: at(exp)}))
	}
	n, err := s.DeleteExpiredSessions(ctx, at(0))
	mustNil(t, err)
	if n != 2 {
		t.Errorf("removed %d, want 2 (expired strictly before now)", n)
	}
	for i, want := range []bool{false, false, true, true, true} {
		_, err := s.Session(ctx, []byte{byte(i)})
		if (err == nil) != want {
			t.Errorf("session %d present = %v, want %v", i, err == nil, want)
		}
	}
	n, err = s.DeleteExpiredSessions(ctx, at(2*time.Hour))
	mustNil(t, err)
	if n != 3 {
		t.Errorf("removed %d, want 3", n)
	}
}

// TestIdentityKeyUnique: an identity key belongs to one account, whether
// it comes with a new account or replaces an account's key.
func TestIdentityKeyUnique(t *testing.T) { eachStore(t, testIdentityKeyUnique) }

func testIdentityKeyUnique(t *testing.T, s suiteStore) {
	ctx := context.Background()
	addUsers(t, s, "alice", "bob")

	clone := testUser("mallory")
	clone.IdentityKey = testUser("alice").IdentityKey
	wantErr(t, s.CreateUser(ctx, clone), ErrKeyInUse)
	if _, err := s.User(ctx, "mallory"); !errorsIsNotFound(err) {
		t.Fatalf("mallory after a refused create: %v", err)
	}
	pk := keys.SignedPrekey{Public: []byte("pk2"), Created: 1800000000, Expires: 1800086400, Signature: []byte("s2")}
	wantErr(t, s.SetIdentity(ctx, "bob", testUser("alice").IdentityKey, pk), ErrKeyInUse)
	got, err := s.User(ctx, "bob")
	mustNil(t, err)
	checkUser(t, got, testUser("bob"))

	// Setting one's own key again is no clash.
	mustNil(t, s.SetIdentity(ctx, "alice", testUser("alice").IdentityKey, pk))

	u, err := s.UserByIdentityKey(ctx, testUser("bob").IdentityKey)
	mustNil(t, err)
	if u.Name != "bob" {
		t.Errorf("UserByIdentityKey(bob's key) = %s", u.Name)
	}
	_, err = s.UserByIdentityKey(ctx, []byte("nobody's key"))
	wantErr(t, err, ErrNotFound)
}
