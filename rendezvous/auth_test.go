package rendezvous

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// manualClock is a Config.Now that moves only when the test says so.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startClockedServer starts a server whose clock is a manualClock set to
// the real time; mod may adjust the rest of the config.
func startClockedServer(t *testing.T, mod func(*Config)) (*testServer, *manualClock) {
	t.Helper()
	clk := &manualClock{now: time.Now()}
	ts := startServer(t, func(cfg *Config) {
		cfg.Now = clk.Now
		if mod != nil {
			mod(cfg)
		}
	})
	return ts, clk
}

// registerRequest returns a valid register request for name with fresh
// keys, and the identity's private key.
func registerRequest(t *testing.T, ts *testServer, name string) (wire.RegisterRequest, ed25519.PrivateKey) {
	t.Helper()
	priv, pk := newIdentity(t, name)
	return wire.RegisterRequest{
		Username:    name,
		Password:    "pw-" + strings.ToLower(name) + "-secret",
		DisplayName: "User " + name,
		IdentityKey: priv.Public().(ed25519.PublicKey),
		Prekey:      pk,
		KeyProof:    ts.proof(t, priv, name),
	}, priv
}

// callResult runs a request whose outcome may be success or a protocol
// error; a lost connection fails the test.
func callResult(t *testing.T, c *client.Client, op string, req any) (json.RawMessage, *wire.Error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var resp json.RawMessage
	err := c.Call(ctx, op, req, &resp)
	var werr *wire.Error
	if errors.As(err, &werr) {
		return nil, werr
	}
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return resp, nil
}

// waitMatching returns the first event named op for which match holds,
// skipping all others, or fails after d.
func waitMatching[Body any](t *testing.T, c *client.Client, op string, d time.Duration, match func(Body) bool) Body {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case f, ok := <-c.Events():
			if !ok {
				t.Fatalf("waiting for %s: connection closed: %v", op, c.Err())
			}
			if f.Op != op {
				continue
			}
			var b Body
			if err := json.Unmarshal(f.Body, &b); err != nil {
				t.Fatalf("decode %s event: %v", op, err)
			}
			if match(b) {
				return b
			}
		case <-timeout:
			t.Fatalf("no matching %s event within %v", op, d)
		}
	}
}

// noMatching fails if an event named op for which match holds arrives
// within d.
func noMatching[Body any](t *testing.T, c *client.Client, op string, d time.Duration, match func(Body) bool) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case f, ok := <-c.Events():
			if !ok {
				return
			}
			if f.Op != op {
				continue
			}
			var b Body
			if err := json.Unmarshal(f.Body, &b); err != nil {
				t.Fatalf("decode %s event: %v", op, err)
			}
			if match(b) {
				t.Fatalf("unexpected %s event: %s", op, f.Body)
			}
		case <-timeout:
			return
		}
	}
}

// presenceOfUser matches presence events about user with the given status.
func presenceOfUser(user, status string) func(wire.Presence) bool {
	return func(p wire.Presence) bool { return p.Username == user && p.Status == status }
}

// waitClosed fails unless c's connection ends within d.
func waitClosed(t *testing.T, c *client.Client, d time.Duration) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(d):
		t.Fatalf("connection still open after %v", d)
	}
}

// keysOf fetches user's published keys through c.
func keysOf(t *testing.T, c *client.Client, user string) wire.KeysResponse {
	t.Helper()
	return call[wire.KeysResponse](t, c, wire.OpKeysGet, wire.UserRequest{Username: user})
}

func samePrekey(a, b keys.SignedPrekey) bool {
	return bytes.Equal(a.Public, b.Public) && bytes.Equal(a.Signature, b.Signature) &&
		a.Created == b.Created && a.Expires == b.Expires
}

