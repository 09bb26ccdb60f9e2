package discovery

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestInstanceID(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	sum := sha256.Sum256(append([]byte("lanchat mdns v1\x00"), pub...))
	want := hex.EncodeToString(sum[:16])

	got := InstanceID(pub)
	if got != want {
		t.Fatalf("InstanceID = %s, want %s", got, want)
	}
	if again := InstanceID(append(ed25519.PublicKey(nil), pub...)); again != got {
		t.Errorf("InstanceID is not stable: %s then %s", got, again)
	}
	if !isInstanceID(got) {
		t.Errorf("InstanceID %q is not 32 lower-case hex digits", got)
	}
	if plain := sha256.Sum256(pub); strings.HasPrefix(hex.EncodeToString(plain[:]), got) {
		t.Error("InstanceID is not domain-separated from a plain hash of the key")
	}

	seen := map[string]bool{got: true}
	for i := 1; i < 64; i++ {
		seed := make([]byte, ed25519.SeedSize)
		seed[0] = byte(i)
		id := InstanceID(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
		if seen[id] {
			t.Fatalf("key %d: InstanceID %s collides", i, id)
		}
		seen[id] = true
	}
}

func TestInstanceIDRevealsNoName(t *testing.T) {
	// The instance depends on the key only: there is no way to pass a
	// username, and what comes out is hex, so no name can leak into it.
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	id := InstanceID(priv.Public().(ed25519.PublicKey))
	if !isLowerHex(id) {
		t.Fatalf("InstanceID %q is not hex", id)
	}
}
