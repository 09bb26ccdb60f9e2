package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/api/apitest"
)

// rawClient is a plain HTTP client of the socket, for requests the
// api.Client would never send.
func rawClient(socket string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}}
}

// raw sends a request and returns the status and the decoded error body.
func raw(t *testing.T, d *daemon, method, path, body string) (int, *api.Error) {
	t.Helper()
	req, err := http.NewRequestWithContext(testContext(t), method, "http://lanchat"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rawClient(d.socket).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	var rep struct {
		Error *api.Error `json:"error"`
	}
	if err := json.Unmarshal(b, &rep); err != nil || rep.Error == nil {
		t.Fatalf("%s %s: body %q is not an error object (%v)", method, path, b, err)
	}
	return resp.StatusCode, rep.Error
}

func TestErrorMapping(t *testing.T) {
	svc := &apitest.Service{}
	d := startDaemon(t, svc)
	ctx := testContext(t)
	for _, code := range []string{
		api.CodeInvalid, api.CodeNotLoggedIn, api.CodeAuth, api.CodeForbidden, api.CodeNotFound,
		api.CodeConflict, api.CodeHeld, api.CodeKeyChanged, api.CodeLimit, api.CodeRateLimited, api.CodeUnavailable, api.CodeInternal,
	} {
		t.Run(code, func(t *testing.T) {
			sent := api.Errorf(code, "it failed: %s", code)
			svc.FriendsFunc = func(context.Context) ([]api.Friend, error) { return nil, fmt.Errorf("wrapped: %w", sent) }
			_, err := d.client.Friends(ctx)
			e := apiError(t, err, code)
			if e.Message != sent.Message {
				t.Errorf("message %q, want %q", e.Message, sent.Message)
			}
			status, _ := raw(t, d, "GET", "/v1/friends", "")
			if want := api.HTTPStatus(sent); status != want {
				t.Errorf("status %d, want %d", status, want)
			}
		})
	}
}

func TestInternalErrorHidden(t *testing.T) {
	svc := &apitest.Service{
		StatusFunc: func(context.Context) (api.Status, error) {
			return api.Status{}, errors.New("open /secret/path/db: disk on fire")
		},
	}
	d := startDaemon(t, svc)
	_, err := d.client.Status(testContext(t))
	e := apiError(t, err, api.CodeInternal)
	if strings.Contains(e.Message, "disk on fire") {
		t.Errorf("internal detail leaked to the client: %q", e.Message)
	}
	if !strings.Contains(d.log.String(), "disk on fire") {
		t.Errorf("internal error not logged; log:\n%s", d.log.String())
	}
}

func TestPasswordsNotLogged(t *testing.T) {
	svc := &apitest.Service{
		LoginFunc: func(context.Context, api.LoginRequest) (api.Me, error) {
			return api.Me{}, errors.New("boom")
		},
		RegisterFunc: func(context.Context, api.RegisterRequest) (api.Me, error) {
			return api.Me{}, api.Errorf(api.CodeConflict, "taken")
		},
	}
	d := startDaemon(t, svc)
	ctx := testContext(t)
	d.client.Login(ctx, api.LoginRequest{Username: "alice", Password: "hunter2-login"})
	d.client.Register(ctx, api.RegisterRequest{Username: "alice", Password: "hunter2-register"})
	raw(t, d, "POST", "/v1/login", `{"username":"a","password":"hunter2-bad","x":1}`)
	if log := d.log.String(); strings.Contains(log, "hunter2") {
		t.Errorf("a password reached the log:\n%s", log)
	}
}

// TestTrustNeedsFingerprint checks that trust and verify --confirm
// without the key the user compared reach no service method.
func TestTrustNeedsFingerprint(t *testing.T) {
	svc := &apitest.Service{
		TrustFunc: func(context.Context, string, api.KeyRequest) (api.Contact, error) {
			t.Error("Trust called without a fingerprint")
			return api.Contact{}, nil
		},
		ConfirmFunc: func(context.Context, string, api.KeyRequest) (api.Verification, error) {
			t.Error("Confirm called without a fingerprint")
			return api.Verification{}, nil
		},
	}
	d := startDaemon(t, svc)
	for _, path := range []string{"/v1/trust/bob", "/v1/verify/bob"} {
		for _, body := range []string{"", "{}", `{"fingerprint":""}`, `{"fingerprint":"ab","confirm":true}`} {
			status, e := raw(t, d, "POST", path, body)
			if status != http.StatusBadRequest || e.Code != api.CodeInvalid {
				t.Errorf("POST %s %q: %d %+v, want 400 invalid", path, body, status, e)
			}
		}
	}
}

func TestBadRequests(t *testing.T) {
	svc := &apitest.Service{
		LoginFunc: func(context.Context, api.LoginRequest) (api.Me, error) { return api.Me{Username: "alice"}, nil },
		SendFunc:  func(context.Context, api.SendRequest) (api.SendResult, error) { return api.SendResult{ID: "1"}, nil },
		GroupFunc: func(context.Context, api.GroupRequest) (api.Group, error) { return api.Group{}, nil },
		FriendFunc: func(context.Context, string, string) (api.FriendResult, error) {
			return api.FriendResult{}, nil
		},
		HistoryFunc: func(context.Context, string, int, string, string) ([]api.Message, error) { return nil, nil },
	}
	d := startDaemon(t, svc)

	big := `{"target":"bob","text":"` + strings.Repeat("x", api.MaxRequestBody) + `"}`
	tests := []struct {
		name         string
		method, path string
		body         string
		status       int
		code         string
	}{
		{"ok", "POST", "/v1/login", `{"username":"alice","password":"pw"}`, 200, ""},
		{"unknown field", "POST", "/v1/login", `{"username":"alice","password":"pw","admin":true}`, 400, api.CodeInvalid},
		{"not JSON", "POST", "/v1/login", `username=alice`, 400, api.CodeInvalid},
		{"empty body", "POST", "/v1/login", ``, 400, api.CodeInvalid},
		{"trailing data", "POST", "/v1/login", `{"username":"alice"} {}`, 400, api.CodeInvalid},
		{"wrong type", "POST", "/v1/messages", `{"target":"bob","text":5}`, 400, api.CodeInvalid},
		{"array", "POST", "/v1/messages", `[]`, 400, api.CodeInvalid},
		{"invalid UTF-8", "POST", "/v1/messages", "{\"target\":\"bob\",\"text\":\"\xff\xfe\"}", 400, api.CodeInvalid},
		{"too large", "POST", "/v1/messages", big, 413, api.CodeInvalid},
		{"max text fits", "POST", "/v1/messages", `{"target":"bob","text":"` + strings.Repeat("é", 32<<10) + `"}`, 200, ""},
		{"bad limit", "GET", "/v1/conversations/bob/messages?limit=ten", "", 400, api.CodeInvalid},
		{"negative limit", "GET", "/v1/conversations/bob/messages?limit=-1", "", 400, api.CodeInvalid},
		{"unknown friend action", "POST", "/v1/friends/bob/poke", "", 400, api.CodeInvalid},
		{"unknown group action", "POST", "/v1/groups/explode", `{"name":"team"}`, 400, api.CodeInvalid},
		{"group action mismatch", "POST", "/v1/groups/join", `{"action":"delete","name":"team"}`, 400, api.CodeInvalid},
		{"group action in body matches", "POST", "/v1/groups/join", `{"action":"join","name":"team"}`, 200, ""},
		{"no route", "GET", "/v1/nothing", "", 404, api.CodeNotFound},
		{"no version", "GET", "/status", "", 404, api.CodeNotFound},
		{"wrong method", "GET", "/v1/login", "", 405, api.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, e := raw(t, d, tt.method, tt.path, tt.body)
			if status != tt.status {
				t.Fatalf("status %d (%v), want %d", status, e, tt.status)
			}
			if tt.code != "" && e.Code != tt.code {
				t.Errorf("code %q (%s), want %q", e.Code, e.Message, tt.code)
			}
		})
	}
}

