package webui

import (
	"encoding/json"
	"net/http"
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