func userExists(t *testing.T, ts *testServer, name string) bool {
	t.Helper()
	_, err := ts.store.User(context.Background(), name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestRegister(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	req, priv := registerRequest(t, ts, "Alice")
	req.Email = "alice@example.com"
	req.Phone = "+1 (555) 123-4567"
	before := time.Now()
	sess := call[wire.Session](t, c, wire.OpRegister, req)
	after := time.Now()

	want := wire.Profile{Username: "alice", DisplayName: "User Alice", Email: "alice@example.com", Phone: "+1 (555) 123-4567"}
	if sess.Profile != want {
		t.Errorf("profile %+v, want %+v", sess.Profile, want)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(sess.Token); err != nil || len(raw) != 32 {
		t.Errorf("token %q is not 256 bits of base64url (%v)", sess.Token, err)
	}
	const ttl = 30 * 24 * time.Hour
	if sess.ExpiresAt.Before(before.Add(ttl).Add(-time.Second)) || sess.ExpiresAt.After(after.Add(ttl).Add(time.Second)) {
		t.Errorf("expires_at %v, want about 30 days from now", sess.ExpiresAt)
	}

	// Stored under the lower-case name, with an argon2id hash and the keys.
	u, err := ts.store.User(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, req.Password) {
		t.Errorf("stored password hash %q", u.PasswordHash)
	}
	if !bytes.Equal(u.IdentityKey, priv.Public().(ed25519.PublicKey)) || !samePrekey(u.Prekey, req.Prekey) {
		t.Error("stored keys differ from the registered ones")
	}
	// Only the token's hash is stored, and it names the account.
	if s, err := ts.store.Session(context.Background(), hashToken(sess.Token)); err != nil || s.User != "alice" {
		t.Errorf("session for the token: %+v, %v", s, err)
	}

	// The connection is logged in.
	call[wire.FriendsListResponse](t, c, wire.OpFriendsList, nil)

	// A logged-in connection cannot register, log in or resume again.
	other, _ := registerRequest(t, ts, "bob")
	callErr(t, c, wire.OpRegister, other, wire.CodeAlreadyAuth)
	callErr(t, c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: req.Password}, wire.CodeAlreadyAuth)
	callErr(t, c, wire.OpResume, wire.ResumeRequest{Token: sess.Token}, wire.CodeAlreadyAuth)
	if userExists(t, ts, "bob") {
		t.Error("register on a logged-in connection created an account")
	}

	// Names are unique case-insensitively.
	c2 := ts.dial(t)
	for _, name := range []string{"alice", "ALICE", "aLiCe"} {
		dup, _ := registerRequest(t, ts, name)
		dup.Password = "another-password"
		callErr(t, c2, wire.OpRegister, dup, wire.CodeUsernameTaken)
	}
	// The first registration's password still works.
	ts.login(t, &testUser{name: "alice", password: req.Password})
}

func TestRegisterValidation(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)

	otherPriv, _ := newIdentity(t, "valid.user")
	tests := []struct {
		name  string
		mod   func(r *wire.RegisterRequest, id ed25519.PrivateKey)
		field string
	}{
		{"username too short", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Username = "ab" }, "username"},
		{"username too long", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Username = strings.Repeat("a", 33) }, "username"},
		{"username with space", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Username = "bad name" }, "username"},
		{"username with slash", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Username = "bad/name" }, "username"},
		{"username non-ASCII", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Username = "zoë" }, "username"},
		{"username empty", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Username = "" }, "username"},
		{"password too short", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Password = "short12" }, "password"},
		{"password common", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Password = "iloveyou" }, "password"},
		{"password 7 characters in 14 bytes", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Password = "ééééééé" }, "password"},
		{"password equals username", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) {
			r.Username, r.Password = "Carolina", "cAROLINA"
		}, "password"},
		{"password over 1024 bytes", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Password = strings.Repeat("p", 1025) }, "password"},
		{"display name with BEL", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.DisplayName = "ding\adong" }, "display_name"},
		{"display name with newline", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.DisplayName = "two\nlines" }, "display_name"},
		{"display name with bidi override", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.DisplayName = "evil\u202etxt.exe" }, "display_name"},
		{"display name 65 characters", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.DisplayName = strings.Repeat("é", 65) }, "display_name"},
		{"email without at", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Email = "not-an-email" }, "email"},
		{"email without dot", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Email = "a@localhost" }, "email"},
		{"email with name", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Email = "Al <al@example.com>" }, "email"},
		{"email too long", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) {
			r.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com"
		}, "email"},
		{"phone with letters", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Phone = "555-CALL-NOW" }, "phone"},
		{"phone too few digits", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Phone = "+123456" }, "phone"},
		{"phone too many digits", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Phone = "+1234567890123456" }, "phone"},
		{"identity key 31 bytes", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.IdentityKey = r.IdentityKey[:31] }, "identity_key"},
		{"identity key 33 bytes", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.IdentityKey = append(r.IdentityKey, 0) }, "identity_key"},
		{"identity key missing", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.IdentityKey = nil }, "identity_key"},
		{"prekey missing", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Prekey = keys.SignedPrekey{} }, "prekey"},
		{"prekey signed by another key", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) {
			pk, _, err := keys.NewPrekey(otherPriv, "valid.user", time.Now(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			r.Prekey = pk
		}, "prekey"},
		{"prekey expired", func(r *wire.RegisterRequest, id ed25519.PrivateKey) {
			pk, _, err := keys.NewPrekey(id, "valid.user", time.Now().Add(-8*24*time.Hour), 7*24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			r.Prekey = pk
		}, "prekey"},
		{"prekey with altered expiry", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.Prekey.Expires++ }, "prekey"},
		{"prekey signed for another user", func(r *wire.RegisterRequest, id ed25519.PrivateKey) {
			pk, _, err := keys.NewPrekey(id, "someone.else", time.Now(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			r.Prekey = pk
		}, "prekey"},
		{"key proof missing", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.KeyProof = nil }, "key_proof"},
		{"key proof by another key", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) {
			r.KeyProof = ts.proof(t, otherPriv, "valid.user")
		}, "key_proof"},
		{"key proof for another user", func(r *wire.RegisterRequest, id ed25519.PrivateKey) {
			r.KeyProof = ts.proof(t, id, "someone.else")
		}, "key_proof"},
		{"key proof for another server", func(r *wire.RegisterRequest, id ed25519.PrivateKey) {
			other := ts.srv.id
			other[0] ^= 1
			r.KeyProof, _ = keys.SignProof(id, "valid.user", other)
		}, "key_proof"},
		{"prekey signature as key proof", func(r *wire.RegisterRequest, _ ed25519.PrivateKey) { r.KeyProof = r.Prekey.Signature }, "key_proof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, priv := registerRequest(t, ts, "valid.user")
			tt.mod(&req, priv)
			werr := callErr(t, c, wire.OpRegister, req, wire.CodeInvalid)
			if werr.Field != tt.field {
				t.Errorf("field %q, want %q (%v)", werr.Field, tt.field, werr)
			}
			for _, name := range []string{"valid.user", "carolina"} {
				if userExists(t, ts, name) {
					t.Fatalf("a refused registration created %q", name)
				}
			}
		})
	}

	// The limits themselves are allowed.
	req, _ := registerRequest(t, ts, strings.Repeat("b", 32))
	req.Password = "kq3!vz9w" // 8 characters, not a common password
	req.DisplayName = strings.Repeat("é", 64)
	req.Email = "x@y.example"
	req.Phone = "1234567"
	call[wire.Session](t, c, wire.OpRegister, req)
	req, _ = registerRequest(t, ts, "a-z")
	call[wire.Session](t, ts.dial(t), wire.OpRegister, req)
}

