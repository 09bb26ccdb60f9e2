package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/lanchat/lanchat/peer/api"
)

const lanServer = "192.168.1.2:7443"

// sent records what register and login sent to the daemon.
type sent struct {
	mu   sync.Mutex
	reqs []string // "<op> <username> <password> <server fingerprint>"
}

func (s *sent) add(op, user, pw, fp string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, strings.Join([]string{op, user, pw, fp}, " "))
}

func (s *sent) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.reqs
	s.reqs = nil
	return out
}

// lanHarness is a fake daemon connected to a server it found on the LAN
// and whose certificate nobody has confirmed yet.
func lanHarness(t *testing.T) (*harness, *sent) {
	h := newHarness(t)
	h.svc.StatusFunc = func(context.Context) (api.Status, error) {
		return api.Status{Server: lanServer, Fingerprint: fpA, ServerConnected: true, ServerUnconfirmed: true}, nil
	}
	s := &sent{}
	h.svc.RegisterFunc = func(_ context.Context, req api.RegisterRequest) (api.Me, error) {
		s.add("register", req.Username, req.Password, req.ServerFingerprint)
		return api.Me{Username: req.Username, Fingerprint: "abcd"}, nil
	}
	h.svc.LoginFunc = func(_ context.Context, req api.LoginRequest) (api.Me, error) {
		s.add("login", req.Username, req.Password, req.ServerFingerprint)
		return api.Me{Username: req.Username, Fingerprint: "abcd"}, nil
	}
	return h, s
}

// TestConfirmLANServerOnTerminal answers the question register and login
// ask on a terminal about a server found on the LAN: only "y" sends the
// confirmation, with the fingerprint shown; any other answer sends
// nothing, so nothing is pinned.
func TestConfirmLANServerOnTerminal(t *testing.T) {
	h, s := lanHarness(t)
	for _, op := range []string{"register", "login"} {
		// Register asks for the new password twice.
		passwords := "pw-ann-secret\n"
		if op == "register" {
			passwords += "pw-ann-secret\n"
		}
		for _, tc := range []struct {
			answer string
			ok     bool
		}{{"n\n", false}, {"\n", false}, {"no\n", false}, {"yes please\n", false}, {"y\n", true}, {"YES\n", true}} {
			ctl, tty := openPty(t)
			if _, err := ctl.WriteString(tc.answer + passwords); err != nil {
				t.Fatal(err)
			}
			r := h.runCtx(t.Context(), tty, op, "ann")
			if (r.code == 0) != tc.ok {
				t.Fatalf("%s, answer %q: exit %d\n%s%s", op, tc.answer, r.code, r.stdout, r.stderr)
			}
			contains(t, r.stderr, "found the rendezvous server on the LAN at "+lanServer, "certificate sha256 "+fpA, "Pin this server? [y/N]")
			got := s.take()
			if !tc.ok {
				contains(t, r.stderr, "server not confirmed: nothing pinned")
				if len(got) != 0 {
					t.Fatalf("%s, answer %q: sent %q", op, tc.answer, got)
				}
				continue
			}
			if want := op + " ann pw-ann-secret " + fpA; len(got) != 1 || got[0] != want {
				t.Fatalf("%s, answer %q: sent %q, want [%s]", op, tc.answer, got, want)
			}
		}
	}
}

// TestConfirmLANServerWithoutTerminal checks register and login with no
// terminal: --yes sends the fingerprint shown; without it they refuse,
// naming --yes, and send nothing.
func TestConfirmLANServerWithoutTerminal(t *testing.T) {
	h, s := lanHarness(t)
	for _, op := range []string{"register", "login"} {
		r := h.run("pw-ann-secret\n", op, "ann", "--password-stdin")
		if r.code == 0 || !strings.Contains(r.stderr, "--yes") {
			t.Fatalf("%s without --yes: exit %d\n%s%s", op, r.code, r.stdout, r.stderr)
		}
		if got := s.take(); len(got) != 0 {
			t.Fatalf("%s without --yes sent %q", op, got)
		}
		r = h.run("pw-ann-secret\n", op, "ann", "--password-stdin", "--yes")
		r.ok(t)
		contains(t, r.stderr, "certificate sha256 "+fpA, "pinned without asking (--yes)")
		if got, want := s.take(), op+" ann pw-ann-secret "+fpA; len(got) != 1 || got[0] != want {
			t.Fatalf("%s --yes sent %q, want [%s]", op, got, want)
		}
	}
}

// TestConfirmedServerNotAsked checks that with the server's certificate
// pinned already nothing is asked and no confirmation is sent.
func TestConfirmedServerNotAsked(t *testing.T) {
	h, s := lanHarness(t)
	h.svc.StatusFunc = func(context.Context) (api.Status, error) {
		return api.Status{Server: lanServer, Fingerprint: fpA, ServerConnected: true}, nil
	}
	r := h.run("pw-ann-secret\n", "login", "ann", "--password-stdin")
	r.ok(t)
	if strings.Contains(r.stderr, "[y/N]") {
		t.Fatalf("asked about a pinned server:\n%s", r.stderr)
	}
	if got, want := s.take(), "login ann pw-ann-secret "; len(got) != 1 || got[0] != want {
		t.Fatalf("login sent %q, want [%s]", got, want)
	}
}
