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
	good, _, err := NewPrekey(priv, now, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Verify(pub, now); err != nil {
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
		at       time.Time
		want     error
	}{
		{"other identity", good, otherPub, now, ErrBadSignature},
		{"short identity", good, pub[:31], now, ErrBadIdentityKey},
		{"flipped key byte", mod(func(p *SignedPrekey) { p.Public[100] ^= 1 }), pub, now, ErrBadSignature},
		{"truncated key", mod(func(p *SignedPrekey) { p.Public = p.Public[:50] }), pub, now, ErrBadPrekey},
		{"extended expiry", mod(func(p *SignedPrekey) { p.Expires += 3600 }), pub, now, ErrBadSignature},
		{"flipped signature", mod(func(p *SignedPrekey) { p.Signature[0] ^= 1 }), pub, now, ErrBadSignature},
		{"no signature", mod(func(p *SignedPrekey) { p.Signature = nil }), pub, now, ErrBadSignature},
		{"expired", good, pub, now.Add(8 * 24 * time.Hour), ErrPrekeyExpired},
		{"from the future", good, pub, now.Add(-48 * time.Hour), ErrBadPrekey},
		{"lifetime too long", mod(func(p *SignedPrekey) { p.Expires = p.Created + 91*24*3600 }), pub, now, ErrBadPrekey},
		{"expiry overflow", mod(func(p *SignedPrekey) { p.Expires = 1<<63 - 1 }), pub, now, ErrBadPrekey},
		{"negative created", mod(func(p *SignedPrekey) { p.Created = -1 << 62 }), pub, now, ErrBadPrekey},
		{"expires before created", mod(func(p *SignedPrekey) { p.Expires = p.Created - 1 }), pub, now, ErrBadPrekey},
	} {
		if err := tt.p.Verify(tt.identity, tt.at); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestNewPrekeyLifetime(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	if _, _, err := NewPrekey(priv, time.Now(), MaxPrekeyLifetime+time.Second); err == nil {
		t.Error("lifetime over the maximum accepted")
	}
	if _, _, err := NewPrekey(priv, time.Now(), 0); err == nil {
		t.Error("zero lifetime accepted")
	}
}

func TestPrekeyID(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	a, _, _ := NewPrekey(priv, time.Now(), time.Hour)
	b, _, _ := NewPrekey(priv, time.Now(), time.Hour)
	if len(a.ID()) != 16 || a.ID() == b.ID() || a.ID() != a.ID() {
		t.Errorf("ids %q %q", a.ID(), b.ID())
	}
}
