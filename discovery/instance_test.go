package discovery

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestInstanceID(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	day := time.Date(2026, 12, 7, 23, 59, 59, 0, time.UTC)
	sum := sha256.Sum256(append(append([]byte("lanchat mdns v1\x00"), pub...), "2026-12-07"...))
	want := hex.EncodeToString(sum[:16])

	got := InstanceIDOn(pub, day)
	if got != want {
		t.Fatalf("InstanceID = %s, want %s", got, want)
	}
	if again := InstanceIDOn(append(ed25519.PublicKey(nil), pub...), day.Add(-23*time.Hour)); again != got {
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

// TestInstanceIDRotatesDaily: an observer who heard a machine one day
// cannot tell it apart the next, while a contact who knows the key
// recognises it on either side of midnight.
func TestInstanceIDRotatesDaily(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	pub := priv.Public().(ed25519.PublicKey)
	monday := time.Date(2026, 12, 7, 23, 59, 0, 0, time.UTC)
	tuesday := monday.Add(2 * time.Minute)
	a, b := InstanceIDOn(pub, monday), InstanceIDOn(pub, tuesday)
	if a == b {
		t.Fatal("the instance id did not change at midnight UTC")
	}
	// The day is the UTC day, whatever the local zone says.
	if c := InstanceIDOn(pub, monday.In(time.FixedZone("UTC+3", 3*3600))); c != a {
		t.Error("the instance id depends on the time zone")
	}
	for _, id := range []string{a, b} {
		for _, now := range []time.Time{monday, tuesday} {
			if !Recognize(pub, id, now) {
				t.Errorf("%s not recognised at %v", id, now)
			}
		}
	}
	if Recognize(pub, InstanceIDOn(pub, monday.AddDate(0, 0, -3)), tuesday) {
		t.Error("an id three days old still recognised")
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if Recognize(other, a, monday) {
		t.Error("another key recognises the instance")
	}
	if d := nextDay(monday); d != time.Minute {
		t.Errorf("nextDay = %v, want 1m", d)
	}
}
