// Package link keeps a peer daemon's connection to the rendezvous server:
// it dials over TLS with the pinned certificate (pinning it on first use),
// resumes the stored session, reconnects with back-off whenever the
// connection ends, and hands the daemon one ordered stream of events: the
// link came up, the link went down, the server pushed something.
//
// Callers use Call while the link is up; while it is down Call fails at
// once with ErrOffline, so the daemon can fall back (queue, go direct)
// instead of waiting.
package link

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// Defaults for Config fields left zero.
const (
	DefaultDialTimeout = 10 * time.Second
	DefaultMinBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	DefaultEventBuffer = 1024
	// candidateTimeout bounds the dial of one server found on the LAN.
	candidateTimeout = 3 * time.Second
	// stableAfter is how long a connection must last for the back-off to
	// start again from its minimum.
	stableAfter = time.Minute
)

// ErrOffline means there is no connection to the server now.
var ErrOffline = errors.New("not connected to the server")

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	// EventUp: a connection is up. Session is the resumed session, or nil
	// when there was no token or the server refused it.
	EventUp EventKind = iota + 1
	// EventDown: the connection ended; Err says why. The link is
	// reconnecting.
	EventDown
	// EventServer: the server pushed Frame.
	EventServer
)

// Event is one thing the link reports, in order.
type Event struct {
	Kind    EventKind
	Session *wire.Session
	Frame   *wire.Frame
	Err     error
}

// Config says how a Link connects.
type Config struct {
	// Addr is the server's host:port.
	Addr string
	// Fingerprint pins the server's certificate; empty means trust on
	// first use, after which Pin is called with what was seen.
	Fingerprint string
	// FingerprintGiven says Fingerprint came from the user just now
	// (--server-fingerprint), not from an earlier pin: the advice on a
	// mismatch differs.
	FingerprintGiven bool
	// Resolve, when Addr is empty, finds servers (on the LAN) and the
	// fingerprints they announce; it is called before each dial until one
	// succeeds. The link tries every candidate in turn and takes the
	// first whose TLS handshake proves the fingerprint it announced. Such
	// a server is pinned (Pin) only once Confirm is called, unless
	// Fingerprint was given.
	Resolve func(ctx context.Context) ([]Candidate, error)
	// Pin stores a fingerprint seen on first use. An error refuses the
	// connection.
	Pin func(fingerprint string) error
	// Session returns the stored session token to resume with, or "".
	Session func() string
	// OnSessionInvalid runs when the server refuses the token or signs
	// this session out. It runs before the link reconnects, so the old
	// token is never presented again.
	OnSessionInvalid func()
	ClientName       string
	EventBuffer      int
	DialTimeout      time.Duration
	MinBackoff       time.Duration
	MaxBackoff       time.Duration
	Logger           *slog.Logger
}

// Candidate is a server found on the LAN: its address and the
// fingerprint it announces.
type Candidate struct {
	Addr        string
	Fingerprint string
}

// ErrNotConfirmed means the server was found on the LAN and the user has
// not confirmed its certificate yet.
var ErrNotConfirmed = errors.New("the certificate of the server found on the LAN is not confirmed")

// Link is a self-healing connection to the rendezvous server.
type Link struct {
	cfg       Config
	log       *slog.Logger
	events    chan Event
	reconnect chan struct{}

	mu          sync.Mutex
	c           *client.Client // nil while down
	session     bool           // c is logged in
	fingerprint string
	// addr is the server's address: Config.Addr, or what Resolve found.
	// unsaved marks a fingerprint that came with a resolved address and
	// a connection proved, not pinned (Pin) until Confirm.
	addr    string
	unsaved bool
	lastErr error // why the last dial failed; nil after a success
	// at is the address of the last successful dial, one of addr's when
	// it lists several nodes of one service (see SplitAddrs).
	at string

	relay relayQueue // relay.send batching (Relay)
}

// New makes a link; Run connects it.
func New(cfg Config) *Link {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.EventBuffer <= 0 {
		cfg.EventBuffer = DefaultEventBuffer
	}
	if cfg.Session == nil {
		cfg.Session = func() string { return "" }
	}
	if cfg.OnSessionInvalid == nil {
		cfg.OnSessionInvalid = func() {}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Link{
		cfg:         cfg,
		log:         cfg.Logger,
		events:      make(chan Event, cfg.EventBuffer),
		reconnect:   make(chan struct{}, 1),
		fingerprint: cfg.Fingerprint,
		addr:        cfg.Addr,
	}
}

// Events returns the link's events, in order. The channel is closed when
// Run returns.
func (l *Link) Events() <-chan Event { return l.events }

// Connected reports whether a connection to the server is up.
func (l *Link) Connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c != nil
}

