package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests check how the daemon serves the web app (peer/webui)
// against the real lanchat daemon process; webapp_harness_test.go drives
// the app in a browser.

var reWebApp = regexp.MustCompile(`web app on (http://\S+/)`)

// noRedirects is an HTTP client that shows a redirect instead of
// following it, and keeps no cookies.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

// startWebUser starts a server and one user's daemon with the web app on.
func startWebUser(t *testing.T, extra ...string) *user {
	t.Helper()
	srv := startServer(t)
	u := newUser(t, srv, "alice")
	u.extra = extra
	u.start(t)
	t.Cleanup(func() { u.stop(t) })
	return u
}

// appURL returns the app's address as the daemon printed it.
func (u *user) appURL(t *testing.T) *url.URL {
	t.Helper()
	s := u.daemon.waitOutput(t, reWebApp, 20*time.Second)
	base, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return base
}

// webSession signs in with a fresh token and returns the session cookie.
func (u *user) webSession(t *testing.T) *http.Cookie {
	t.Helper()
	resp, err := noRedirects.Get(u.signInURL(t))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("sign-in: %s with %d cookies; want 303 with a session cookie", resp.Status, len(resp.Cookies()))
	}
	return resp.Cookies()[0]
}

// webRequest sends one request to the app; hdr may set Host.
func webRequest(t *testing.T, method, u string, c *http.Cookie, hdr map[string]string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		req.AddCookie(c)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp
}

func TestWebappRefusesStrangers(t *testing.T) {
	u := startWebUser(t)
	base := u.appURL(t)
	origin := "http://" + base.Host
	session := u.webSession(t)
	port := base.Port()
	logout := base.String() + "api/v1/logout"
	status := base.String() + "api/v1/status"

	// The session works: the same request with it passes every lock.
	if resp := webRequest(t, "GET", status, session, nil, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/status with the session: %s; want 200", resp.Status)
	}
	if resp := webRequest(t, "POST", base.String()+"api/v1/profile", session, map[string]string{"Origin": origin}, "{}"); resp.StatusCode == http.StatusForbidden {
		t.Fatalf("same-origin POST with the session refused")
	}

	for _, tt := range []struct {
		name, method, url string
		cookie            *http.Cookie
		hdr               map[string]string
	}{
		{"page without the token", "GET", base.String(), nil, nil},
		{"API without the token", "GET", status, nil, nil},
		{"events without the token", "GET", base.String() + "api/v1/events", nil, nil},
		{"state change without the token", "POST", logout, nil, map[string]string{"Origin": origin}},
		{"forged session cookie", "GET", status, &http.Cookie{Name: session.Name, Value: "AAAA" + session.Value[4:]}, nil},
		{"foreign Host (DNS rebinding)", "GET", status, session, map[string]string{"Host": "rebind.example:" + port}},
		{"foreign Host on the page", "GET", base.String(), session, map[string]string{"Host": "rebind.example:" + port}},
		{"foreign Origin (CSRF)", "POST", logout, session, map[string]string{"Origin": "http://evil.example"}},
		{"Origin of another loopback port", "POST", logout, session, map[string]string{"Origin": "http://127.0.0.1:1"}},
		{"state change without Origin", "POST", logout, session, nil},
		{"cross-site read", "GET", status, session, map[string]string{"Sec-Fetch-Site": "cross-site"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := webRequest(t, tt.method, tt.url, tt.cookie, tt.hdr, "{}")
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: %s; want 403", tt.method, tt.url, resp.Status)
			}
			if resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("refusal without a Content-Security-Policy")
			}
		})
	}
	// Refused requests changed nothing: the session still works.
	if resp := webRequest(t, "GET", status, session, nil, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the refusals: %s; want 200", resp.Status)
	}
}

func TestWebappTokenIsOneTime(t *testing.T) {
	u := startWebUser(t)
	signIn := u.signInURL(t)
	resp := webRequest(t, "GET", signIn, nil, nil, "")
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("first use: %s with %d cookies; want 303 and a cookie", resp.Status, len(resp.Cookies()))
	}
	c := resp.Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("cookie %s: HttpOnly %v, SameSite %v, Path %q; want HttpOnly, Strict, /", c.Name, c.HttpOnly, c.SameSite, c.Path)
	}
	if raw := resp.Header.Get("Set-Cookie"); !strings.Contains(raw, "HttpOnly") || !strings.Contains(raw, "SameSite=Strict") {
		t.Errorf("Set-Cookie %q lacks HttpOnly or SameSite=Strict", raw)
	}
	resp = webRequest(t, "GET", signIn, nil, nil, "")
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Fatalf("second use: %s with %d cookies; want 403 and none", resp.Status, len(resp.Cookies()))
	}
	// Each lanchat ui gets a new token.
	if again := u.signInURL(t); again == signIn {
		t.Fatalf("lanchat ui printed the spent URL again")
	}
}

