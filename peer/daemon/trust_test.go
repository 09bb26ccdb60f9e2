package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/lanchat/lanchat/peer/api"
)

// TestTrustActsOnComparedKey changes bob's key twice, the second time
// after the user was shown the first new key: trusting that one is
// refused; the latest, once compared, is trusted and nothing is held.
func TestTrustActsOnComparedKey(t *testing.T) {
	d := newStoreDaemon(t)
	ctx := context.Background()
	_, mine, _ := ed25519.GenerateKey(rand.Reader)
	d.session.setIdentity(mine)
	d.link.(*fakeLink).setSession(false) // no server
	k1, k2, k3 := newKey(t), newKey(t), newKey(t)
	for _, k := range []ed25519.PublicKey{k1, k2} {
		if _, err := d.db.PinKey(ctx, "alice", k); err != nil {
			t.Fatal(err)
		}
	}
	shown, err := d.Verify(ctx, "alice")
	if err != nil || !shown.KeyChanged || shown.Fingerprint != keyFingerprint(k2) {
		t.Fatalf("Verify after a change: %+v, %v", shown, err)
	}
	if _, err := d.Confirm(ctx, "alice", api.KeyRequest{Fingerprint: shown.Fingerprint}); apiCode(err) != api.CodeHeld {
		t.Fatalf("Confirm of a changed key: %v, want held", err)
	}
	if _, err := d.db.PinKey(ctx, "alice", k3); err != nil {
		t.Fatal(err)
	}
	_, err = d.Trust(ctx, "alice", api.KeyRequest{Fingerprint: shown.Fingerprint})
	if apiCode(err) != api.CodeKeyChanged || err.Error() != "the key changed again since you compared it; run lanchat verify alice" {
		t.Fatalf("Trust of the key shown before a second change: %v", err)
	}
	if held, _ := d.db.Held(ctx, "alice"); !held {
		t.Fatal("alice is not held after a refused trust")
	}
	if _, err := d.Trust(ctx, "alice", api.KeyRequest{Fingerprint: "not hex"}); apiCode(err) != api.CodeInvalid {
		t.Fatalf("Trust with a malformed fingerprint: %v", err)
	}
	latest, err := d.Verify(ctx, "alice")
	if err != nil || latest.Fingerprint != keyFingerprint(k3) || latest.SafetyNumber == shown.SafetyNumber {
		t.Fatalf("Verify after the second change: %+v, %v", latest, err)
	}
	c, err := d.Trust(ctx, "alice", api.KeyRequest{Fingerprint: latest.Fingerprint})
	if err != nil || c.Held {
		t.Fatalf("Trust of the latest key: %+v, %v", c, err)
	}
	if held, _ := d.db.Held(ctx, "alice"); held {
		t.Fatal("alice is held after trusting the latest key")
	}
	if _, err := d.Trust(ctx, "alice", api.KeyRequest{Fingerprint: latest.Fingerprint}); apiCode(err) != api.CodeConflict {
		t.Fatalf("Trust with nothing to trust: %v", err)
	}
	// verify --confirm acts on the pinned key only.
	if _, err := d.Confirm(ctx, "alice", api.KeyRequest{Fingerprint: shown.Fingerprint}); apiCode(err) != api.CodeKeyChanged {
		t.Fatalf("Confirm of an old key: %v", err)
	}
	v, err := d.Confirm(ctx, "alice", api.KeyRequest{Fingerprint: latest.Fingerprint})
	if err != nil || !v.Verified {
		t.Fatalf("Confirm of the pinned key: %+v, %v", v, err)
	}
}

func apiCode(err error) string {
	var e *api.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
