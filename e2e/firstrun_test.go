package e2e

import (
	"strings"
	"testing"
)

// A new user's mistakes get errors that name the field and say why.
func TestFirstRunMessages(t *testing.T) {
	srv := startServer(t)
	dan := newUser(t, srv, "dan")
	dan.start(t)
	for _, tc := range []struct {
		password string
		args     []string
		want     string
	}{
		{"a-good-long-password", []string{"--email", "x@"}, `email: "x@" is not an e-mail address`},
		{"a-good-long-password", []string{"--phone", "12ab"}, `phone: "12ab" is not a phone number`},
		{"short", nil, "password: must be at least 8 characters"},
		{"iloveyou", nil, "password: is one of the most common passwords"},
	} {
		args := append([]string{"register", "dan", "--password-stdin"}, tc.args...)
		_, errs, code := dan.lc(t, tc.password+"\n", args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("register %v: exit %d, stderr %q; want %q", tc.args, code, errs, tc.want)
		}
	}
	dan.register(t) // and a good one goes through
}

// A wrong --server-fingerprint is a mismatch, not an unreachable server.
func TestWrongServerFingerprint(t *testing.T) {
	srv := startServer(t)
	eve := newUser(t, srv, "eve")
	eve.fp = strings.Repeat("ab", 32)
	eve.start(t)
	_, errs, code := eve.lc(t, "a-good-long-password\n", "register", "eve", "--password-stdin")
	if code == 0 || !strings.Contains(errs, "does not match") || !strings.Contains(errs, srv.fp) || !strings.Contains(errs, eve.fp) || strings.Contains(errs, "unreachable") {
		t.Fatalf("register with a wrong fingerprint: exit %d, stderr %q; want a mismatch naming both fingerprints", code, errs)
	}
	out := eve.daemon.output()
	if !strings.Contains(out, "does not match") || strings.Contains(out, "start the daemon with --server-fingerprint") {
		t.Fatalf("the daemon's log advises the flag just used:\n%s", out)
	}
}
