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