// HasSession reports whether the connection is up and logged in.
func (l *Link) HasSession() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c != nil && l.session
}

// Fingerprint returns the pinned fingerprint of the server's certificate,
// or "" before the first connection under trust on first use.
func (l *Link) Fingerprint() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fingerprint
}

// Addr returns the server's address, or "" while Resolve has found none;
// of several, the one last connected to (the first before any).
func (l *Link) Addr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at != "" {
		return l.at
	}
	if addrs := SplitAddrs(l.addr); len(addrs) > 0 {
		return addrs[0]
	}
	return l.addr
}

// Unconfirmed returns the address and fingerprint of a server found on
// the LAN that a connection proved but the user has not confirmed yet,
// or "" and "".
func (l *Link) Unconfirmed() (addr, fingerprint string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.unsaved {
		return "", ""
	}
	return l.addr, l.fingerprint
}

// Confirm pins the certificate of the server found on the LAN, which the
// user confirmed having seen fingerprint. It fails, wrapping
// ErrNotConfirmed, unless fingerprint is the one the link proved (and
// pins now) or has pinned: a confirmation is never of "whatever server
// the link has now".
func (l *Link) Confirm(fingerprint string) error {
	l.mu.Lock()
	unsaved, fp := l.unsaved, l.fingerprint
	l.mu.Unlock()
	if fp == "" || fingerprint != fp {
		return fmt.Errorf("%w: confirmed sha256 %s, the server presents %q", ErrNotConfirmed, fingerprint, fp)
	}
	if !unsaved {
		return nil // pinned already
	}
	// Pin may read the link (Addr): call it without the lock.
	if l.cfg.Pin != nil {
		if err := l.cfg.Pin(fp); err != nil {
			return fmt.Errorf("pin server certificate: %w", err)
		}
	}
	l.mu.Lock()
	if l.fingerprint == fp {
		l.unsaved = false
	}
	l.mu.Unlock()
	return nil
}

// LastError returns why the last attempt to connect failed, or nil if it
// succeeded (or none was made yet).
func (l *Link) LastError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

// Reconnect drops the current connection and connects again at once (a
// fresh session makes the server push what waits for us again).
func (l *Link) Reconnect() {
	select {
	case l.reconnect <- struct{}{}:
	default:
	}
}

// Run connects and reconnects until ctx ends. It returns nil then.
func (l *Link) Run(ctx context.Context) error {
	defer close(l.events)
	backoff := l.cfg.MinBackoff
	for {
		c, sess, err := l.dial(ctx)
		l.mu.Lock()
		l.lastErr = err
		l.mu.Unlock()
		if err == nil {
			up := time.Now()
			again := l.serve(ctx, c, sess)
			if time.Since(up) > stableAfter || again {
				backoff = l.cfg.MinBackoff
			}
			if again && ctx.Err() == nil {
				// Reconnect asked for a new connection at once, not
				// after the back-off.
				continue
			}
		} else if ctx.Err() == nil {
			l.logDialError(err)
		}
		if ctx.Err() != nil {
			return nil
		}
		// Jitter spreads the reconnections of many daemons after a
		// server restart.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		case <-l.reconnect:
			backoff = l.cfg.MinBackoff
			continue
		}
		backoff = min(backoff*2, l.cfg.MaxBackoff)
	}
}

func (l *Link) logDialError(err error) {
	if errors.Is(err, client.ErrFingerprintMismatch) {
		advice := "if the server's certificate was replaced on purpose, start the daemon with --server-fingerprint and its new fingerprint"
		if l.cfg.FingerprintGiven {
			advice = "the fingerprint given does not match the server's: ask the server's admin for it (rendezvous fingerprint --data DIR)"
		}
		l.log.Error("the server's certificate does not match the pinned one: refusing to connect; "+advice,
			"server", l.Addr(), "err", err)
		return
	}
	l.log.Info("server unreachable; will retry", "server", l.Addr(), "err", err)
}

// dial opens a connection, pins the certificate on first use and resumes
// the stored session.
func (l *Link) dial(ctx context.Context) (*client.Client, *wire.Session, error) {
	dctx, cancel := context.WithTimeout(ctx, l.cfg.DialTimeout)
	defer cancel()
	c, err := l.connect(dctx)
	if err != nil {
		return nil, nil, err
	}
	l.mu.Lock()
	unsaved := l.unsaved
	l.mu.Unlock()
	if !unsaved && l.Fingerprint() == "" {
		// Trust on first use of a server given by address.
		fp := c.Fingerprint()
		if l.cfg.Pin != nil {
			if err := l.cfg.Pin(fp); err != nil {
				c.Close()
				return nil, nil, fmt.Errorf("pin server certificate: %w", err)
			}
		}
		l.mu.Lock()
		l.fingerprint = fp
		l.mu.Unlock()
	}
	sess, err := l.resume(dctx, c)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	l.mu.Lock()
	l.c = c
	l.session = sess != nil
	l.mu.Unlock()
	return c, sess, nil
}

