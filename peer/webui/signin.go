package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/lanchat/lanchat/peer/api"
)

// SignInRoute is the route of the daemon's Unix-socket API that hands
// lanchat ui a fresh sign-in URL. Only the socket (mode 0600, in the
// user's 0700 data directory) serves it; the app's /api prefix does not.
const SignInRoute = "/v1/ui/signin"

// SignIn is the reply of POST /v1/ui/signin.
type SignIn struct {
	// URL is the app's address, without a token.
	URL string `json:"url"`
	// SignInURL opens the app once: its token is spent on first use and
	// expires after TokenLifetime.
	SignInURL string `json:"sign_in_url"`
}

// SignInHandler answers POST /v1/ui/signin on the daemon's socket with a
// new SignIn for s; with s nil (the app is off) it answers 404.
func SignInHandler(s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		if s == nil {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"code":"not_found","message":"the web app is off: the daemon runs with --no-ui"}}` + "\n"))
			return
		}
		body, _ := json.Marshal(SignIn{URL: s.URL(), SignInURL: s.SignInURL()})
		w.Write(append(body, '\n'))
	})
}

// FetchSignIn asks the daemon listening on socket for a new sign-in URL
// (POST /v1/ui/signin, docs/api.md): what lanchat ui opens. With no
// daemon there the error wraps api.ErrNoDaemon; a daemon with the app off
// answers an *api.Error.
func FetchSignIn(ctx context.Context, socket string) (SignIn, error) {
	var d net.Dialer
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			conn, err := d.DialContext(ctx, "unix", socket)
			if err != nil && (errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)) {
				return nil, fmt.Errorf("%w on %s", api.ErrNoDaemon, socket)
			}
			return conn, err
		},
	}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://lanchat"+SignInRoute, nil)
	if err != nil {
		return SignIn{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, api.ErrNoDaemon) {
			return SignIn{}, err
		}
		return SignIn{}, fmt.Errorf("ask the daemon for the web app: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return SignIn{}, fmt.Errorf("read the daemon's reply: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var reply struct {
			Error *api.Error `json:"error"`
		}
		if json.Unmarshal(body, &reply) == nil && reply.Error != nil {
			return SignIn{}, reply.Error
		}
		return SignIn{}, fmt.Errorf("the daemon answered %s", resp.Status)
	}
	var si SignIn
	if err := json.Unmarshal(body, &si); err != nil || si.SignInURL == "" {
		return SignIn{}, fmt.Errorf("the daemon's reply is not a sign-in URL")
	}
	return si, nil
}
