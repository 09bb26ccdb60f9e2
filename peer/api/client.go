package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// Reply size limits on the client side.
const (
	// maxReply bounds a successful reply (a long history is the largest).
	maxReply = 64 << 20
	// maxErrorReply bounds a failed reply's body.
	maxErrorReply = 64 << 10
)

// baseURL is what requests are addressed to; the transport dials the
// socket whatever the host says.
const baseURL = "http://lanchat"

// Client talks to a daemon's local API over its Unix socket. It has one
// method per Service method, with the same arguments and results, and
// Events for the event stream. A failure the daemon reports is returned as
// the *Error it sent; when no daemon listens on the socket the error wraps
// ErrNoDaemon. A Client is safe for concurrent use.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient returns a client of the daemon listening on socketPath. It
// does not connect until the first call.
func NewClient(socketPath string) *Client {
	c := &Client{socket: socketPath}
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			conn, err := d.DialContext(ctx, "unix", socketPath)
			if err != nil && noListener(err) {
				return nil, fmt.Errorf("%w on %s", ErrNoDaemon, socketPath)
			}
			return conn, err
		},
		MaxIdleConns:       4,
		IdleConnTimeout:    idleTimeout / 2,
		DisableCompression: true,
	}
	c.http = &http.Client{
		Transport: tr,
		// The API never redirects; a redirect means a malformed path.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// SocketPath is the socket the client dials.
func (c *Client) SocketPath() string { return c.socket }

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Status describes the daemon.
func (c *Client) Status(ctx context.Context) (Status, error) {
	return call[Status](ctx, c, http.MethodGet, "/v1/status", nil)
}

// Register creates an account on the server and logs in.
func (c *Client) Register(ctx context.Context, req RegisterRequest) (Me, error) {
	return call[Me](ctx, c, http.MethodPost, "/v1/register", req)
}

// Login logs in to an existing account.
func (c *Client) Login(ctx context.Context, req LoginRequest) (Me, error) {
	return call[Me](ctx, c, http.MethodPost, "/v1/login", req)
}

// Logout ends the session.
func (c *Client) Logout(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/logout", nil, nil)
}

// Focus tells the daemon which conversation this client shows.
func (c *Client) Focus(ctx context.Context, req FocusRequest) error {
	return c.do(ctx, http.MethodPost, "/v1/focus", req, nil)
}

// Passwd changes the password.
func (c *Client) Passwd(ctx context.Context, req PasswdRequest) error {
	return c.do(ctx, http.MethodPost, "/v1/passwd", req, nil)
}

// SetProfile changes the profile fields that are set in req.
func (c *Client) SetProfile(ctx context.Context, req ProfileRequest) (Me, error) {
	return call[Me](ctx, c, http.MethodPatch, "/v1/profile", req)
}

// SearchUsers searches the server's user directory.
func (c *Client) SearchUsers(ctx context.Context, query string, limit int) ([]User, error) {
	return call[[]User](ctx, c, http.MethodGet, "/v1/users"+queryString("q", query, "limit", limitString(limit)), nil)
}

// Friends lists friends with presence.
func (c *Client) Friends(ctx context.Context) ([]Friend, error) {
	return call[[]Friend](ctx, c, http.MethodGet, "/v1/friends", nil)
}

// FriendRequests lists pending friend requests both ways.
func (c *Client) FriendRequests(ctx context.Context) (FriendRequests, error) {
	return call[FriendRequests](ctx, c, http.MethodGet, "/v1/friends/requests", nil)
}

// Friend runs a friend action (FriendAdd, FriendAccept, FriendReject or
// FriendRemove) on user.
func (c *Client) Friend(ctx context.Context, action, user string) (FriendResult, error) {
	p, err := path("/v1/friends/{}/{}", user, action)
	if err != nil {
		return FriendResult{}, err
	}
	return call[FriendResult](ctx, c, http.MethodPost, p, nil)
}

// Send sends a text message to a user or a #group.
func (c *Client) Send(ctx context.Context, req SendRequest) (SendResult, error) {
	return call[SendResult](ctx, c, http.MethodPost, "/v1/messages", req)
}

// History returns a conversation's last messages, oldest first; with
// before (a message id), the ones just older than that message.
func (c *Client) History(ctx context.Context, target string, limit int, search, before string) ([]Message, error) {
	p, err := path("/v1/conversations/{}/messages", target)
	if err != nil {
		return nil, err
	}
	return call[[]Message](ctx, c, http.MethodGet, p+queryString("limit", limitString(limit), "search", search, "before", before), nil)
}

// Search searches every conversation, newest first.
func (c *Client) Search(ctx context.Context, text string, limit int) ([]Message, error) {
	return call[[]Message](ctx, c, http.MethodGet, "/v1/search"+queryString("q", text, "limit", limitString(limit)), nil)
}

// Recent lists conversations by last activity.
func (c *Client) Recent(ctx context.Context) ([]Conversation, error) {
	return call[[]Conversation](ctx, c, http.MethodGet, "/v1/recent", nil)
}

// Groups lists the user's groups and pending invitations.
func (c *Client) Groups(ctx context.Context) (Groups, error) {
	return call[Groups](ctx, c, http.MethodGet, "/v1/groups", nil)
}

// Group runs the group action req.Action.
func (c *Client) Group(ctx context.Context, req GroupRequest) (Group, error) {
	p, err := path("/v1/groups/{}", req.Action)
	if err != nil {
		return Group{}, err
	}
	return call[Group](ctx, c, http.MethodPost, p, req)
}

// GroupMembers lists a group's members.
func (c *Client) GroupMembers(ctx context.Context, name string) (GroupMembers, error) {
	p, err := path("/v1/groups/{}/members", name)
	if err != nil {
		return GroupMembers{}, err
	}
	return call[GroupMembers](ctx, c, http.MethodGet, p, nil)
}

// Verify returns the safety number shared with user and the fingerprint
// of the key it is for.
func (c *Client) Verify(ctx context.Context, user string) (Verification, error) {
	p, err := path("/v1/verify/{}", user)
	if err != nil {
		return Verification{}, err
	}
	return call[Verification](ctx, c, http.MethodGet, p, nil)
}

// Confirm marks user verified if req.Fingerprint is still their pinned
// key's.
func (c *Client) Confirm(ctx context.Context, user string, req KeyRequest) (Verification, error) {
	p, err := path("/v1/verify/{}", user)
	if err != nil {
		return Verification{}, err
	}
	return call[Verification](ctx, c, http.MethodPost, p, req)
}

// Trust accepts user's changed identity key if req.Fingerprint is still
// that key's.
func (c *Client) Trust(ctx context.Context, user string, req KeyRequest) (Contact, error) {
	p, err := path("/v1/trust/{}", user)
	if err != nil {
		return Contact{}, err
	}
	return call[Contact](ctx, c, http.MethodPost, p, req)
}

// call sends one request and decodes its reply as a T.
func call[T any](ctx context.Context, c *Client, method, target string, body any) (T, error) {
	var out T
	err := c.do(ctx, method, target, body, &out)
	return out, err
}

// do sends one request and decodes a 2xx reply into out (unless out is
// nil); any other reply becomes an error.
func (c *Client) do(ctx context.Context, method, target string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, baseURL+target, rd)
	if err != nil {
		return fmt.Errorf("make request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorReply))
		return decodeErrorReply(resp.StatusCode, b)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorReply))
		return nil
	}
	if err := decodeReply(io.LimitReader(resp.Body, maxReply), out); err != nil {
		return fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	return nil
}

