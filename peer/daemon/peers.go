package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
)

// Direct connection tuning.
const (
	// dialTimeout bounds one attempt to reach a peer at one address.
	dialTimeout = 3 * time.Second
	// dialBackoff is how long a peer that could not be reached is left
	// alone before the next attempt, unless something new is heard of
	// it (a presence change).
	dialBackoff = 20 * time.Second
	// maxDialAddrs bounds how many addresses are tried at once, and
	// maxLANAddrs how many of them come from mDNS.
	maxDialAddrs = 8
	maxLANAddrs  = 4
)

// peerSet holds the open direct connections, usually one per contact.
type peerSet struct {
	d *Daemon

	mu      sync.Mutex
	conns   map[string][]peerConn // newest last
	failed  map[string]time.Time  // last failed dial per user
	dialing map[string]chan struct{}
}

// peerConn is an open connection and who dialled it.
type peerConn struct {
	c      *direct.Conn
	dialer string
}

func newPeerSet(d *Daemon) *peerSet {
	return &peerSet{
		d:       d,
		conns:   make(map[string][]peerConn),
		failed:  make(map[string]time.Time),
		dialing: make(map[string]chan struct{}),
	}
}

// authorize admits an incoming connection whose key is the pinned key of
// exactly one contact, not held, whom the roster lets us talk to: a
// friend or group co-member, by the last sync or, until this run syncs,
// by the roster kept on disk. With no roster at all nobody is admitted.
// A key pinned for several contacts admits none of them.
func (d *Daemon) authorize(key ed25519.PublicKey) (string, bool) {
	ctx, cancel := context.WithTimeout(d.ctx, 5*time.Second)
	defer cancel()
	contacts, err := d.db.Contacts(ctx)
	if err != nil {
		d.log.Warn("list contacts", "err", err)
		return "", false
	}
	var owners []string
	var c history.Contact
	for _, cc := range contacts {
		if key.Equal(ed25519.PublicKey(cc.IdentityKey)) {
			owners = append(owners, cc.Username)
			c = cc
		}
	}
	switch {
	case len(owners) == 0:
		return "", false
	case len(owners) > 1 || len(c.SameKey) > 0:
		d.warnSharedKey(append(owners, c.SameKey...), key)
		return "", false
	case c.Held():
		return "", false // the user has to decide first
	}
	d.mu.Lock()
	ok := d.roster.related(c.Username)
	d.mu.Unlock()
	return c.Username, ok
}

// get returns the connection to use for user, or nil: one dialled by
// the side whose name sorts first if there is one (both sides prefer
// it), else the newest.
func (p *peerSet) get(user string) *direct.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	live := p.live(user)
	if len(live) == 0 {
		return nil
	}
	preferred := min(p.d.self(), user)
	for _, pc := range slices.Backward(live) {
		if pc.dialer == preferred {
			return pc.c
		}
	}
	return live[len(live)-1].c
}

// live returns user's open connections, forgetting closed ones. The
// caller holds p.mu.
func (p *peerSet) live(user string) []peerConn {
	open := slices.DeleteFunc(p.conns[user], func(pc peerConn) bool { return pc.c.Context().Err() != nil })
	if len(open) == 0 {
		delete(p.conns, user)
		return nil
	}
	p.conns[user] = open
	return open
}

