// Package peers holds the daemon's direct connections to its contacts:
// usually one per contact, chosen the same way on both sides when both
// dialled at once, dialled on demand at every address the owner knows
// for the contact, with a back-off after a failed dial.
//
// The set owns its connections and the goroutines that serve them; it
// knows nothing of the daemon: what it needs (who we are, a contact's
// pinned key and addresses, how to dial, what to do with a connection's
// streams) it is given in Config.
package peers

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
)

// Tuning.
const (
	// dialTimeout bounds one attempt to reach a peer at one address.
	dialTimeout = 3 * time.Second
	// DialBackoff is how long a peer that could not be reached is left
	// alone before the next attempt, unless something new is heard of
	// it (ForgetFailure).
	DialBackoff = 20 * time.Second
)

// Conn is what the set needs of a connection (a *direct.Conn).
type Conn interface {
	User() string
	Context() context.Context
	RemoteAddr() net.Addr
	CloseWithError(code direct.ErrorCode, msg string) error
}

// Dialer opens a connection to user at addr that proves key.
type Dialer[C Conn] interface {
	Dial(ctx context.Context, addr, user string, key ed25519.PublicKey) (C, error)
}

// Contacts is where the set finds a contact's pinned key and addresses.
type Contacts interface {
	Contact(ctx context.Context, user string) (history.Contact, error)
}

