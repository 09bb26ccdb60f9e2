package main

import (
	"context"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/peer/api"
)

const (
	numberA = "11111 22222 33333 44444 55555 66666 77777 88888 99999 00000 12345 67890"
	numberB = "98765 43210 11111 22222 33333 44444 55555 66666 77777 88888 99999 00000"
	fpA     = "aaaa000000000000000000000000000000000000000000000000000000000000"
	fpB     = "bbbb000000000000000000000000000000000000000000000000000000000000"
)

// TestTrustSendsComparedKey checks that trust acts on the key whose
// number the user gave: the fingerprint verify returned with that number
// goes to the daemon; another number is refused before anything is sent.
func TestTrustSendsComparedKey(t *testing.T) {
	h := newHarness(t)
	h.svc.VerifyFunc = func(_ context.Context, user string) (api.Verification, error) {
		return api.Verification{User: user, SafetyNumber: numberB, Fingerprint: fpB, KeyChanged: true}, nil
	}
	var trusted []string
	h.svc.TrustFunc = func(_ context.Context, user string, req api.KeyRequest) (api.Contact, error) {
		trusted = append(trusted, req.Fingerprint)
		return api.Contact{Username: user}, nil
	}
	// The number compared was for an earlier key.
	r := h.run("", "trust", "bob", "--safety-number", numberA)
	if r.code == 0 || !strings.Contains(r.stderr, "changed again since you compared it") {
		t.Fatalf("trust with an old number: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// No terminal and no number: nothing is trusted.
	r = h.run("y\n", "trust", "bob")
	if r.code == 0 || !strings.Contains(r.stderr, "--safety-number") {
		t.Fatalf("trust with no number and no terminal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if len(trusted) != 0 {
		t.Fatalf("trusted %v without the number compared", trusted)
	}
	// Spaces do not matter; the fingerprint of the number shown goes.
	contains(t, h.run("", "trust", "bob", "--safety-number", strings.ReplaceAll(numberB, " ", "")).ok(t), "trusted bob's new identity key")
	if len(trusted) != 1 || trusted[0] != fpB {
		t.Fatalf("trust sent %v, want [%s]", trusted, fpB)
	}
	for _, bad := range []string{"123", numberB + "1", "12345-67890"} {
		if r := h.run("", "trust", "bob", "--safety-number", bad); r.code == 0 {
			t.Errorf("--safety-number %q accepted", bad)
		}
	}
}

func TestVerifyConfirm(t *testing.T) {
	h := newHarness(t)
	v := api.Verification{User: "bob", SafetyNumber: numberA, Fingerprint: fpA}
	h.svc.VerifyFunc = func(context.Context, string) (api.Verification, error) { return v, nil }
	var confirmed []string
	h.svc.ConfirmFunc = func(_ context.Context, user string, req api.KeyRequest) (api.Verification, error) {
		confirmed = append(confirmed, req.Fingerprint)
		v.Verified = true
		return v, nil
	}
	out := h.run("", "verify", "bob").ok(t)
	contains(t, out, "11111 22222 33333 44444 55555 66666", "fingerprint of bob's key: aaaa 0000", "lanchat verify bob --confirm")
	if r := h.run("", "verify", "bob", "--confirm", "--safety-number", numberB); r.code == 0 || len(confirmed) != 0 {
		t.Fatalf("confirm with another number: exit %d, confirmed %v", r.code, confirmed)
	}
	contains(t, h.run("", "verify", "bob", "--confirm", "--safety-number", numberA).ok(t), "bob is now marked verified")
	if len(confirmed) != 1 || confirmed[0] != fpA {
		t.Fatalf("confirm sent %v, want [%s]", confirmed, fpA)
	}
	// A changed key is trusted first, not confirmed.
	v.KeyChanged = true
	if r := h.run("", "verify", "bob", "--confirm", "--safety-number", numberA); r.code == 0 || !strings.Contains(r.stderr, "lanchat trust bob") {
		t.Fatalf("confirm of a changed key: exit %d\n%s", r.code, r.stderr)
	}
}

func TestFriendsSharedKey(t *testing.T) {
	h := newHarness(t)
	h.svc.FriendsFunc = func(context.Context) ([]api.Friend, error) {
		return []api.Friend{
			{Username: "amy", Presence: api.Presence{Status: api.Online}, Held: true, SameKey: []string{"bob"}},
			{Username: "bob", Presence: api.Presence{Status: api.Online}, Held: true, SameKey: []string{"amy"}},
			{Username: "carol", Presence: api.Presence{Status: api.Online}, Held: true},
		}, nil
	}
	out := h.run("", "friends").ok(t)
	contains(t, out, "SHARED", "CHANGED", "WARNING: amy's identity key is also pinned for bob", "WARNING: bob's identity key is also pinned for amy")
}

// TestTrustAsksOnTerminal answers the question trust asks on a terminal:
// "y" trusts the key whose number was shown, anything else nothing.
func TestTrustAsksOnTerminal(t *testing.T) {
	h := newHarness(t)
	h.svc.VerifyFunc = func(_ context.Context, user string) (api.Verification, error) {
		return api.Verification{User: user, SafetyNumber: numberB, Fingerprint: fpB, KeyChanged: true}, nil
	}
	var trusted []string
	h.svc.TrustFunc = func(_ context.Context, user string, req api.KeyRequest) (api.Contact, error) {
		trusted = append(trusted, req.Fingerprint)
		return api.Contact{Username: user}, nil
	}
	for _, tc := range []struct {
		answer string
		ok     bool
	}{{"n\n", false}, {"\n", false}, {"yes\n", true}} {
		ctl, tty := openPty(t)
		if _, err := ctl.WriteString(tc.answer); err != nil {
			t.Fatal(err)
		}
		r := h.runCtx(t.Context(), tty, "trust", "bob")
		if (r.code == 0) != tc.ok {
			t.Fatalf("answer %q: exit %d\n%s%s", tc.answer, r.code, r.stdout, r.stderr)
		}
		contains(t, r.stderr, "98765 43210 11111 22222 33333 44444", "fingerprint of bob's key: bbbb 0000", "Is this the number bob sees? [y/N]")
	}
	if len(trusted) != 1 || trusted[0] != fpB {
		t.Fatalf("trusted %v, want [%s] once", trusted, fpB)
	}
}
