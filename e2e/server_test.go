package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// TestServerOperator walks through what an operator does: first start
// makes a certificate, fingerprint prints it again, metrics and health
// answer, users are listed, disabled (signing the user out of the running
// server) and enabled, and SIGTERM tells connected peers before exiting.
func TestServerOperator(t *testing.T) {
	data := filepath.Join(t.TempDir(), "server")
	metricsAddr := freeAddr(t)
	srv := startRendezvous(t, "127.0.0.1:0", data, "--metrics", metricsAddr)
	if !strings.Contains(srv.output(), "created a self-signed certificate") {
		t.Errorf("first start did not say it created a certificate:\n%s", srv.output())
	}
	for _, f := range []string{"server.key", "rendezvous.db"} {
		st, err := os.Stat(filepath.Join(data, f))
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s has mode %v, want no group/other access", f, mode)
		}
	}

	out, code := run(t, "rendezvous", "fingerprint", "--data", data)
	if code != 0 || strings.TrimSpace(out) != srv.fp {
		t.Fatalf("fingerprint printed %q (exit %d), server said %s", out, code, srv.fp)
	}

	alice, bob := newPeer(t, "alice"), newPeer(t, "bob")
	alice.register(t, srv)
	bob.register(t, srv)
	befriend(t, alice, bob)

	// Metrics and health.
	waitHTTP(t, "http://"+metricsAddr+"/healthz", "ok")
	body := waitHTTP(t, "http://"+metricsAddr+"/metrics", "lanchat_")
	for _, re := range []string{
		`lanchat_request_duration_seconds_bucket\{.*op="friend.accept"`,
		`lanchat_rendezvous_\w*login\w*`,
		`lanchat_rendezvous_\w*connection\w*`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("metrics lack %s", re)
		}
	}

	// users list, as text and JSON.
	out, code = run(t, "rendezvous", "users", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "alice") || !strings.Contains(out, "bob") {
		t.Fatalf("users list (exit %d):\n%s", code, out)
	}
	out, _ = run(t, "rendezvous", "users", "list", "--data", data, "--json")
	var rows []struct {
		Username string `json:"username"`
		Disabled bool   `json:"disabled"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("users list --json: %v\n%s", err, out)
	}

	// Disabling bob signs him out of the running server and stops logins.
	out, code = run(t, "rendezvous", "users", "disable", "--data", data, "bob")
	if code != 0 {
		t.Fatalf("disable: exit %d: %s", code, out)
	}
	ev := waitEventOp(t, bob, wire.EvSignedOut, 5*time.Second)
	var so wire.SignedOutEvent
	json.Unmarshal(ev.Body, &so)
	if so.Reason != wire.SignedOutDisabled {
		t.Errorf("signed_out reason %q", so.Reason)
	}
	bob.connect(t, srv)
	if err := bob.try(wire.OpLogin, wire.LoginRequest{Username: "bob", Password: bob.password}, nil); !isCode(err, wire.CodeAccountDisabled) {
		t.Fatalf("login of disabled bob: %v", err)
	}
	if _, code := run(t, "rendezvous", "users", "disable", "--data", data, "nobody"); code == 0 {
		t.Error("disabling an unknown user succeeded")
	}
	run(t, "rendezvous", "users", "enable", "--data", data, "bob")
	bob.call(t, wire.OpLogin, wire.LoginRequest{Username: "bob", Password: bob.password}, nil)

	// SIGTERM: connected peers hear about it, the process exits 0.
	srv.signal(syscall.SIGTERM)
	waitEventOp(t, alice, wire.EvShutdown, 10*time.Second)
	if code := srv.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("server exited %d after SIGTERM", code)
	}

	// A restart keeps the certificate.
	srv2 := startRendezvous(t, "127.0.0.1:0", data)
	if srv2.fp != srv.fp {
		t.Errorf("fingerprint changed across restart: %s → %s", srv.fp, srv2.fp)
	}
	if strings.Contains(srv2.output(), "created a self-signed certificate") {
		t.Error("restart made a new certificate")
	}
}

// TestServerBadCommandLines checks that mistakes get a clear message and a
// usage exit code.
func TestServerBadCommandLines(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"serve"},
		{"serve", "--data", t.TempDir(), "--tls-cert", "x.pem"},
		{"bogus"},
		{"users"},
		{"users", "list"},
	} {
		out, code := run(t, "rendezvous", args...)
		if code != 2 {
			t.Errorf("rendezvous %v: exit %d, want 2\n%s", args, code, out)
		}
		if strings.TrimSpace(out) == "" {
			t.Errorf("rendezvous %v printed nothing", args)
		}
	}
	out, code := run(t, "rendezvous", "serve", "--help")
	if code != 0 || !strings.Contains(out, "Example") {
		t.Errorf("serve --help: exit %d\n%s", code, out)
	}
}

func waitHTTP(t *testing.T, url, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
			if resp.StatusCode == 200 && strings.Contains(string(b), want) {
				return string(b)
			}
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: want 200 with %q, last: %.300s", url, want, last)
	return ""
}

func waitEventOp(t *testing.T, p *peer, op string, timeout time.Duration) *wire.Frame {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case f, ok := <-p.c.Events():
			if !ok {
				t.Fatalf("%s: connection closed before %s: %v", p.name, op, p.c.Err())
			}
			if f.Op == op {
				return f
			}
		case <-deadline:
			t.Fatalf("%s: no %s event within %v", p.name, op, timeout)
		}
	}
}