func TestClientRefusesEmptyNames(t *testing.T) {
	d := startDaemon(t, &apitest.Service{})
	ctx := testContext(t)
	_, err := d.client.Friend(ctx, api.FriendAdd, "")
	apiError(t, err, api.CodeInvalid)
	_, err = d.client.History(ctx, "", 0, "", "")
	apiError(t, err, api.CodeInvalid)
	_, err = d.client.Group(ctx, api.GroupRequest{Name: "team"})
	apiError(t, err, api.CodeInvalid)
}

func TestNoDaemon(t *testing.T) {
	dir := shortDir(t)
	ctx := testContext(t)

	// No socket file at all.
	c := api.NewClient(filepath.Join(dir, "daemon.sock"))
	if _, err := c.Status(ctx); !errors.Is(err, api.ErrNoDaemon) {
		t.Errorf("missing socket: %v, want ErrNoDaemon", err)
	}
	if _, err := c.Events(ctx); !errors.Is(err, api.ErrNoDaemon) {
		t.Errorf("missing socket, events: %v, want ErrNoDaemon", err)
	}

	// A socket file nobody listens on (a daemon that died).
	stale := filepath.Join(dir, "stale.sock")
	makeStaleSocket(t, stale)
	c = api.NewClient(stale)
	if _, err := c.Status(ctx); !errors.Is(err, api.ErrNoDaemon) {
		t.Errorf("stale socket: %v, want ErrNoDaemon", err)
	}
}

// makeStaleSocket leaves a socket file at path with no listener behind it.
func makeStaleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
