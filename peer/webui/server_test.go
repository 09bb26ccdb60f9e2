package webui

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeAPI stands in for the local API: it echoes the path it was given
// and streams events on /v1/events.
func fakeAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"method":%q,"path":%q}`, r.Method, r.URL.Path)
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "event: hello\ndata: {}\n\n")
		http.NewResponseController(w).Flush()
		<-r.Context().Done() // stays open: the test must see the event before the end
	})
	return mux
}

// testApp runs a Server on a loopback port until the test ends.
type testApp struct {
	srv  *Server
	base string // http://127.0.0.1:port
	dir  string // uploads
}

func startApp(t *testing.T) *testApp {
	t.Helper()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, err := New(ln, Config{API: fakeAPI(), Uploads: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &testApp{srv: srv, base: strings.TrimSuffix(srv.URL(), "/"), dir: dir}
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// signIn spends a fresh token and returns the session cookie.
func (a *testApp) signIn(t *testing.T) *http.Cookie {
	t.Helper()
	resp, err := noRedirect.Get(a.srv.SignInURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %s, Location %q; want 303 to /", resp.Status, resp.Header.Get("Location"))
	}
	cs := resp.Cookies()
	if len(cs) != 1 {
		t.Fatalf("sign-in set %d cookies; want 1", len(cs))
	}
	return cs[0]
}

func (a *testApp) do(t *testing.T, method, path string, c *http.Cookie, hdr map[string]string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, a.base+path, body)
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
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCookieFlags(t *testing.T) {
	a := startApp(t)
	c := a.signIn(t)
	if !c.HttpOnly {
		t.Errorf("cookie is not HttpOnly")
	}
	if c.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie SameSite = %v; want Strict", c.SameSite)
	}
	if c.Path != "/" {
		t.Errorf("cookie Path = %q; want /", c.Path)
	}
	if c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Errorf("cookie outlives the browser session (Max-Age %d, Expires %v)", c.MaxAge, c.Expires)
	}
	if want := fmt.Sprintf("lanchat_%d", a.srv.Addr().Port); c.Name != want {
		t.Errorf("cookie name %q; want %q", c.Name, want)
	}
}

func TestSignInTokenWorksOnce(t *testing.T) {
	a := startApp(t)
	u := a.srv.SignInURL()
	resp, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first use: %s; want 303", resp.Status)
	}
	resp, err = noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Fatalf("second use: %s with %d cookies; want 403 and none", resp.Status, len(resp.Cookies()))
	}
	if body := readAll(t, resp); !strings.Contains(body, "lanchat ui") {
		t.Errorf("refusal %q does not say what to do", body)
	}
}

func TestRefusedWithoutSession(t *testing.T) {
	a := startApp(t)
	own := a.base
	bogus := &http.Cookie{Name: fmt.Sprintf("lanchat_%d", a.srv.Addr().Port), Value: newSecret()}
	for _, tt := range []struct {
		method, path string
		cookie       *http.Cookie
	}{
		{"GET", "/", nil},
		{"GET", "/index.html", nil},
		{"GET", "/api/v1/status", nil},
		{"GET", "/api/v1/events", nil},
		{"POST", "/api/v1/messages", nil},
		{"POST", "/upload?name=a", nil},
		{"GET", "/api/v1/status", bogus},
		{"GET", "/auth?token=" + url.QueryEscape(newSecret()), nil},
		{"GET", "/auth", nil},
	} {
		resp := a.do(t, tt.method, tt.path, tt.cookie, map[string]string{"Origin": own}, nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s: %s; want 403", tt.method, tt.path, resp.Status)
		}
	}
}

func TestRefusedForeignHostOrOrigin(t *testing.T) {
	a := startApp(t)
	c := a.signIn(t)
	port := a.srv.Addr().Port
	for _, tt := range []struct {
		method, path string
		hdr          map[string]string
	}{
		{"GET", "/", map[string]string{"Host": fmt.Sprintf("evil.example:%d", port)}},
		{"GET", "/api/v1/status", map[string]string{"Host": fmt.Sprintf("evil.example:%d", port)}},
		{"POST", "/api/v1/messages", map[string]string{"Origin": "http://evil.example"}},
		{"POST", "/api/v1/messages", map[string]string{"Origin": "http://127.0.0.1:1"}},
		{"POST", "/api/v1/messages", nil},
		{"POST", "/upload?name=a", map[string]string{"Origin": "http://evil.example"}},
		{"GET", "/api/v1/status", map[string]string{"Sec-Fetch-Site": "cross-site"}},
	} {
		resp := a.do(t, tt.method, tt.path, c, tt.hdr, strings.NewReader("{}"))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s %v: %s; want 403", tt.method, tt.path, tt.hdr, resp.Status)
		}
	}
	// A token is refused from a foreign host too, and stays unspent.
	u, _ := url.Parse(a.srv.SignInURL())
	resp := a.do(t, "GET", u.RequestURI(), nil, map[string]string{"Host": fmt.Sprintf("evil.example:%d", port)}, nil)
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("sign-in from a foreign host: %s with %d cookies; want 403 and none", resp.Status, len(resp.Cookies()))
	}
}

func TestSecurityHeaders(t *testing.T) {
	a := startApp(t)
	c := a.signIn(t)
	for _, tt := range []struct {
		path   string
		cookie *http.Cookie
	}{{"/", c}, {"/api/v1/status", c}, {"/", nil}, {"/nope", c}} {
		resp := a.do(t, "GET", tt.path, tt.cookie, nil, nil)
		h := resp.Header
		if got := h.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
			t.Errorf("%s: CSP %q", tt.path, got)
		}
		if !strings.Contains(ContentSecurityPolicy, "script-src 'self';") || strings.Contains(ContentSecurityPolicy, "unsafe") {
			t.Errorf("the CSP allows inline script")
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s %q; want %q", tt.path, k, got, want)
			}
		}
	}
}

func TestAppAndAPI(t *testing.T) {
	a := startApp(t)
	c := a.signIn(t)
	resp := a.do(t, "GET", "/", c, map[string]string{"Sec-Fetch-Site": "none"}, nil)
	if body := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(body, "<html") {
		t.Fatalf("GET /: %s %.80q", resp.Status, body)
	}
	resp = a.do(t, "POST", "/api/v1/messages", c, map[string]string{"Origin": a.base, "Sec-Fetch-Site": "same-origin"}, strings.NewReader("{}"))
	var got struct{ Method, Path string }
	if err := json.Unmarshal([]byte(readAll(t, resp)), &got); err != nil || got.Method != "POST" || got.Path != "/v1/messages" {
		t.Fatalf("API through /api: %s %+v %v; want POST /v1/messages", resp.Status, got, err)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("API reply Cache-Control %q; want no-store", cc)
	}
	// The session also works by the name localhost.
	resp = a.do(t, "GET", "/api/v1/status", c, map[string]string{"Host": fmt.Sprintf("localhost:%d", a.srv.Addr().Port)}, nil)
	if resp.StatusCode != 200 {
		t.Errorf("via localhost: %s", resp.Status)
	}
}

func TestEventStreamThroughApp(t *testing.T) {
	a := startApp(t)
	c := a.signIn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", a.base+"/api/v1/events", nil)
	req.AddCookie(c)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	// The stream is still open: the event arrives only if it was flushed.
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "event: hello\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
}

func TestUpload(t *testing.T) {
	a := startApp(t)
	c := a.signIn(t)
	hdr := map[string]string{"Origin": a.base}
	resp := a.do(t, "POST", "/upload?name="+url.QueryEscape("../../pass:wd"), c, hdr, strings.NewReader("hello"))
	var r uploadReply
	if err := json.Unmarshal([]byte(readAll(t, resp)), &r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("upload: %s %v", resp.Status, err)
	}
	if !strings.HasPrefix(r.Path, a.dir+string(filepath.Separator)) || filepath.Base(r.Path) != "pass_wd" || r.Root != r.Path {
		t.Fatalf("stored at %q (root %q); want pass_wd under %s", r.Path, r.Root, a.dir)
	}
	if b, err := os.ReadFile(r.Path); err != nil || string(b) != "hello" {
		t.Fatalf("stored %q, %v", b, err)
	}
	// A folder, file by file, in one batch.
	for _, name := range []string{"photos/a.jpg", "photos/2024/b.jpg"} {
		resp := a.do(t, "POST", "/upload?batch="+r.Batch+"&name="+url.QueryEscape(name), c, hdr, strings.NewReader(name))
		var f uploadReply
		if err := json.Unmarshal([]byte(readAll(t, resp)), &f); err != nil || resp.StatusCode != 200 {
			t.Fatalf("upload %s: %s %v", name, resp.Status, err)
		}
		if f.Root != filepath.Join(filepath.Dir(r.Path), "photos") {
			t.Errorf("%s: root %q", name, f.Root)
		}
	}
	for _, tt := range []struct {
		query string
		want  int
	}{
		{"batch=" + r.Batch + "&name=photos/a.jpg", http.StatusConflict},
		{"batch=../x&name=a", http.StatusBadRequest},
		{"name=", http.StatusBadRequest},
		{"name=..%2F..", http.StatusBadRequest},
	} {
		resp := a.do(t, "POST", "/upload?"+tt.query, c, hdr, strings.NewReader("x"))
		if resp.StatusCode != tt.want {
			t.Errorf("upload ?%s: %s; want %d", tt.query, resp.Status, tt.want)
		}
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.1.2.3:0", "example.com:0", "[::]:0", "nonsense"} {
		if ln, err := Listen(addr); err == nil {
			ln.Close()
			t.Errorf("Listen(%q) succeeded; want refused", addr)
		}
	}
	ln, err := Listen("localhost:0")
	if err != nil {
		t.Fatalf("Listen(localhost:0): %v", err)
	}
	ln.Close()
}
