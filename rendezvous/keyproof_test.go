package rendezvous

import (
	"bytes"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
)

// TestRegisterCopiedKeyRefused is the attack of issue 14 item 2: mallory
// copies alice's public identity key and published prekey into her own
// register request. Peers would then file alice's messages under
// mallory's name, so the server must refuse it.
func TestRegisterCopiedKeyRefused(t *testing.T) {
	ts := startServer(t, nil)
	aliceReq, alicePriv := registerRequest(t, ts, "alice")
	call[wire.Session](t, ts.dial(t), wire.OpRegister, aliceReq)

	// Without alice's private key mallory has no proof for her own name:
	// not alice's (it names alice), not one of her own key's.
	forged, malloryPriv := registerRequest(t, ts, "mallory")
	forged.IdentityKey, forged.Prekey = aliceReq.IdentityKey, aliceReq.Prekey
	for name, proof := range map[string][]byte{
		"no proof":           nil,
		"alice's proof":      aliceReq.KeyProof,
		"her own key's":      ts.proof(t, malloryPriv, "mallory"),
		"alice's prekey sig": aliceReq.Prekey.Signature,
	} {
		forged.KeyProof = proof
		werr := callErr(t, ts.dial(t), wire.OpRegister, forged, wire.CodeInvalid)
		if werr.Field != "key_proof" {
			t.Errorf("%s: field %q, want key_proof (%v)", name, werr.Field, werr)
		}
	}
	// Even the key's holder cannot put it on a second account; the prekey
	// it signed for alice does not pass for another name either.
	second, _ := registerRequest(t, ts, "alice2")
	second.IdentityKey, second.KeyProof = aliceReq.IdentityKey, ts.proof(t, alicePriv, "alice2")
	if werr := callErr(t, ts.dial(t), wire.OpRegister, second, wire.CodeInvalid); werr.Field != "prekey" {
		t.Errorf("alice's prekey on alice2: field %q, want prekey", werr.Field)
	}
	second.Prekey = prekeyFor(t, alicePriv, "alice2")
	if werr := callErr(t, ts.dial(t), wire.OpRegister, second, wire.CodeConflict); werr.Field != "identity_key" {
		t.Errorf("a second account with alice's key: field %q, want identity_key", werr.Field)
	}
	for _, name := range []string{"mallory", "alice2"} {
		if userExists(t, ts, name) {
			t.Fatalf("the account %s exists", name)
		}
	}
}

// TestLoginCopiedKeyRefused: a login that brings a new identity key may
// not bring one another account holds, even with a valid proof.
func TestLoginCopiedKeyRefused(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	befriend(t, alice, bob)
	alicePub := alice.identity.Public().(ed25519.PublicKey)
	pk := prekeyFor(t, alice.identity, "bob")
	req := wire.LoginRequest{Username: "bob", Password: bob.password, IdentityKey: alicePub, Prekey: &pk, KeyProof: ts.proof(t, alice.identity, "bob")}
	if werr := callErr(t, ts.dial(t), wire.OpLogin, req, wire.CodeConflict); werr.Field != "identity_key" {
		t.Errorf("field %q, want identity_key", werr.Field)
	}
	if k := keysOf(t, alice.c, "bob"); !bytes.Equal(k.IdentityKey, bob.identity.Public().(ed25519.PublicKey)) {
		t.Fatal("bob's key changed")
	}
	// The refusal came after the password was proven: not a failed login.
	ts.login(t, bob)
}

func prekeyFor(t *testing.T, identity ed25519.PrivateKey, name string) keys.SignedPrekey {
	t.Helper()
	pk, _, err := keys.NewPrekey(identity, name, time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}