// connect dials the server: the one given or found before, else each
// server Resolve finds in turn, skipping those whose TLS handshake fails
// or does not prove the fingerprint they announce.
func (l *Link) connect(ctx context.Context) (*client.Client, error) {
	l.mu.Lock()
	addr, pinned, unsaved := l.addr, l.fingerprint, l.unsaved
	l.mu.Unlock()
	if addr != "" {
		c, err := l.dialNodes(ctx, SplitAddrs(addr), pinned)
		if err != nil && unsaved {
			// What the LAN offered no longer works: look again next time.
			l.mu.Lock()
			l.addr, l.fingerprint, l.unsaved = "", l.cfg.Fingerprint, false
			l.mu.Unlock()
		}
		return c, err
	}
	if l.cfg.Resolve == nil {
		return nil, errors.New("no server address")
	}
	var given string
	if l.cfg.Fingerprint != "" {
		fp, err := client.NormalizeFingerprint(l.cfg.Fingerprint)
		if err != nil {
			return nil, fmt.Errorf("find the server: %w", err)
		}
		given = fp
	}
	cands, err := l.cfg.Resolve(ctx)
	if err != nil {
		return nil, fmt.Errorf("find the server: %w", err)
	}
	var errs []error
	for _, cand := range cands {
		c, err := l.dialCandidate(ctx, cand, given)
		if err != nil {
			l.log.Info("skipping a server found on the LAN", "server", cand.Addr, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", cand.Addr, err))
			continue
		}
		fp := c.Fingerprint() // what the handshake proved
		l.mu.Lock()
		l.addr, l.fingerprint = cand.Addr, fp
		// Fingerprint given by the user: the server is confirmed.
		l.unsaved = given == ""
		l.mu.Unlock()
		if given != "" && l.cfg.Pin != nil {
			if err := l.cfg.Pin(fp); err != nil {
				c.Close()
				return nil, fmt.Errorf("pin server certificate: %w", err)
			}
		}
		l.log.Info("found the server on the LAN", "server", cand.Addr)
		return c, nil
	}
	if len(errs) == 0 {
		return nil, errors.New("find the server: no server found on the LAN")
	}
	return nil, fmt.Errorf("find the server: no server found on the LAN answered: %w", errors.Join(errs...))
}

// dialCandidate dials a server found on the LAN. Only its TLS handshake
// proving the fingerprint it announces will do (never trust on first
// use: that would leave nothing for the user to confirm), and with a
// fingerprint given only that one.
func (l *Link) dialCandidate(ctx context.Context, cand Candidate, given string) (*client.Client, error) {
	fp, err := client.NormalizeFingerprint(cand.Fingerprint)
	if err != nil {
		return nil, fmt.Errorf("announced certificate: %w", err)
	}
	if given != "" && fp != given {
		return nil, fmt.Errorf("it announces certificate sha256 %s, not the one given", fp)
	}
	// One server that never answers must not use up the others' time.
	ctx, cancel := context.WithTimeout(ctx, candidateTimeout)
	defer cancel()
	return l.dialOne(ctx, cand.Addr, fp)
}

func (l *Link) dialOne(ctx context.Context, addr, fingerprint string) (*client.Client, error) {
	return client.Dial(ctx, addr, client.Options{
		Fingerprint:     fingerprint,
		TrustOnFirstUse: fingerprint == "",
		ClientName:      l.cfg.ClientName,
		EventBuffer:     l.cfg.EventBuffer,
	})
}

// resume logs in with the stored token, if there is one. A refused token
// is forgotten (OnSessionInvalid) and the connection stays up without a
// session.
func (l *Link) resume(ctx context.Context, c *client.Client) (*wire.Session, error) {
	tok := l.cfg.Session()
	if tok == "" {
		return nil, nil
	}
	var sess wire.Session
	err := c.Call(ctx, wire.OpResume, wire.ResumeRequest{Token: tok}, &sess)
	var werr *wire.Error
	switch {
	case err == nil:
		return &sess, nil
	case errors.As(err, &werr) && refusedToken(werr):
		l.log.Warn("the server refused the stored session; log in again", "reason", werr.Message)
		l.cfg.OnSessionInvalid()
		return nil, nil
	default:
		return nil, fmt.Errorf("resume session: %w", err)
	}
}

// refusedToken reports whether the server refused the token itself for
// good (unknown, expired, revoked, malformed, or its account disabled), so
// that presenting it again could only be refused again.
func refusedToken(werr *wire.Error) bool {
	switch werr.Code {
	case wire.CodeSessionInvalid, wire.CodeAccountDisabled:
		return true
	case wire.CodeInvalid:
		return werr.Field == "token"
	}
	return false
}

// serve reports the connection up, forwards what the server pushes until
// the connection ends, then reports it down. It reports whether Reconnect
// ended the connection.
func (l *Link) serve(ctx context.Context, c *client.Client, sess *wire.Session) (reconnect bool) {
	defer func() {
		err := c.Err()
		l.mu.Lock()
		l.c = nil
		l.session = false
		if err != nil && !reconnect {
			l.lastErr = fmt.Errorf("connection lost: %w", err)
		}
		l.mu.Unlock()
		c.Close()
		if err == nil {
			err = c.Err()
		}
		if ctx.Err() == nil {
			l.log.Info("server connection ended", "server", l.Addr(), "err", err)
		}
		l.emit(ctx, Event{Kind: EventDown, Err: err})
	}()
	l.log.Info("connected to the server", "server", l.Addr(), "session", sess != nil)
	if !l.emit(ctx, Event{Kind: EventUp, Session: sess}) {
		return false
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-l.reconnect:
			return true
		case f, ok := <-c.Events():
			if !ok {
				return false
			}
			if f.Op == wire.EvSignedOut {
				// Forget the token now, before any reconnection could
				// present it again and sign the newer session out.
				l.mu.Lock()
				l.session = false
				l.mu.Unlock()
				l.cfg.OnSessionInvalid()
			}
			if !l.emit(ctx, Event{Kind: EventServer, Frame: f}) {
				return false
			}
		}
	}
}