func TestLogin(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "Alice")

	c := ts.dial(t)
	sess := call[wire.Session](t, c, wire.OpLogin, wire.LoginRequest{Username: "ALICE", Password: alice.password})
	if sess.Profile != alice.session.Profile || sess.Profile.Username != "alice" {
		t.Errorf("login profile %+v, register profile %+v", sess.Profile, alice.session.Profile)
	}
	if sess.Token == "" || sess.Token == alice.session.Token {
		t.Errorf("login token %q: want a new token", sess.Token)
	}
	callErr(t, c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: alice.password}, wire.CodeAlreadyAuth)

	// A wrong password and an unknown user get the very same reply.
	c2 := ts.dial(t)
	wrong := callErr(t, c2, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: "not-the-password"}, wire.CodeBadCredentials)
	unknown := callErr(t, c2, wire.OpLogin, wire.LoginRequest{Username: "nobody", Password: "not-the-password"}, wire.CodeBadCredentials)
	if *wrong != *unknown {
		t.Errorf("wrong password: %+v; unknown user: %+v; want identical replies", wrong, unknown)
	}
	// Failed logins leave the connection anonymous.
	callErr(t, c2, wire.OpFriendsList, nil, wire.CodeNotAuthenticated)

	// Shape errors are invalid, not bad_credentials.
	werr := callErr(t, c2, wire.OpLogin, wire.LoginRequest{Username: "al", Password: alice.password}, wire.CodeInvalid)
	if werr.Field != "username" {
		t.Errorf("short username: field %q, want username", werr.Field)
	}
	werr = callErr(t, c2, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: strings.Repeat("x", 1025)}, wire.CodeInvalid)
	if werr.Field != "password" {
		t.Errorf("long password: field %q, want password", werr.Field)
	}
	call[wire.Session](t, c2, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: alice.password})
}

func TestLoginDisabled(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	ctx := context.Background()
	if err := ts.store.SetDisabled(ctx, "alice", true, time.Now()); err != nil {
		t.Fatal(err)
	}
	c := ts.dial(t)
	callErr(t, c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: alice.password}, wire.CodeAccountDisabled)
	// The wrong password does not reveal that the account is disabled.
	callErr(t, c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: "wrong-password"}, wire.CodeBadCredentials)
	callErr(t, c, wire.OpFriendsList, nil, wire.CodeNotAuthenticated)

	if err := ts.store.SetDisabled(ctx, "alice", false, time.Now()); err != nil {
		t.Fatal(err)
	}
	call[wire.Session](t, c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: alice.password})
}

// TestLoginBackoff checks the per-account back-off: after the free
// failures a correct password is refused with rate_limited until the wait
// is over, and each further failure doubles the wait.
func TestLoginBackoff(t *testing.T) {
	ts, clk := startClockedServer(t, nil)
	alice := ts.register(t, "alice")
	c := ts.dial(t)
	bad := wire.LoginRequest{Username: "alice", Password: "wrong-password"}
	good := wire.LoginRequest{Username: "alice", Password: alice.password}

	for i := 1; i <= 5; i++ {
		callErr(t, c, wire.OpLogin, bad, wire.CodeBadCredentials)
	}
	// The sixth attempt is either refused outright or is the failure that
	// starts the wait; docs/protocol.md allows either reading, and
	// TestLoginBackoffSixthAttempt pins the stricter one.
	if _, werr := callResult(t, c, wire.OpLogin, bad); werr == nil || (werr.Code != wire.CodeBadCredentials && werr.Code != wire.CodeRateLimited) {
		t.Fatalf("sixth failed login: %v", werr)
	}
	// Now even the right password is not checked.
	werr := callErr(t, c, wire.OpLogin, good, wire.CodeRateLimited)
	if werr.RetryAfterMS <= 0 || werr.RetryAfterMS > 1000 {
		t.Fatalf("first wait %dms, want (0, 1000]", werr.RetryAfterMS)
	}
	// Other accounts are not held up (the address is still below its own
	// threshold).
	bob := ts.register(t, "bob")
	ts.login(t, bob)

	clk.Advance(time.Duration(werr.RetryAfterMS) * time.Millisecond)
	// One more failure after the wait doubles it.
	callErr(t, c, wire.OpLogin, bad, wire.CodeBadCredentials)
	werr = callErr(t, c, wire.OpLogin, good, wire.CodeRateLimited)
	if werr.RetryAfterMS <= 1000 || werr.RetryAfterMS > 2000 {
		t.Fatalf("second wait %dms, want (1000, 2000]", werr.RetryAfterMS)
	}
	clk.Advance(time.Duration(werr.RetryAfterMS)*time.Millisecond - time.Millisecond)
	callErr(t, c, wire.OpLogin, good, wire.CodeRateLimited)
	clk.Advance(time.Millisecond)
	call[wire.Session](t, c, wire.OpLogin, good)

	// The success cleared the account's failures: five more are free again.
	c2 := ts.dial(t)
	for range 5 {
		callErr(t, c2, wire.OpLogin, bad, wire.CodeBadCredentials)
	}
}

