// Package webui serves the lanchat web app on a loopback port beside the
// daemon's local API. It holds no business logic: it serves the app's
// embedded files and passes /api/... to the same API handler the CLI
// reaches over the Unix socket (docs/api.md), behind three locks: a
// session cookie that only a one-time token from lanchat ui opens, a Host
// check against DNS rebinding, and Origin checks against cross-site
// requests. docs/architecture.md describes the design.
package webui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"
)

// DefaultAddr is where the app listens unless told otherwise: a loopback
// port chosen on first start.
const DefaultAddr = "127.0.0.1:0"

// APIPrefix is where the app reaches the local API: /api/v1/status is the
// API's /v1/status.
const APIPrefix = "/api"

// Server timeouts. There is no write timeout: the event stream stays open.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 5 * time.Second
)

// Config says what a Server serves.
type Config struct {
	// API is the local API's handler, routes /v1/...
	API http.Handler
	// Uploads is the directory for files the browser sends (see
	// UploadRoute); "" turns uploads off.
	Uploads string
	// Logger receives refusals and failures; never tokens or cookies.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is the web app on one loopback listener.
type Server struct {
	ln       net.Listener
	addr     *net.TCPAddr
	guard    *guard
	sessions *sessions
	cookie   string
	api      http.Handler
	assets   http.Handler
	uploads  *uploads // nil when uploads are off
	log      *slog.Logger
}

// Listen opens a TCP listener for the app on addr, which must be a
// loopback address (127.0.0.0/8, ::1) or localhost: the app is for the
// user at this machine only. Port 0 picks a free port.
func Listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("web app address %q: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("web app address %q: the app serves loopback only (127.0.0.1, ::1 or localhost)", addr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), port))
	if err != nil {
		return nil, fmt.Errorf("web app: %w", err)
	}
	return ln, nil
}

// New makes the app's server on ln, a listener from Listen.
func New(ln net.Listener, cfg Config) (*Server, error) {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.IsLoopback() {
		return nil, fmt.Errorf("web app: %s is not a loopback TCP address", ln.Addr())
	}
	if cfg.API == nil {
		return nil, errors.New("web app: no API handler")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var up *uploads
	if cfg.Uploads != "" {
		up = &uploads{dir: cfg.Uploads, now: cfg.Now}
		if err := up.prune(); err != nil {
			cfg.Logger.Warn("web app uploads", "err", err)
		}
	}
	return &Server{
		uploads:  up,
		ln:       &ownerListener{Listener: ln, uid: os.Getuid(), check: socketOwnerCheck, log: cfg.Logger},
		addr:     addr,
		guard:    newGuard(addr),
		sessions: newSessions(cfg.Now),
		// Cookies do not keep ports apart: the port in the name lets two
		// users' (or two accounts') apps share one browser.
		cookie: "lanchat_" + strconv.Itoa(addr.Port),
		api:    http.StripPrefix(APIPrefix, cfg.API),
		assets: http.FileServerFS(Assets()),
		log:    cfg.Logger,
	}, nil
}

// Addr is the address the app listens on.
func (s *Server) Addr() *net.TCPAddr { return s.addr }

// URL is the app's address, without a token.
func (s *Server) URL() string {
	return "http://" + net.JoinHostPort(s.addr.IP.String(), strconv.Itoa(s.addr.Port)) + "/"
}

// SignInURL makes a one-time token and returns the URL that exchanges it
// for a session: the URL lanchat ui opens. It works once, for
// TokenLifetime.
func (s *Server) SignInURL() string {
	return s.URL() + "auth?token=" + url.QueryEscape(s.sessions.NewToken())
}

// Serve serves the app until ctx ends, then shuts down: open requests and
// event streams end with ctx.
func (s *Server) Serve(ctx context.Context) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web app on %s: %w", s.addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-errc
	return nil
}

// ServeHTTP checks every request, then routes it: /auth exchanges a
// token for a session; with a session, /api/... goes to the local API and
// anything else to the app's files.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if why := s.guard.check(r); why != "" {
		// The path may carry a token: log the reason only.
		s.log.Info("web app request refused", "reason", why, "method", r.Method)
		forbid(w, "This address does not serve lanchat to that page.")
		return
	}
	if r.URL.Path == "/auth" {
		s.signIn(w, r)
		return
	}
	if !s.hasSession(r) {
		forbid(w, "Not signed in: open the app with the command  lanchat ui")
		return
	}
	if r.URL.Path == APIPrefix || len(r.URL.Path) > len(APIPrefix) && r.URL.Path[:len(APIPrefix)+1] == APIPrefix+"/" {
		w.Header().Set("Cache-Control", "no-store")
		s.api.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == UploadRoute && s.uploads != nil {
		w.Header().Set("Cache-Control", "no-store")
		s.uploads.serve(w, r)
		return
	}
	if !safeMethod(r.Method) {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Assets change only with the binary: revalidate, but allow caching.
	w.Header().Set("Cache-Control", "no-cache")
	s.assets.ServeHTTP(w, r)
}

// signIn exchanges the token in the query for a session cookie and sends
// the browser to the app, so the token leaves the address bar.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	id, ok := s.sessions.Redeem(r.URL.Query().Get("token"))
	if !ok {
		if s.hasSession(r) {
			// A reload of a spent link in a signed-in browser.
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		s.log.Info("web app sign-in refused: unknown, spent or expired token")
		forbid(w, "This sign-in link was already used or has expired: run  lanchat ui  for a new one.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookie,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// hasSession reports whether r carries the cookie of an open session.
func (s *Server) hasSession(r *http.Request) bool {
	c, err := r.Cookie(s.cookie)
	return err == nil && s.sessions.Valid(c.Value)
}

// forbid answers 403 with a line of text for the person at the browser.
func forbid(w http.ResponseWriter, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, msg, http.StatusForbidden)
}