// emit delivers ev unless ctx ends first.
func (l *Link) emit(ctx context.Context, ev Event) bool {
	select {
	case l.events <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// Call runs one request on the current connection. It fails at once with
// an error wrapping ErrOffline when there is none or it is lost meanwhile;
// a server's refusal is returned as its *wire.Error.
func (l *Link) Call(ctx context.Context, op string, req, resp any) error {
	l.mu.Lock()
	c := l.c
	l.mu.Unlock()
	return l.callOn(ctx, c, op, req, resp)
}

// callOn runs one request on connection c, nil when there is none.
func (l *Link) callOn(ctx context.Context, c *client.Client, op string, req, resp any) error {
	if c == nil {
		if last := l.LastError(); errors.Is(last, client.ErrFingerprintMismatch) {
			// Not away: refused, and the caller should say why.
			return fmt.Errorf("%s: %w: %w", op, ErrOffline, last)
		}
		return fmt.Errorf("%s: %w", op, ErrOffline)
	}
	err := c.Call(ctx, op, req, resp)
	if err == nil {
		return nil
	}
	var werr *wire.Error
	if errors.As(err, &werr) || ctx.Err() != nil {
		return err
	}
	select {
	case <-c.Done():
		return fmt.Errorf("%w: %v", ErrOffline, err)
	default:
		return err
	}
}

// Authenticate runs register or login and marks the link logged in. It
// fails, wrapping ErrNotConfirmed, while the server is one found on the
// LAN that the user has not confirmed (Confirm): no password goes to it.
func (l *Link) Authenticate(ctx context.Context, op string, req any) (wire.Session, error) {
	// The connection is taken with the check, so that a switch to
	// another server found meanwhile cannot slip in between.
	l.mu.Lock()
	c, unsaved, addr, fp := l.c, l.unsaved, l.addr, l.fingerprint
	l.mu.Unlock()
	if c != nil && unsaved {
		return wire.Session{}, fmt.Errorf("%s: %w: server %s, certificate sha256 %s", op, ErrNotConfirmed, addr, fp)
	}
	var sess wire.Session
	if err := l.callOn(ctx, c, op, req, &sess); err != nil {
		return wire.Session{}, err
	}
	l.mu.Lock()
	l.session = true
	l.mu.Unlock()
	return sess, nil
}

// Logout ends the session on the server; the connection stays up.
func (l *Link) Logout(ctx context.Context) error {
	err := l.Call(ctx, wire.OpLogout, nil, nil)
	l.mu.Lock()
	l.session = false
	l.mu.Unlock()
	return err
}
