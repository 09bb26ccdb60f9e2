package daemon

import (
	"context"
	"strings"
	"sync"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/link"
)

// fakeLink stands in for the server link, as a mock control client stands
// in for the coordination server: it answers calls with handle, while it
// has a session, and records them.
type fakeLink struct {
	mu        sync.Mutex
	session   bool
	connected bool
	lastErr   error
	unconf    string // fingerprint of a server found on the LAN, not confirmed
	calls     []string
	// handle answers a call; nil answers every call with success.
	handle func(op string, req, resp any) error
	events chan link.Event
}

func newFakeLink() *fakeLink {
	return &fakeLink{connected: true, events: make(chan link.Event, 16)}
}

// serverID is the pinned server's fingerprint.
var serverID = strings.Repeat("ab", 32)

func (l *fakeLink) Authenticate(ctx context.Context, op string, req any) (wire.Session, error) {
	l.record(op)
	var user string
	switch r := req.(type) {
	case wire.RegisterRequest:
		user = r.Username
	case wire.LoginRequest:
		user = r.Username
	}
	if h := l.handler(); h != nil {
		if err := h(op, req, nil); err != nil {
			return wire.Session{}, err
		}
	}
	l.setSession(true)
	return wire.Session{Token: "token-" + user, Profile: wire.Profile{Username: user}}, nil
}

func (l *fakeLink) Logout(ctx context.Context) error {
	l.record("logout")
	l.setSession(false)
	return nil
}

func (l *fakeLink) Call(ctx context.Context, op string, req, resp any) error {
	l.record(op)
	if !l.HasSession() {
		return link.ErrOffline
	}
	if h := l.handler(); h != nil {
		return h(op, req, resp)
	}
	return nil
}

func (l *fakeLink) record(op string) {
	l.mu.Lock()
	l.calls = append(l.calls, op)
	l.mu.Unlock()
}

func (l *fakeLink) handler() func(op string, req, resp any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.handle
}

func (l *fakeLink) setSession(on bool) {
	l.mu.Lock()
	l.session = on
	l.mu.Unlock()
}

// called lists the ops called so far, and forgets them.
func (l *fakeLink) called() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}

func (l *fakeLink) HasSession() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.session
}

func (l *fakeLink) WaitConnected(ctx context.Context) bool { return l.Connected() }

func (l *fakeLink) Connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.connected
}

func (l *fakeLink) LastError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

func (l *fakeLink) Addr() string        { return "127.0.0.1:7000" }
func (l *fakeLink) Fingerprint() string { return serverID }

func (l *fakeLink) Unconfirmed() (string, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unconf == "" {
		return "", ""
	}
	return "192.0.2.1:7000", l.unconf
}

func (l *fakeLink) Confirm(fp string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if fp != l.unconf {
		return link.ErrNotConfirmed
	}
	l.unconf = ""
	return nil
}

func (l *fakeLink) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func (l *fakeLink) Events() <-chan link.Event { return l.events }

// Relay sends env alone in a relay.send request, through handle.
func (l *fakeLink) Relay(ctx context.Context, env wire.RelayEnvelope) error {
	var resp wire.RelaySendResponse
	if err := l.Call(ctx, wire.OpRelaySend, wire.RelaySendRequest{Envelopes: []wire.RelayEnvelope{env}}, &resp); err != nil {
		return err
	}
	if len(resp.Results) == 1 && resp.Results[0].Error != nil {
		return resp.Results[0].Error
	}
	return nil
}