func TestWebappHeaders(t *testing.T) {
	u := startWebUser(t)
	base := u.appURL(t)
	session := u.webSession(t)
	for _, path := range []string{"", "api/v1/status", "nonexistent"} {
		resp := webRequest(t, "GET", base.String()+path, session, nil, "")
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "img-src 'self' blob: data:"} {
			if !strings.Contains(csp, want) {
				t.Errorf("/%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("/%s: CSP %q allows inline script or eval", path, csp)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("/%s: X-Content-Type-Options %q", path, got)
		}
		if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("/%s: Referrer-Policy %q", path, got)
		}
	}
}

func TestWebappEventStream(t *testing.T) {
	srv := startServer(t)
	u := newUser(t, srv, "alice")
	u.start(t)
	t.Cleanup(func() { u.stop(t) })
	u.register(t)
	base := u.appURL(t)
	session := u.webSession(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base.String()+"api/v1/events", nil)
	req.AddCookie(session)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET /api/v1/events: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	// The stream is open; an event published now must come through it.
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Stopping the server makes the daemon publish a "server" event.
	srv.proc.signal(syscall.SIGTERM)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the event stream ended before any event")
			}
			if l == "event: server" {
				return
			}
		case <-ctx.Done():
			t.Fatalf("no event through the app's /api/v1/events within 20s")
		}
	}
}

func TestWebappOff(t *testing.T) {
	u := startWebUser(t, "--no-ui")
	if strings.Contains(u.daemon.output(), "web app on") {
		t.Fatalf("daemon with --no-ui says it serves the app:\n%s", u.daemon.output())
	}
	if ports := tcpListeners(t, u.daemon.cmd.Process.Pid); len(ports) != 0 {
		t.Fatalf("daemon with --no-ui listens on TCP ports %v", ports)
	}
	if errs := u.fails(t, "ui", "--print"); !strings.Contains(errs, "--no-ui") {
		t.Fatalf("lanchat ui against a --no-ui daemon: %q; want it to name --no-ui", errs)
	}
}

func TestWebappPortRemembered(t *testing.T) {
	u := startWebUser(t)
	first := u.appURL(t).Port()
	if ports := tcpListeners(t, u.daemon.cmd.Process.Pid); len(ports) != 1 || strconv.Itoa(ports[0]) != first {
		t.Fatalf("daemon listens on TCP ports %v; want only the app's %s", ports, first)
	}
	u.stop(t)
	u.start(t)
	t.Cleanup(func() { u.stop(t) })
	if again := u.appURL(t).Port(); again != first {
		t.Fatalf("after a restart the app is on port %s; want %s as before", again, first)
	}
	// The old session ended with the daemon; a new token works.
	u.webSession(t)
}

// tcpListeners returns the TCP ports that process pid listens on (Linux:
// its socket descriptors matched against /proc/net/tcp and tcp6).
func tcpListeners(t *testing.T, pid int) []int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("cannot list the daemon's descriptors (%v): needs Linux /proc", err)
	}
	inodes := make(map[string]bool)
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var ports []int
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			// sl local_address rem_address st ... inode (field 9)
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
				continue
			}
			i := strings.LastIndexByte(f[1], ':')
			p, err := strconv.ParseInt(f[1][i+1:], 16, 32)
			if err == nil {
				ports = append(ports, int(p))
			}
		}
	}
	return ports
}

// TestWebappSignInSmoke signs in through the URL lanchat ui --print gives,
// in a real Chromium, and sees the app load, with no CSP violation, no
// uncaught exception and no request to another host.
func TestWebappSignInSmoke(t *testing.T) {
	_, alice, _ := startWebPair(t)
	a := openApp(t, alice)
	a.waitFor(t, byRole("list", "Conversations"), 15*time.Second)
	if f := a.appFailures(t); len(f) != 0 {
		t.Fatalf("the page misbehaved:\n%s", strings.Join(f, "\n"))
	}
	// The spent URL does not sign in a second browser.
	if resp := webRequest(t, "GET", alice.signInURL(t), nil, nil, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a fresh URL after the browser's: %s", resp.Status)
	}
}