// Config is what a set works with.
type Config[C Conn] struct {
	// Self is the logged-in username ("" if none).
	Self func() string
	// Dialer returns the direct transport to dial with, or false while
	// there is none (no identity yet).
	Dialer   func() (Dialer[C], bool)
	Contacts Contacts
	// Candidates lists where user may be reached, best first.
	Candidates func(user string, c history.Contact) []string
	// Serve serves the streams of a connection until it closes.
	Serve func(c C)
	// Up is told of each connection added; Down of a contact whose last
	// connection closed.
	Up   func(user, addr string, dialed bool)
	Down func(user string)
	// Now is the clock (time.Now if nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// Set is the open connections, by contact.
type Set[C Conn] struct {
	cfg Config[C]
	wg  sync.WaitGroup

	mu      sync.Mutex
	conns   map[string][]peerConn[C] // newest last
	failed  map[string]time.Time     // last failed dial per user
	dialing map[string]chan struct{}
}

// peerConn is an open connection and who dialled it.
type peerConn[C Conn] struct {
	c      C
	dialer string
}

// New makes an empty set.
func New[C Conn](cfg Config[C]) *Set[C] {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Set[C]{
		cfg:     cfg,
		conns:   make(map[string][]peerConn[C]),
		failed:  make(map[string]time.Time),
		dialing: make(map[string]chan struct{}),
	}
}

// Get returns the connection to use for user: one dialled by the side
// whose name sorts first if there is one (both sides prefer it), else the
// newest. ok is false if there is none.
func (s *Set[C]) Get(user string) (c C, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	live := s.live(user)
	if len(live) == 0 {
		return c, false
	}
	preferred := min(s.cfg.Self(), user)
	for _, pc := range slices.Backward(live) {
		if pc.dialer == preferred {
			return pc.c, true
		}
	}
	return live[len(live)-1].c, true
}

// Has reports whether user has an open connection.
func (s *Set[C]) Has(user string) bool {
	_, ok := s.Get(user)
	return ok
}

// live returns user's open connections, forgetting closed ones. The
// caller holds s.mu.
func (s *Set[C]) live(user string) []peerConn[C] {
	open := slices.DeleteFunc(s.conns[user], func(pc peerConn[C]) bool { return pc.c.Context().Err() != nil })
	if len(open) == 0 {
		delete(s.conns, user)
		return nil
	}
	s.conns[user] = open
	return open
}

// List names the contacts with an open connection, sorted.
func (s *Set[C]) List() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for u := range s.conns {
		if len(s.live(u)) > 0 {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

// Add registers a new connection and serves its streams until it closes.
//
// A contact may have more than one: a dialler that tries several
// addresses at once can get two through and keeps only the first, which
// the accepting side cannot tell; the dialler closes the other itself.
// When both sides dialled at once, both keep the connections dialled by
// the user whose name sorts first, so they agree, and close the others
// (a message in flight on one is retried from the outbox, and ids make
// the retry harmless).
func (s *Set[C]) Add(c C, dialed bool) {
	user := c.User()
	me := s.cfg.Self()
	dialer := user
	if dialed {
		dialer = me
	}
	preferred := min(me, user)
	s.mu.Lock()
	live := s.live(user)
	if dialer != preferred && slices.ContainsFunc(live, func(pc peerConn[C]) bool { return pc.dialer == preferred }) {
		s.mu.Unlock()
		c.CloseWithError(0, "duplicate connection")
		return
	}
	var replaced []peerConn[C]
	if dialer == preferred {
		kept := live[:0:0]
		for _, pc := range live {
			if pc.dialer == preferred {
				kept = append(kept, pc)
			} else {
				replaced = append(replaced, pc)
			}
		}
		live = kept
	}
	s.conns[user] = append(live, peerConn[C]{c: c, dialer: dialer})
	delete(s.failed, user)
	s.mu.Unlock()
	for _, pc := range replaced {
		pc.c.CloseWithError(0, "replaced by a newer connection")
	}
	if s.cfg.Up != nil {
		s.cfg.Up(user, c.RemoteAddr().String(), dialed)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.serve(c)
	}()
}

// serve runs the owner's Serve on c; when c was the contact's last
// connection, the contact is reported down.
func (s *Set[C]) serve(c C) {
	defer func() {
		s.mu.Lock()
		s.conns[c.User()] = slices.DeleteFunc(s.conns[c.User()], func(pc peerConn[C]) bool { return same(pc.c, c) })
		down := len(s.live(c.User())) == 0
		s.mu.Unlock()
		if down && s.cfg.Down != nil {
			s.cfg.Down(c.User())
		}
	}()
	if s.cfg.Serve != nil {
		s.cfg.Serve(c)
	} else {
		<-c.Context().Done()
	}
}

func same[C Conn](a, b C) bool { return Conn(a) == Conn(b) }

// Wait waits for the goroutines serving connections, which end when
// their connections close.
func (s *Set[C]) Wait() { s.wg.Wait() }

// Drop closes c if it is still user's connection: it broke.
func (s *Set[C]) Drop(user string, c C) {
	s.mu.Lock()
	s.conns[user] = slices.DeleteFunc(s.conns[user], func(pc peerConn[C]) bool { return same(pc.c, c) })
	s.live(user)
	s.mu.Unlock()
	c.CloseWithError(0, "not answering")
}

// ForgetFailure lifts the dial back-off for user.
func (s *Set[C]) ForgetFailure(user string) {
	s.mu.Lock()
	delete(s.failed, user)
	s.mu.Unlock()
}

// Close closes the connections to user.
func (s *Set[C]) Close(user string) {
	s.mu.Lock()
	conns := s.conns[user]
	delete(s.conns, user)
	s.mu.Unlock()
	for _, pc := range conns {
		pc.c.CloseWithError(0, "closed")
	}
}

// CloseAll closes every connection.
func (s *Set[C]) CloseAll() {
	s.mu.Lock()
	conns := s.conns
	s.conns = make(map[string][]peerConn[C])
	s.mu.Unlock()
	for _, list := range conns {
		for _, pc := range list {
			pc.c.CloseWithError(0, "closed")
		}
	}
}

// Connect returns an open connection to user, dialling the addresses we
// know for them if there is none. force skips the back-off after a failed
// attempt. ok is false when the user cannot be reached now.
func (s *Set[C]) Connect(ctx context.Context, user string, force bool) (c C, ok bool) {
	if c, ok := s.Get(user); ok {
		return c, true
	}
	s.mu.Lock()
	if t, failed := s.failed[user]; failed && !force && s.cfg.Now().Sub(t) < DialBackoff {
		s.mu.Unlock()
		return c, false
	}
	if wait, busy := s.dialing[user]; busy {
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
		}
		return s.Get(user)
	}
	done := make(chan struct{})
	s.dialing[user] = done
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.dialing, user)
		s.mu.Unlock()
		close(done)
	}()

	c, err := s.dial(ctx, user)
	if err != nil {
		s.cfg.Logger.Debug("no direct path", "user", user, "err", err)
		s.mu.Lock()
		s.failed[user] = s.cfg.Now()
		s.mu.Unlock()
		return c, false
	}
	s.cfg.Logger.Info("direct connection opened", "user", user, "addr", c.RemoteAddr())
	s.Add(c, true)
	return s.Get(user)
}

// dial tries the candidate addresses of user at once and keeps the first
// connection that proves the pinned key.
func (s *Set[C]) dial(ctx context.Context, user string) (C, error) {
	var zero C
	t, ok := s.cfg.Dialer()
	if !ok {
		return zero, errors.New("no identity yet")
	}
	contact, err := s.cfg.Contacts.Contact(ctx, user)
	if err != nil {
		return zero, fmt.Errorf("no pinned key: %w", err)
	}
	if contact.Held() {
		return zero, history.ErrHeld
	}
	addrs := s.cfg.Candidates(user, contact)
	if len(addrs) == 0 {
		return zero, errors.New("no known address")
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	type result struct {
		c   C
		err error
	}
	results := make(chan result, len(addrs))
	for _, a := range addrs {
		go func() {
			c, err := t.Dial(ctx, a, user, ed25519.PublicKey(contact.IdentityKey))
			results <- result{c, err}
		}()
	}
	var won C
	var have bool
	var errs []error
	for range addrs {
		r := <-results
		switch {
		case r.err != nil:
			errs = append(errs, r.err)
		case !have:
			won, have = r.c, true
			cancel() // stop the other attempts
		default:
			r.c.CloseWithError(0, "duplicate")
		}
	}
	if have {
		return won, nil
	}
	return zero, errors.Join(errs...)
}