// TestLoginBackoffSixthAttempt pins the reading of docs/protocol.md ("after
// 5 failures for an account ... attempts get rate_limited") in which five
// failures are all an account gets before it must wait.
func TestLoginBackoffSixthAttempt(t *testing.T) {
	ts, _ := startClockedServer(t, nil)
	alice := ts.register(t, "alice")
	c := ts.dial(t)
	for range 5 {
		callErr(t, c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: "wrong-password"}, wire.CodeBadCredentials)
	}
	werr := callErr(t, c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: alice.password}, wire.CodeRateLimited)
	if werr.RetryAfterMS <= 0 {
		t.Fatalf("retry_after_ms %d, want > 0", werr.RetryAfterMS)
	}
}

// TestLoginBackoffPerAddress checks that failures from one address, spread
// over many accounts, make that address wait, and that a success does not
// clear the address's count.
func TestLoginBackoffPerAddress(t *testing.T) {
	ts, clk := startClockedServer(t, nil)
	carol := ts.register(t, "carol")
	c := ts.dial(t)
	for i := range 21 {
		// One failure per account: no account reaches its own limit.
		_, werr := callResult(t, c, wire.OpLogin, wire.LoginRequest{Username: "guess" + string(rune('a'+i)), Password: "wrong-password"})
		if werr == nil || werr.Code != wire.CodeBadCredentials && !(i == 20 && werr.Code == wire.CodeRateLimited) {
			t.Fatalf("failure %d: %v", i+1, werr)
		}
	}
	werr := callErr(t, c, wire.OpLogin, wire.LoginRequest{Username: "carol", Password: carol.password}, wire.CodeRateLimited)
	if werr.RetryAfterMS <= 0 {
		t.Fatalf("retry_after_ms %d, want > 0", werr.RetryAfterMS)
	}
	clk.Advance(time.Duration(werr.RetryAfterMS) * time.Millisecond)
	call[wire.Session](t, c, wire.OpLogin, wire.LoginRequest{Username: "carol", Password: carol.password})

	// The address is still over its free failures: the next failure makes
	// it wait again, whichever account it was for.
	c2 := ts.dial(t)
	callErr(t, c2, wire.OpLogin, wire.LoginRequest{Username: "someone", Password: "wrong-password"}, wire.CodeBadCredentials)
	callErr(t, c2, wire.OpLogin, wire.LoginRequest{Username: "carol", Password: carol.password}, wire.CodeRateLimited)
}

func TestLoginSuccessClearsAccountFailures(t *testing.T) {
	ts, _ := startClockedServer(t, nil)
	alice := ts.register(t, "alice")
	for range 3 {
		c := ts.dial(t)
		for range 4 {
			callErr(t, c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: "wrong-password"}, wire.CodeBadCredentials)
		}
		// Twelve failures in all, but never five in a row.
		call[wire.Session](t, c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: alice.password})
	}
}

// TestLoginReplacesKeys logs in from a "new machine" with a new identity
// key: the keys are replaced and an online friend hears of it.
func TestLoginReplacesKeys(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	befriend(t, alice, bob)

	newPriv, newPk := newIdentity(t, "alice")
	newPub := newPriv.Public().(ed25519.PublicKey)
	c := ts.dial(t)
	call[wire.Session](t, c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: alice.password, IdentityKey: newPub, Prekey: &newPk, KeyProof: ts.proof(t, newPriv, "alice")})

	ev := waitEvent[wire.KeyChangedEvent](t, bob.c, wire.EvKeyChanged)
	if ev.Username != "alice" || !bytes.Equal(ev.IdentityKey, newPub) {
		t.Fatalf("key.changed %+v, want alice's new key", ev)
	}
	k := keysOf(t, bob.c, "alice")
	if !bytes.Equal(k.IdentityKey, newPub) || !samePrekey(k.Prekey, newPk) {
		t.Fatal("keys.get does not show the new identity key and prekey")
	}
	// The older connection was signed out.
	waitEvent[wire.SignedOutEvent](t, alice.c, wire.EvSignedOut)
}