// list names the contacts with an open connection.
func (p *peerSet) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for u := range p.conns {
		if len(p.live(u)) > 0 {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

// add registers a new connection and serves its streams until it closes.
//
// A contact may have more than one: a dialler that tries several
// addresses at once can get two through and keeps only the first, which
// the accepting side cannot tell; the dialler closes the other itself.
// When both sides dialled at once, both keep the connections dialled by
// the user whose name sorts first, so they agree, and close the others
// (a message in flight on one is retried from the outbox, and ids make
// the retry harmless).
func (p *peerSet) add(c *direct.Conn, dialed bool) {
	user := c.User()
	me := p.d.self()
	dialer := user
	if dialed {
		dialer = me
	}
	preferred := min(me, user)
	p.mu.Lock()
	live := p.live(user)
	if dialer != preferred && slices.ContainsFunc(live, func(pc peerConn) bool { return pc.dialer == preferred }) {
		p.mu.Unlock()
		c.CloseWithError(0, "duplicate connection")
		return
	}
	var replaced []peerConn
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
	p.conns[user] = append(live, peerConn{c: c, dialer: dialer})
	delete(p.failed, user)
	p.mu.Unlock()
	for _, pc := range replaced {
		pc.c.CloseWithError(0, "replaced by a newer connection")
	}
	addr := c.RemoteAddr().String()
	p.d.notify(api.Event{Type: api.EventPeer, Connection: &api.Connection{Peer: user, Up: true, Addr: addr}})
	if dialed {
		if err := p.d.db.RememberAddr(p.d.ctx, user, addr); err != nil {
			p.d.log.Debug("remember address", "user", user, "err", err)
		}
	}
	p.d.kickPathOpened()
	p.d.spawn(func() { p.serve(c) })
}

// serve accepts the streams of one connection until it closes; when it
// was the contact's last, the contact is reported down.
func (p *peerSet) serve(c *direct.Conn) {
	defer func() {
		p.mu.Lock()
		p.conns[c.User()] = slices.DeleteFunc(p.conns[c.User()], func(pc peerConn) bool { return pc.c == c })
		down := len(p.live(c.User())) == 0
		p.mu.Unlock()
		if down {
			p.d.notify(api.Event{Type: api.EventPeer, Connection: &api.Connection{Peer: c.User(), Up: false}})
		}
	}()
	ctx := c.Context()
	for {
		kind, s, err := c.AcceptStream(ctx)
		if err != nil {
			return
		}
		p.d.spawn(func() { p.d.handleStream(c, kind, s) })
	}
}

// acceptLoop takes incoming connections until the listener closes.
func (p *peerSet) acceptLoop(ctx context.Context, t *direct.Transport) {
	for {
		c, err := t.Accept(ctx)
		if err != nil {
			return
		}
		p.d.log.Info("direct connection accepted", "user", c.User(), "addr", c.RemoteAddr())
		p.add(c, false)
	}
}

// drop closes c if it is still user's connection.
func (p *peerSet) drop(user string, c *direct.Conn) {
	p.mu.Lock()
	p.conns[user] = slices.DeleteFunc(p.conns[user], func(pc peerConn) bool { return pc.c == c })
	p.live(user)
	p.mu.Unlock()
	c.CloseWithError(0, "not answering")
}

// forgetFailure lifts the dial back-off for user.
func (p *peerSet) forgetFailure(user string) {
	p.mu.Lock()
	delete(p.failed, user)
	p.mu.Unlock()
}

// close closes the connection to user, if any.
func (p *peerSet) close(user string) {
	p.mu.Lock()
	conns := p.conns[user]
	delete(p.conns, user)
	p.mu.Unlock()
	for _, pc := range conns {
		pc.c.CloseWithError(0, "closed")
	}
}

// closeAll closes every direct connection.
func (p *peerSet) closeAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = make(map[string][]peerConn)
	p.mu.Unlock()
	for _, list := range conns {
		for _, pc := range list {
			pc.c.CloseWithError(0, "closed")
		}
	}
}

// connect returns an open connection to user, dialling the addresses we
// know for them if there is none. force skips the back-off after a failed
// attempt. It returns nil when the user cannot be reached now.
func (p *peerSet) connect(ctx context.Context, user string, force bool) *direct.Conn {
	if c := p.get(user); c != nil {
		return c
	}
	p.mu.Lock()
	if t, ok := p.failed[user]; ok && !force && time.Since(t) < dialBackoff {
		p.mu.Unlock()
		return nil
	}
	if wait, ok := p.dialing[user]; ok {
		p.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
		}
		return p.get(user)
	}
	done := make(chan struct{})
	p.dialing[user] = done
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.dialing, user)
		p.mu.Unlock()
		close(done)
	}()

	c, err := p.dial(ctx, user)
	if err != nil {
		p.d.log.Debug("no direct path", "user", user, "err", err)
		p.mu.Lock()
		p.failed[user] = time.Now()
		p.mu.Unlock()
		return nil
	}
	p.d.log.Info("direct connection opened", "user", user, "addr", c.RemoteAddr())
	p.add(c, true)
	return p.get(user)
}

// dial tries the candidate addresses of user at once and keeps the first
// connection that proves the pinned key.
func (p *peerSet) dial(ctx context.Context, user string) (*direct.Conn, error) {
	t := p.d.currentTransport()
	if t == nil {
		return nil, errors.New("no identity yet")
	}
	contact, err := p.d.db.Contact(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("no pinned key: %w", err)
	}
	if contact.Held() {
		return nil, history.ErrHeld
	}
	addrs := p.d.candidates(user, contact)
	if len(addrs) == 0 {
		return nil, errors.New("no known address")
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	type result struct {
		c   *direct.Conn
		err error
	}
	results := make(chan result, len(addrs))
	for _, a := range addrs {
		go func() {
			c, err := t.Dial(ctx, a, user, ed25519.PublicKey(contact.IdentityKey))
			results <- result{c, err}
		}()
	}
	var won *direct.Conn
	var errs []error
	for range addrs {
		r := <-results
		switch {
		case r.err != nil:
			errs = append(errs, r.err)
		case won == nil:
			won = r.c
			cancel() // stop the other attempts
		default:
			r.c.CloseWithError(0, "duplicate")
		}
	}
	if won != nil {
		return won, nil
	}
	return nil, errors.Join(errs...)
}

// candidates lists where user may be reached: where mDNS heard them,
// then the addresses that worked before (so a contact on another subnet,
// out of multicast's reach, is found again without the server), then the
// endpoints their daemon reported to the server, and the same ports at
// the address the server saw them connect from.
func (d *Daemon) candidates(user string, c history.Contact) []string {
	seen := make(map[string]bool)
	var out []string
	add := func(a string) {
		if ap, err := netip.ParseAddrPort(a); err == nil && !seen[a] && len(out) < maxDialAddrs {
			if ap.Addr().IsUnspecified() || ap.Port() == 0 {
				return
			}
			seen[a] = true
			out = append(out, a)
		}
	}
	// Where mDNS heard them just now comes first, but only a few: a
	// forger announcing many addresses under their id must not crowd out
	// the addresses below.
	for i, a := range d.lanAddrs(c) {
		if i == maxLANAddrs {
			break
		}
		add(a)
	}
	d.mu.Lock()
	pr, ok := d.roster.presence[user]
	d.mu.Unlock()
	if ok && pr.Status == wire.StatusOffline && d.link.HasSession() && len(out) == 0 {
		// The server is up and says their daemon is not: the relay is
		// the path, and dialling old addresses would only delay it.
		return nil
	}
	for _, a := range c.Addrs {
		add(a)
	}
	if ok && pr.Status != wire.StatusOffline {
		for _, ep := range pr.Endpoints {
			add(ep)
		}
		if obs, err := netip.ParseAddrPort(pr.Observed); err == nil {
			for _, ep := range pr.Endpoints {
				if ap, err := netip.ParseAddrPort(ep); err == nil {
					add(netip.AddrPortFrom(obs.Addr(), ap.Port()).String())
				}
			}
		}
	}
	return out
}
