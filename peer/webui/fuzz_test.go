package webui

import (
	"net"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzGuard feeds the guard arbitrary Host, Origin, method and
// Sec-Fetch-Site values: it must never panic, and must admit a request
// only when its Host is one of the app's names and any Origin is the
// app's own.
func FuzzGuard(f *testing.F) {
	f.Add("127.0.0.1:4242", "", "GET", "")
	f.Add("localhost:4242", "http://localhost:4242", "POST", "same-origin")
	f.Add("evil.example:4242", "http://evil.example", "POST", "cross-site")
	f.Add("127.0.0.1:4242", "null", "DELETE", "same-site")
	f.Add("LOCALHOST:4242", "HTTP://127.0.0.1:4242", "PATCH", "none")
	g := newGuard(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242})
	f.Fuzz(func(t *testing.T, host, origin, method, site string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Method, r.Host = method, host
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if site != "" {
			r.Header.Set("Sec-Fetch-Site", site)
		}
		if g.check(r) != "" {
			return
		}
		if h := strings.ToLower(host); h != "127.0.0.1:4242" && h != "localhost:4242" {
			t.Fatalf("admitted Host %q", host)
		}
		if o := strings.ToLower(r.Header.Get("Origin")); o != "" && o != "http://127.0.0.1:4242" && o != "http://localhost:4242" {
			t.Fatalf("admitted Origin %q", origin)
		}
		if r.Header.Get("Origin") == "" && !safeMethod(method) {
			t.Fatalf("admitted %s without Origin", method)
		}
	})
}
