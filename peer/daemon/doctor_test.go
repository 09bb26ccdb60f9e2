package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/link"
)

// doctorStub is a server link in a given state, for the doctor.
type doctorStub struct {
	addr      string
	connected bool
	session   bool
	err       error
}

func (s doctorStub) Addr() string        { return s.addr }
func (s doctorStub) Connected() bool     { return s.connected }
func (s doctorStub) Fingerprint() string { return serverID }
func (s doctorStub) HasSession() bool    { return s.session }
func (s doctorStub) LastError() error    { return s.err }

// TestDoctorServerCheck: each state of the server link gets its own
// verdict and fix.
func TestDoctorServerCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		link   doctorStub
		ok     bool
		detail string
		fix    string
	}{
		{"connected", doctorStub{addr: "10.0.0.1:7000", connected: true}, true, "matches the pinned fingerprint " + serverID, ""},
		{"no address", doctorStub{}, false, "no server address", "--server HOST:PORT"},
		{"other certificate", doctorStub{addr: "10.0.0.1:7000", err: fmt.Errorf("dial: %w", link.ErrFingerprintMismatch)}, false, "other than the pinned one", "rendezvous fingerprint"},
		{"unreachable", doctorStub{addr: "10.0.0.1:7000", err: errors.New("connection refused")}, false, "cannot reach 10.0.0.1:7000: connection refused", "TCP port 7000"},
		{"connecting", doctorStub{addr: "10.0.0.1:7000"}, false, "connecting to 10.0.0.1:7000", "run lanchat doctor again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := (&doctor{link: tc.link}).checkServer()
			if c.OK != tc.ok || !strings.Contains(c.Detail, tc.detail) || !strings.Contains(c.Fix, tc.fix) {
				t.Fatalf("check = %+v; want ok %v, detail with %q, fix with %q", c, tc.ok, tc.detail, tc.fix)
			}
		})
	}
}

// TestDoctorOnComponents runs the whole diagnosis on the fake server
// link: logged in, no direct listener, and a direct check for each
// online contact that says why there is no path: no pinned key yet, a
// key not trusted, or no address known.
func TestDoctorOnComponents(t *testing.T) {
	u := newUnitDaemon(t)
	ctx := context.Background()
	u.roster.Load(history.Roster{Friends: []history.RosterFriend{{Username: "carol"}, {Username: "dave"}, {Username: "erin"}}})
	for _, f := range []string{"carol", "dave", "erin"} {
		u.roster.SetPresence(wire.Presence{Username: f, Status: wire.StatusOnline})
	}
	if _, err := u.db.PinKey(ctx, "dave", u.carol.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	_, other, _ := ed25519.GenerateKey(nil)
	if _, err := u.db.PinKey(ctx, "erin", other.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	_, changed, _ := ed25519.GenerateKey(nil)
	if _, err := u.db.PinKey(ctx, "erin", changed.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}

	diag, err := u.Doctor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]api.Check{}
	for _, c := range diag.Checks {
		checks[c.Name] = c
	}
	want := map[string]string{
		"server":       "connected to 127.0.0.1:7000",
		"login":        "logged in as bob",
		"udp port":     "no direct listener yet",
		"direct carol": "no pinned key for carol",
		"direct dave":  "no address of their daemon is known",
		"direct erin":  "identity key changed",
	}
	for name, detail := range want {
		c, ok := checks[name]
		if !ok || !strings.Contains(c.Detail, detail) {
			t.Errorf("check %q = %+v (present %v); want detail with %q", name, c, ok, detail)
		}
	}
	for _, name := range []string{"direct carol", "direct dave", "direct erin", "udp port"} {
		if c := checks[name]; c.OK || c.Fix == "" {
			t.Errorf("check %q passed or has no fix: %+v", name, c)
		}
	}
	if !checks["server"].OK || !checks["login"].OK || checks["login"].Warn {
		t.Errorf("server or login check: %+v, %+v", checks["server"], checks["login"])
	}

	u.fake.setSession(false)
	diag, _ = u.Doctor(ctx)
	for _, c := range diag.Checks {
		if c.Name == "login" && (!c.Warn || !strings.Contains(c.Detail, "resumes when the server is back")) {
			t.Errorf("login with the session down: %+v", c)
		}
	}
}
