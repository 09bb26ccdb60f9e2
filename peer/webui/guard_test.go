package webui

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGuard(t *testing.T) {
	g := newGuard(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242})
	tests := []struct {
		name, method, host, origin, fetchSite string
		refused                               bool
	}{
		{name: "own address", method: "GET", host: "127.0.0.1:4242"},
		{name: "localhost", method: "GET", host: "localhost:4242"},
		{name: "localhost upper case", method: "GET", host: "LOCALHOST:4242"},
		{name: "same-origin post", method: "POST", host: "127.0.0.1:4242", origin: "http://127.0.0.1:4242", fetchSite: "same-origin"},
		{name: "post from localhost origin", method: "POST", host: "localhost:4242", origin: "http://localhost:4242"},
		{name: "navigation typed by the user", method: "GET", host: "127.0.0.1:4242", fetchSite: "none"},

		{name: "rebound name", method: "GET", host: "evil.example:4242", refused: true},
		{name: "rebound name without port", method: "GET", host: "evil.example", refused: true},
		{name: "own address without port", method: "GET", host: "127.0.0.1", refused: true},
		{name: "other port", method: "GET", host: "127.0.0.1:4243", refused: true},
		{name: "other loopback address", method: "GET", host: "127.0.0.2:4242", refused: true},
		{name: "localhost subdomain", method: "GET", host: "a.localhost:4242", refused: true},
		{name: "empty host", method: "GET", host: "", refused: true},

		{name: "foreign origin post", method: "POST", host: "127.0.0.1:4242", origin: "http://evil.example", refused: true},
		{name: "other loopback port origin", method: "POST", host: "127.0.0.1:4242", origin: "http://127.0.0.1:9999", refused: true},
		{name: "null origin", method: "POST", host: "127.0.0.1:4242", origin: "null", refused: true},
		{name: "https origin", method: "POST", host: "127.0.0.1:4242", origin: "https://127.0.0.1:4242", refused: true},
		{name: "post without origin", method: "POST", host: "127.0.0.1:4242", refused: true},
		{name: "delete without origin", method: "DELETE", host: "127.0.0.1:4242", refused: true},
		{name: "patch without origin", method: "PATCH", host: "127.0.0.1:4242", refused: true},
		{name: "foreign origin get", method: "GET", host: "127.0.0.1:4242", origin: "http://evil.example", refused: true},
		{name: "cross-site read", method: "GET", host: "127.0.0.1:4242", fetchSite: "cross-site", refused: true},
		{name: "same-site read from another port", method: "GET", host: "127.0.0.1:4242", fetchSite: "same-site", refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/api/v1/status", nil)
			r.Host = tt.host
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if tt.fetchSite != "" {
				r.Header.Set("Sec-Fetch-Site", tt.fetchSite)
			}
			why := g.check(r)
			if tt.refused && why == "" {
				t.Errorf("admitted; want refused")
			}
			if !tt.refused && why != "" {
				t.Errorf("refused (%s); want admitted", why)
			}
		})
	}
}

func TestGuardIPv6(t *testing.T) {
	g := newGuard(&net.TCPAddr{IP: net.IPv6loopback, Port: 4242})
	for _, host := range []string{"[::1]:4242", "localhost:4242"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = host
		if why := g.check(r); why != "" {
			t.Errorf("Host %s refused: %s", host, why)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Host = "127.0.0.1:4242"
	if g.check(r) == "" {
		t.Errorf("Host 127.0.0.1 admitted by an app on [::1]")
	}
}
