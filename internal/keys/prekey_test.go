package keys

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"
)

func TestPrekeyVerify(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	now := time.Now()
	good, _, err := NewPrekey(priv, "alice", now, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Verify(pub, "alice", now); err != nil {
		t.Fatalf("fresh prekey: %v", err)
	}
	mod := func(f func(p *SignedPrekey)) SignedPrekey {
		p := good
		p.Public = append([]byte(nil), good.Public...)
		p.Signature = append([]byte(nil), good.Signature...)
		f(&p)
		return p
	}
	for _, tt := range []struct {
		name     string
		p        SignedPrekey
		identity []byte
		user     string
		at       time.Time
		want     error
	}{
		{"other identity", good, otherPub, "alice", now, ErrBadSignature},
		{"short identity", good, pub[:31], "alice", now, ErrBadIdentityKey},
		{"flipped key byte", mod(func(p *SignedPrekey) { p.Public[100] ^= 1 }), pub, "alice", now, ErrBadSignature},
		{"truncated key", mod(func(p *SignedPrekey) { p.Public = p.Public[:50] }), pub, "alice", now, ErrBadPrekey},
		{"extended expiry", mod(func(p *SignedPrekey) { p.Expires += 3600 }), pub, "alice", now, ErrBadSignature},
		{"flipped signature", mod(func(p *SignedPrekey) { p.Signature[0] ^= 1 }), pub, "alice", now, ErrBadSignature},
		{"no signature", mod(func(p *SignedPrekey) { p.Signature = nil }), pub, "alice", now, ErrBadSignature},
		{"expired", good, pub, "alice", now.Add(8 * 24 * time.Hour), ErrPrekeyExpired},
		{"from the future", good, pub, "alice", now.Add(-48 * time.Hour), ErrBadPrekey},
		{"lifetime too long", mod(func(p *SignedPrekey) { p.Expires = p.Created + 91*24*3600 }), pub, "alice", now, ErrBadPrekey},
		{"expiry overflow", mod(func(p *SignedPrekey) { p.Expires = 1<<63 - 1 }), pub, "alice", now, ErrBadPrekey},
		{"negative created", mod(func(p *SignedPrekey) { p.Created = -1 << 62 }), pub, "alice", now, ErrBadPrekey},
		{"another user", good, pub, "mallory", now, ErrBadSignature},
		{"user case", good, pub, "Alice", now, ErrBadSignature},
		{"expires before created", mod(func(p *SignedPrekey) { p.Expires = p.Created - 1 }), pub, "alice", now, ErrBadPrekey},
	} {
		if err := tt.p.Verify(tt.identity, tt.user, tt.at); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestNewPrekeyLifetime(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	if _, _, err := NewPrekey(priv, "alice", time.Now(), MaxPrekeyLifetime+time.Second); err == nil {
		t.Error("lifetime over the maximum accepted")
	}
	if _, _, err := NewPrekey(priv, "alice", time.Now(), 0); err == nil {
		t.Error("zero lifetime accepted")
	}
}

func TestPrekeyID(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	a, _, _ := NewPrekey(priv, "alice", time.Now(), time.Hour)
	b, _, _ := NewPrekey(priv, "alice", time.Now(), time.Hour)
	if len(a.ID()) != 16 || a.ID() == b.ID() || a.ID() != a.ID() {
		t.Errorf("ids %q %q", a.ID(), b.ID())
	}
}

func TestProof(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	server := ServerID{1, 2, 3}
	sig, err := SignProof(priv, "alice", server)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyProof(pub, "alice", server, sig); err != nil {
		t.Fatalf("fresh proof: %v", err)
	}
	flipped := append([]byte(nil), sig...)
	flipped[10] ^= 1
	// A signature over the same bytes in another context must not pass:
	// the prekey of alice is signed by the same key.
	pk, _, err := NewPrekey(priv, "alice", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		identity []byte
		user     string
		server   ServerID
		sig      []byte
		want     error
	}{
		{"another user", pub, "mallory", server, sig, ErrBadProof},
		{"a longer name", pub, "alicea", server, sig, ErrBadProof},
		{"another server", pub, "alice", ServerID{1, 2, 4}, sig, ErrBadProof},
		{"another key", otherPub, "alice", server, sig, ErrBadProof},
		{"flipped signature", pub, "alice", server, flipped, ErrBadProof},
		{"no signature", pub, "alice", server, nil, ErrBadProof},
		{"prekey signature", pub, "alice", server, pk.Signature, ErrBadProof},
		{"short key", pub[:16], "alice", server, sig, ErrBadIdentityKey},
	} {
		if err := VerifyProof(tt.identity, tt.user, tt.server, tt.sig); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}