// transportError turns a failed round trip into an error without the
// url.Error wrapping, which only repeats the made-up URL.
func (c *Client) transportError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if errors.Is(err, ErrNoDaemon) {
		return err
	}
	return fmt.Errorf("daemon on %s: %w", c.socket, err)
}

// decodeReply decodes a successful reply body into out.
func decodeReply(r io.Reader, out any) error {
	dec := json.NewDecoder(r)
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("decode reply: %w", err)
	}
	return nil
}

// decodeErrorReply turns a failed reply into the *Error it carries, or a
// plain error when the body is not the API's error object.
func decodeErrorReply(status int, body []byte) error {
	var rep errorReply
	if err := json.Unmarshal(body, &rep); err == nil && rep.Error != nil && rep.Error.Code != "" {
		if rep.Error.Message == "" {
			rep.Error.Message = rep.Error.Code
		}
		return rep.Error
	}
	text := string(bytes.TrimSpace(body))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	if text == "" {
		text = http.StatusText(status)
	}
	return fmt.Errorf("daemon replied %d: %s", status, strconv.Quote(text))
}

// path fills each {} in pattern with the next argument, path-escaped (a
// "#group" becomes %23group). An empty argument is refused: it would make
// a different route.
func path(pattern string, args ...string) (string, error) {
	var b []byte
	i := 0
	for j := 0; j < len(pattern); j++ {
		if pattern[j] == '{' && j+1 < len(pattern) && pattern[j+1] == '}' {
			if args[i] == "" {
				return "", Errorf(CodeInvalid, "a name in %s is empty", pattern)
			}
			b = append(b, url.PathEscape(args[i])...)
			i++
			j++
			continue
		}
		b = append(b, pattern[j])
	}
	return string(b), nil
}

// queryString renders key, value pairs as "?k=v&…", leaving out empty
// values.
func queryString(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func limitString(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}
