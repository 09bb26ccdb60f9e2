package webui

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// ContentSecurityPolicy is sent with every reply: scripts, styles, fonts
// and connections only from the app itself (no inline script, no eval),
// images also from blob: and data: URLs the app makes, no plugins, no
// framing, forms only to the app.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' blob: data:; media-src 'self' blob:; font-src 'self'; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// guard admits a request only if it is addressed to the app by one of
// its own names and, when a browser says where it comes from, it comes
// from the app itself.
//
// The Host check defeats DNS rebinding: a page on evil.example whose name
// is made to resolve to 127.0.0.1 still sends "Host: evil.example". The
// Origin and Sec-Fetch-Site checks defeat cross-site request forgery,
// including from other loopback ports: cookies do not keep ports apart,
// and 127.0.0.1:other is "same-site" to the browser.
type guard struct {
	hosts   map[string]bool // allowed Host headers, lower case
	origins map[string]bool // allowed Origin headers
}

// newGuard makes the guard for an app listening on addr, a loopback
// address: the app may be called by that address or by localhost, on the
// same port.
func newGuard(addr *net.TCPAddr) *guard {
	port := strconv.Itoa(addr.Port)
	g := &guard{hosts: make(map[string]bool), origins: make(map[string]bool)}
	names := []string{net.JoinHostPort(addr.IP.String(), port), net.JoinHostPort("localhost", port)}
	if addr.IP.To4() == nil {
		// An IPv6 listener: browsers write the host in brackets.
		names = append(names, net.JoinHostPort("::1", port))
	}
	for _, n := range names {
		g.hosts[n] = true
		g.origins["http://"+n] = true
	}
	return g
}

// check returns "" if r may proceed, else why it may not.
func (g *guard) check(r *http.Request) string {
	if !g.hosts[strings.ToLower(r.Host)] {
		return "wrong host"
	}
	origin := r.Header.Get("Origin")
	switch {
	case origin != "":
		if !g.origins[strings.ToLower(origin)] {
			return "foreign origin"
		}
	case !safeMethod(r.Method):
		// Browsers send Origin with every state-changing request; its
		// absence means a client we cannot vouch for.
		return "no origin on a state-changing request"
	}
	// Sec-Fetch-Site (sent by current browsers) catches cross-origin
	// reads that carry no Origin, such as an <img> or <script> pointing
	// here from another loopback port. "none" is a navigation the user
	// made: a typed URL or one opened by lanchat ui.
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return "cross-site request"
	}
	return ""
}

// safeMethod reports whether m is a method that changes nothing.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// setSecurityHeaders sets the headers every reply carries. The
// microphone is the app's own, for voice messages; no other page gets it.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(self), geolocation=(), payment=(), usb=()")
}