// TestLoginSameIdentityNewPrekey logs in with the account's own identity
// key and a new prekey: the prekey is replaced, and contacts are told of
// the new prekey (so that they may keep keys until told) with the same
// identity key.
func TestLoginSameIdentityNewPrekey(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	befriend(t, alice, bob)

	pk, _, err := keys.NewPrekey(alice.identity, "alice", time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := ts.dial(t)
	call[wire.Session](t, c, wire.OpLogin, wire.LoginRequest{
		Username: "alice", Password: alice.password,
		IdentityKey: alice.identity.Public().(ed25519.PublicKey), Prekey: &pk,
		KeyProof: ts.proof(t, alice.identity, "alice"),
	})
	if k := keysOf(t, bob.c, "alice"); !samePrekey(k.Prekey, pk) {
		t.Fatal("keys.get does not show the new prekey")
	}
	ev := waitEvent[wire.KeyChangedEvent](t, bob.c, wire.EvKeyChanged)
	if ev.Username != "alice" || !bytes.Equal(ev.IdentityKey, alice.identity.Public().(ed25519.PublicKey)) || ev.Prekey == nil || !samePrekey(*ev.Prekey, pk) {
		t.Fatalf("key.changed %+v, want alice's same identity key and the new prekey", ev)
	}
}

// TestLoginPrekeyAlone: "A prekey alone replaces the prekey"
// (docs/protocol.md, login).
func TestLoginPrekeyAlone(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	pk, _, err := keys.NewPrekey(alice.identity, "alice", time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := ts.dial(t)
	call[wire.Session](t, c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: alice.password, Prekey: &pk})
	if k := keysOf(t, c, "alice"); !samePrekey(k.Prekey, pk) {
		t.Fatal("keys.get does not show the new prekey")
	}
	// A prekey alone must still be signed by the account's identity key.
	otherPriv, _ := newIdentity(t, "alice")
	forged, _, err := keys.NewPrekey(otherPriv, "alice", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	werr := callErr(t, ts.dial(t), wire.OpLogin, wire.LoginRequest{Username: "alice", Password: alice.password, Prekey: &forged}, wire.CodeInvalid)
	if werr.Field != "prekey" {
		t.Errorf("field %q, want prekey", werr.Field)
	}
}

func TestLoginKeyErrors(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	before := keysOf(t, alice.c, "alice")

	newPriv, newPk := newIdentity(t, "alice")
	newPub := newPriv.Public().(ed25519.PublicKey)
	_, strangerPk := newIdentity(t, "alice")
	expired, _, err := keys.NewPrekey(newPriv, "alice", time.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	forBob, _, err := keys.NewPrekey(newPriv, "bob", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	proof := ts.proof(t, newPriv, "alice")
	tests := []struct {
		name  string
		req   wire.LoginRequest
		field string
	}{
		{"identity key without prekey", wire.LoginRequest{IdentityKey: newPub, KeyProof: proof}, "prekey"},
		{"prekey signed by another key", wire.LoginRequest{IdentityKey: newPub, Prekey: &strangerPk, KeyProof: proof}, "prekey"},
		{"prekey signed for another user", wire.LoginRequest{IdentityKey: newPub, Prekey: &forBob, KeyProof: proof}, "prekey"},
		{"expired prekey", wire.LoginRequest{IdentityKey: newPub, Prekey: &expired, KeyProof: proof}, "prekey"},
		{"identity key of 16 bytes", wire.LoginRequest{IdentityKey: newPub[:16], Prekey: &newPk, KeyProof: proof}, "identity_key"},
		{"identity key without proof", wire.LoginRequest{IdentityKey: newPub, Prekey: &newPk}, "key_proof"},
		{"proof for another user", wire.LoginRequest{IdentityKey: newPub, Prekey: &newPk, KeyProof: ts.proof(t, newPriv, "bob")}, "key_proof"},
		{"proof without identity key", wire.LoginRequest{KeyProof: proof}, "key_proof"},
	}
	c := ts.dial(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Username, tt.req.Password = "alice", alice.password
			werr := callErr(t, c, wire.OpLogin, tt.req, wire.CodeInvalid)
			if werr.Field != tt.field {
				t.Errorf("field %q, want %q (%v)", werr.Field, tt.field, werr)
			}
		})
	}
	// Nothing changed and the original connection was not signed out.
	after := keysOf(t, alice.c, "alice")
	if !bytes.Equal(after.IdentityKey, before.IdentityKey) || !samePrekey(after.Prekey, before.Prekey) {
		t.Fatal("a refused login changed the keys")
	}
}

// TestSingleSession: the newest login wins. The older connection is told
// and closed, its token is revoked, and friends see no offline blip.
func TestSingleSession(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	befriend(t, alice, bob)
	waitMatching(t, bob.c, wire.EvPresence, 5*time.Second, presenceOfUser("alice", wire.StatusOnline))

	alice2 := ts.login(t, alice)

	ev := waitEvent[wire.SignedOutEvent](t, alice.c, wire.EvSignedOut)
	if ev.Reason != wire.SignedOutElsewhere {
		t.Errorf("signed_out reason %q, want %q", ev.Reason, wire.SignedOutElsewhere)
	}
	waitClosed(t, alice.c, 5*time.Second)

	// The first token is revoked; the second works.
	callErr(t, ts.dial(t), wire.OpResume, wire.ResumeRequest{Token: alice.session.Token}, wire.CodeSessionInvalid)
	call[wire.FriendsListResponse](t, alice2.c, wire.OpFriendsList, nil)

	// Bob sees alice online from her new connection, and never offline.
	waitMatching(t, bob.c, wire.EvPresence, 5*time.Second, presenceOfUser("alice", wire.StatusOnline))
	noMatching(t, bob.c, wire.EvPresence, 500*time.Millisecond, presenceOfUser("alice", wire.StatusOffline))
	list := call[wire.FriendsListResponse](t, bob.c, wire.OpFriendsList, nil)
	if len(list.Friends) != 1 || list.Friends[0].Presence.Status != wire.StatusOnline {
		t.Fatalf("bob's friends: %+v, want alice online", list.Friends)
	}
}

func TestResume(t *testing.T) {
	const ttl = 10 * time.Hour
	ts, clk := startClockedServer(t, func(cfg *Config) { cfg.SessionTTL = ttl })
	alice := ts.register(t, "Alice")
	token := alice.session.Token

	c := ts.dial(t)
	sess := call[wire.Session](t, c, wire.OpResume, wire.ResumeRequest{Token: token})
	if sess.Profile != alice.session.Profile {
		t.Errorf("resume profile %+v, want %+v", sess.Profile, alice.session.Profile)
	}
	if sess.Token != token || !sess.ExpiresAt.Equal(alice.session.ExpiresAt) {
		t.Errorf("a young token was replaced: %q until %v", sess.Token, sess.ExpiresAt)
	}
	call[wire.FriendsListResponse](t, c, wire.OpFriendsList, nil)
	// The same single-session rule as login: the older connection goes.
	if ev := waitEvent[wire.SignedOutEvent](t, alice.c, wire.EvSignedOut); ev.Reason != wire.SignedOutElsewhere {
		t.Errorf("signed_out reason %q", ev.Reason)
	}
	waitClosed(t, alice.c, 5*time.Second)

	t.Run("unknown tokens", func(t *testing.T) {
		c := ts.dial(t)
		fresh, _ := newToken()
		for _, tok := range []string{fresh, "garbage", token + "x", strings.ToUpper(token)} {
			callErr(t, c, wire.OpResume, wire.ResumeRequest{Token: tok}, wire.CodeSessionInvalid)
		}
		for _, tok := range []string{"", strings.Repeat("a", 129)} {
			if werr := callErr(t, c, wire.OpResume, wire.ResumeRequest{Token: tok}, wire.CodeInvalid); werr.Field != "token" {
				t.Errorf("token of %d bytes: field %q, want token", len(tok), werr.Field)
			}
		}
		callErr(t, c, wire.OpFriendsList, nil, wire.CodeNotAuthenticated)
	})

	// Past half its life the token is replaced and the old one revoked.
	clk.Advance(ttl/2 + time.Minute)
	c2 := ts.dial(t)
	renewed := call[wire.Session](t, c2, wire.OpResume, wire.ResumeRequest{Token: token})
	if renewed.Token == token || renewed.Token == "" {
		t.Fatalf("token past half its life was not replaced: %q", renewed.Token)
	}
	if want := clk.Now().Add(ttl); !renewed.ExpiresAt.Equal(want.UTC()) {
		t.Errorf("renewed token expires %v, want %v", renewed.ExpiresAt, want)
	}
	callErr(t, ts.dial(t), wire.OpResume, wire.ResumeRequest{Token: token}, wire.CodeSessionInvalid)
	call[wire.Session](t, ts.dial(t), wire.OpResume, wire.ResumeRequest{Token: renewed.Token})

	// An expired token is refused.
	clk.Advance(ttl)
	callErr(t, ts.dial(t), wire.OpResume, wire.ResumeRequest{Token: renewed.Token}, wire.CodeSessionInvalid)
	// ... and stays refused (it was deleted, not just skipped).
	if _, err := ts.store.Session(context.Background(), hashToken(renewed.Token)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired session still stored: %v", err)
	}
}

// TestResumeExpiryBoundary checks the last moment a token is good: just
// before its expiry it resumes, at its expiry it does not.
func TestResumeExpiryBoundary(t *testing.T) {
	const ttl = time.Hour
	ts, clk := startClockedServer(t, func(cfg *Config) { cfg.SessionTTL = ttl })
	ts.register(t, "alice")
	ctx := context.Background()
	created := clk.Now()
	var toks [2]string
	for i := range toks {
		var hash []byte
		toks[i], hash = newToken()
		if err := ts.store.CreateSession(ctx, store.Session{TokenHash: hash, User: "alice", Created: created, Expires: created.Add(ttl)}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(ttl - time.Millisecond)
	call[wire.Session](t, ts.dial(t), wire.OpResume, wire.ResumeRequest{Token: toks[0]})
	clk.Advance(time.Millisecond)
	callErr(t, ts.dial(t), wire.OpResume, wire.ResumeRequest{Token: toks[1]}, wire.CodeSessionInvalid)
}

func TestResumeDisabled(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	ctx := context.Background()
	now := time.Now()
	if err := ts.store.SetDisabled(ctx, "alice", true, now); err != nil {
		t.Fatal(err)
	}
	// Disabling revoked the sessions...
	callErr(t, ts.dial(t), wire.OpResume, wire.ResumeRequest{Token: alice.session.Token}, wire.CodeSessionInvalid)
	// ... and a session that exists anyway is refused for the account.
	tok, hash := newToken()
	if err := ts.store.CreateSession(ctx, store.Session{TokenHash: hash, User: "alice", Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c := ts.dial(t)
	callErr(t, c, wire.OpResume, wire.ResumeRequest{Token: tok}, wire.CodeAccountDisabled)
	callErr(t, c, wire.OpFriendsList, nil, wire.CodeNotAuthenticated)
}

func TestLogout(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	befriend(t, alice, bob)
	waitMatching(t, bob.c, wire.EvPresence, 5*time.Second, presenceOfUser("alice", wire.StatusOnline))

	call[wire.Empty](t, alice.c, wire.OpLogout, nil)

	p := waitMatching(t, bob.c, wire.EvPresence, 5*time.Second, presenceOfUser("alice", wire.StatusOffline))
	if p.LastSeen.IsZero() {
		t.Error("offline presence without last_seen")
	}
	// The connection stays open but is anonymous.
	call[wire.Empty](t, alice.c, wire.OpPing, nil)
	for _, op := range []string{wire.OpFriendsList, wire.OpLogout, wire.OpKeysGet, wire.OpPresenceSet} {
		callErr(t, alice.c, op, nil, wire.CodeNotAuthenticated)
	}
	// The token is revoked.
	callErr(t, ts.dial(t), wire.OpResume, wire.ResumeRequest{Token: alice.session.Token}, wire.CodeSessionInvalid)
	// The same connection may log in again, and bob sees alice back.
	call[wire.Session](t, alice.c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: alice.password})
	waitMatching(t, bob.c, wire.EvPresence, 5*time.Second, presenceOfUser("alice", wire.StatusOnline))
}

func TestPasswd(t *testing.T) {
	ts := startServer(t, nil)
	// A name of 8 or more letters, so that a new password equal to it is
	// refused for that reason and not for its length.
	alice := ts.register(t, "alexandra")
	const newPassword = "a-much-better-secret"

	callErr(t, alice.c, wire.OpPasswd, wire.PasswdRequest{Old: "wrong-password", New: newPassword}, wire.CodeBadCredentials)
	for _, weak := range []string{"", "short", "ALEXANDRA", strings.Repeat("n", 1025)} {
		werr := callErr(t, alice.c, wire.OpPasswd, wire.PasswdRequest{Old: alice.password, New: weak}, wire.CodeInvalid)
		if werr.Field != "new" {
			t.Errorf("new password of %d bytes: field %q, want new", len(weak), werr.Field)
		}
	}
	werr := callErr(t, alice.c, wire.OpPasswd, wire.PasswdRequest{Old: strings.Repeat("o", 1025), New: newPassword}, wire.CodeInvalid)
	if werr.Field != "old" {
		t.Errorf("long old password: field %q, want old", werr.Field)
	}
	// None of that changed the password.
	ts.login(t, alice).c.Close()
	alice = ts.login(t, alice)

	// A second session, as a daemon on another machine might hold.
	ctx := context.Background()
	otherTok, otherHash := newToken()
	now := time.Now()
	if err := ts.store.CreateSession(ctx, store.Session{TokenHash: otherHash, User: "alexandra", Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	call[wire.Empty](t, alice.c, wire.OpPasswd, wire.PasswdRequest{Old: alice.password, New: newPassword})

	callErr(t, ts.dial(t), wire.OpResume, wire.ResumeRequest{Token: otherTok}, wire.CodeSessionInvalid)
	// The connection that changed the password keeps working, and its own
	// token still resumes.
	call[wire.FriendsListResponse](t, alice.c, wire.OpFriendsList, nil)
	call[wire.Session](t, ts.dial(t), wire.OpResume, wire.ResumeRequest{Token: alice.session.Token})

	c := ts.dial(t)
	callErr(t, c, wire.OpLogin, wire.LoginRequest{Username: "alexandra", Password: alice.password}, wire.CodeBadCredentials)
	call[wire.Session](t, c, wire.OpLogin, wire.LoginRequest{Username: "alexandra", Password: newPassword})
}

// TestPasswdCountsAsFailedLogin: a wrong old password counts towards the
// account's back-off, which then also holds logins.
func TestPasswdCountsAsFailedLogin(t *testing.T) {
	ts, _ := startClockedServer(t, nil)
	alice := ts.register(t, "alice")
	bad := wire.PasswdRequest{Old: "wrong-password", New: "a-new-password"}
	for range 5 {
		callErr(t, alice.c, wire.OpPasswd, bad, wire.CodeBadCredentials)
	}
	if _, werr := callResult(t, alice.c, wire.OpPasswd, bad); werr == nil || (werr.Code != wire.CodeBadCredentials && werr.Code != wire.CodeRateLimited) {
		t.Fatalf("sixth wrong old password: %v", werr)
	}
	werr := callErr(t, alice.c, wire.OpPasswd, wire.PasswdRequest{Old: alice.password, New: "a-new-password"}, wire.CodeRateLimited)
	if werr.RetryAfterMS <= 0 {
		t.Errorf("retry_after_ms %d, want > 0", werr.RetryAfterMS)
	}
	callErr(t, ts.dial(t), wire.OpLogin, wire.LoginRequest{Username: "alice", Password: alice.password}, wire.CodeRateLimited)
}

func TestProfileUpdate(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	req, _ := registerRequest(t, ts, "alice")
	req.Email, req.Phone = "alice@example.com", "+44 20 7946 0000"
	call[wire.Session](t, c, wire.OpRegister, req)
	bob := ts.register(t, "bob")

	str := func(s string) *string { return &s }
	steps := []struct {
		name   string
		update wire.ProfileUpdateRequest
		want   wire.Profile
	}{
		{"display name only", wire.ProfileUpdateRequest{DisplayName: str("Zelda Ünïcode 🦊")},
			wire.Profile{Username: "alice", DisplayName: "Zelda Ünïcode 🦊", Email: "alice@example.com", Phone: "+44 20 7946 0000"}},
		{"clear email", wire.ProfileUpdateRequest{Email: str("")},
			wire.Profile{Username: "alice", DisplayName: "Zelda Ünïcode 🦊", Phone: "+44 20 7946 0000"}},
		{"nothing", wire.ProfileUpdateRequest{},
			wire.Profile{Username: "alice", DisplayName: "Zelda Ünïcode 🦊", Phone: "+44 20 7946 0000"}},
		{"phone and email", wire.ProfileUpdateRequest{Email: str("z@example.org"), Phone: str("5551234567")},
			wire.Profile{Username: "alice", DisplayName: "Zelda Ünïcode 🦊", Email: "z@example.org", Phone: "5551234567"}},
	}
	for _, st := range steps {
		got := call[wire.Profile](t, c, wire.OpProfileUpdate, st.update)
		if got != st.want {
			t.Errorf("%s: profile %+v, want %+v", st.name, got, st.want)
		}
	}
	want := steps[len(steps)-1].want

	// Invalid values are refused, naming the field, and change nothing,
	// not even the valid fields of the same request.
	invalid := []struct {
		update wire.ProfileUpdateRequest
		field  string
	}{
		{wire.ProfileUpdateRequest{DisplayName: str("Mallory"), Email: str("not an email")}, "email"},
		{wire.ProfileUpdateRequest{Phone: str("12")}, "phone"},
		{wire.ProfileUpdateRequest{DisplayName: str("tab\there")}, "display_name"},
		{wire.ProfileUpdateRequest{DisplayName: str(strings.Repeat("x", 65))}, "display_name"},
	}
	for _, tt := range invalid {
		if werr := callErr(t, c, wire.OpProfileUpdate, tt.update, wire.CodeInvalid); werr.Field != tt.field {
			t.Errorf("field %q, want %q", werr.Field, tt.field)
		}
	}

	// The profile is stored: a fresh login returns it, and search finds
	// the new display name (and no longer the old one).
	sess := call[wire.Session](t, ts.dial(t), wire.OpLogin, wire.LoginRequest{Username: "alice", Password: req.Password})
	if sess.Profile != want {
		t.Errorf("profile after login %+v, want %+v", sess.Profile, want)
	}
	res := call[wire.UsersSearchResponse](t, bob.c, wire.OpUsersSearch, wire.UsersSearchRequest{Query: "zelda"})
	if len(res.Users) != 1 || res.Users[0] != (wire.UserSummary{Username: "alice", DisplayName: "Zelda Ünïcode 🦊"}) {
		t.Errorf("search for the new name: %+v", res.Users)
	}
	res = call[wire.UsersSearchResponse](t, bob.c, wire.OpUsersSearch, wire.UsersSearchRequest{Query: "User alice"})
	if len(res.Users) != 0 {
		t.Errorf("search for the old name: %+v", res.Users)
	}
}

func TestPrekeyRotate(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	befriend(t, alice, bob)

	pk, _, err := keys.NewPrekey(alice.identity, "alice", time.Now(), 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	call[wire.Empty](t, alice.c, wire.OpPrekeyRotate, wire.PrekeyRotateRequest{Prekey: pk})
	k := keysOf(t, bob.c, "alice")
	if !samePrekey(k.Prekey, pk) || !bytes.Equal(k.IdentityKey, alice.identity.Public().(ed25519.PublicKey)) {
		t.Fatal("keys.get does not show the rotated prekey with the same identity key")
	}
	// Contacts are told, so that they may keep a contact's keys until then.
	ev := waitEvent[wire.KeyChangedEvent](t, bob.c, wire.EvKeyChanged)
	if ev.Username != "alice" || ev.Prekey == nil || !samePrekey(*ev.Prekey, pk) {
		t.Fatalf("key.changed %+v, want alice's rotated prekey", ev)
	}

	otherPriv, _ := newIdentity(t, "alice")
	forged, _, err := keys.NewPrekey(otherPriv, "alice", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := keys.NewPrekey(alice.identity, "alice", time.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tooLong, _, err := keys.NewPrekey(alice.identity, "alice", time.Now(), keys.MaxPrekeyLifetime)
	if err != nil {
		t.Fatal(err)
	}
	tooLong.Expires++ // over 90 days, and the signature no longer matches
	for name, bad := range map[string]keys.SignedPrekey{"forged": forged, "expired": expired, "too long": tooLong, "empty": {}} {
		werr := callErr(t, alice.c, wire.OpPrekeyRotate, wire.PrekeyRotateRequest{Prekey: bad}, wire.CodeInvalid)
		if werr.Field != "prekey" {
			t.Errorf("%s prekey: field %q, want prekey", name, werr.Field)
		}
	}
	if k := keysOf(t, bob.c, "alice"); !samePrekey(k.Prekey, pk) {
		t.Fatal("a refused prekey replaced the published one")
	}
}

// TestDisableWhileOnline: an operator disables an account from outside
// the server (writing the store); the live session is closed.
func TestDisableWhileOnline(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	befriend(t, alice, bob)
	waitMatching(t, bob.c, wire.EvPresence, 5*time.Second, presenceOfUser("alice", wire.StatusOnline))

	if err := ts.store.SetDisabled(context.Background(), "alice", true, time.Now()); err != nil {
		t.Fatal(err)
	}
	ev := waitMatching(t, alice.c, wire.EvSignedOut, 3*time.Second, func(wire.SignedOutEvent) bool { return true })
	if ev.Reason != wire.SignedOutDisabled {
		t.Errorf("signed_out reason %q, want %q", ev.Reason, wire.SignedOutDisabled)
	}
	waitClosed(t, alice.c, 3*time.Second)
	waitMatching(t, bob.c, wire.EvPresence, 5*time.Second, presenceOfUser("alice", wire.StatusOffline))

	callErr(t, ts.dial(t), wire.OpLogin, wire.LoginRequest{Username: "alice", Password: alice.password}, wire.CodeAccountDisabled)
	callErr(t, ts.dial(t), wire.OpResume, wire.ResumeRequest{Token: alice.session.Token}, wire.CodeSessionInvalid)
	// Bob is untouched.
	call[wire.FriendsListResponse](t, bob.c, wire.OpFriendsList, nil)
}
