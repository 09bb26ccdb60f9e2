package daemon

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"net/netip"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/peers"
	"github.com/lanchat/lanchat/peer/daemon/roster"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
)

// Direct connection tuning.
const (
	// maxDialAddrs bounds how many addresses are tried at once, and
	// maxLANAddrs how many of them come from mDNS.
	maxDialAddrs = 8
	maxLANAddrs  = 4
)

// peerSet is the contacts' connections (package peers), seen with nil
// for "none", as the daemon's callers use them.
type peerSet struct {
	contacts *peers.Set[*direct.Conn]
	log      *slog.Logger
	// What candidates needs: where mDNS heard a contact, presence, and
	// whether the server is up.
	lan    *lan
	roster *roster.Roster
	link   interface{ HasSession() bool } // set once the link exists

	db     *history.Store  // set once history is open
	ctx    context.Context // the daemon's run
	notify func(api.Event)
	spawn  func(func())
	// kickPathOpened asks everything waiting for a path to try now.
	kickPathOpened func()
	// The streams contacts open go to messages and transfers
	// (handleStream); both are set once they exist.
	messages  *messages
	transfers *transfers
}

func newPeerSet(d *Daemon, kick func()) *peerSet {
	p := &peerSet{
		log: d.log, roster: d.roster, notify: d.events.publish, spawn: d.spawn,
		kickPathOpened: kick,
	}
	p.contacts = peers.New(peers.Config[*direct.Conn]{
		Self: d.session.self,
		Dialer: func() (peers.Dialer[*direct.Conn], bool) {
			t := d.currentTransport()
			return t, t != nil
		},
		Contacts:   p,
		Candidates: p.candidates,
		Serve:      p.serveConn,
		Up:         p.peerUp,
		Down: func(user string) {
			p.notify(api.Event{Type: api.EventPeer, Connection: &api.Connection{Peer: user, Up: false}})
		},
		Logger: d.log,
	})
	return p
}

// Contact reads a pinned contact, for the dialler.
func (p *peerSet) Contact(ctx context.Context, user string) (history.Contact, error) {
	return p.db.Contact(ctx, user)
}

// peerUp records a contact's new connection: local clients are told, the
// address that worked is remembered, and what waited for a path goes.
func (p *peerSet) peerUp(user, addr string, dialed bool) {
	p.notify(api.Event{Type: api.EventPeer, Connection: &api.Connection{Peer: user, Up: true, Addr: addr}})
	if dialed {
		if err := p.db.RememberAddr(p.ctx, user, addr); err != nil {
			p.log.Debug("remember address", "user", user, "err", err)
		}
	}
	p.kickPathOpened()
}

// serveConn accepts the streams of a contact's connection until it
// closes.
func (p *peerSet) serveConn(c *direct.Conn) {
	ctx := c.Context()
	for {
		kind, s, err := c.AcceptStream(ctx)
		if err != nil {
			return
		}
		p.spawn(func() { p.handleStream(c, kind, s) })
	}
}

// authorize admits an incoming connection whose key is the pinned key of
// exactly one contact, not held, whom the roster lets us talk to: a
// friend or group co-member, by the last sync or, until this run syncs,
// by the roster kept on disk. With no roster at all nobody is admitted.
// A key pinned for several contacts admits none of them.
func (k *keyring) authorize(key ed25519.PublicKey) (string, bool) {
	ctx, cancel := context.WithTimeout(k.ctx, 5*time.Second)
	defer cancel()
	contacts, err := k.db.Contacts(ctx)
	if err != nil {
		k.log.Warn("list contacts", "err", err)
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
		k.warnSharedKey(append(owners, c.SameKey...), key)
		return "", false
	case c.Held():
		return "", false // the user has to decide first
	}
	return c.Username, k.roster.Related(c.Username)
}

// get returns the connection to use for user, or nil.
func (p *peerSet) get(user string) *direct.Conn {
	c, _ := p.contacts.Get(user)
	return c
}

// list names the contacts with an open connection.
func (p *peerSet) list() []string { return p.contacts.List() }

// add registers a new connection to a contact and serves it.
func (p *peerSet) add(c *direct.Conn, dialed bool) { p.contacts.Add(c, dialed) }

// acceptLoop takes incoming connections until the listener closes.
func (p *peerSet) acceptLoop(ctx context.Context, t *direct.Transport) {
	for {
		c, err := t.Accept(ctx)
		if err != nil {
			return
		}
		p.log.Info("direct connection accepted", "user", c.User(), "addr", c.RemoteAddr())
		p.add(c, false)
	}
}

// drop closes c if it is still user's connection.
func (p *peerSet) drop(user string, c *direct.Conn) { p.contacts.Drop(user, c) }

// forgetFailure lifts the dial back-off for user.
func (p *peerSet) forgetFailure(user string) { p.contacts.ForgetFailure(user) }

// close closes the connections to user.
func (p *peerSet) close(user string) { p.contacts.Close(user) }

// closeAll closes every direct connection.
func (p *peerSet) closeAll() { p.contacts.CloseAll() }

// connect returns an open connection to user, dialling if there is
// none (force skips the back-off after a failed dial), or nil.
func (p *peerSet) connect(ctx context.Context, user string, force bool) *direct.Conn {
	c, _ := p.contacts.Connect(ctx, user, force)
	return c
}

// candidates lists where user may be reached: where mDNS heard them,
// then the addresses that worked before (so a contact on another subnet,
// out of multicast's reach, is found again without the server), then the
// endpoints their daemon reported to the server, and the same ports at
// the address the server saw them connect from.
func (p *peerSet) candidates(user string, c history.Contact) []string {
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
	for i, a := range p.lan.addrs(c) {
		if i == maxLANAddrs {
			break
		}
		add(a)
	}
	pr, ok := p.roster.Presence(user)
	if ok && pr.Status == wire.StatusOffline && p.link.HasSession() && len(out) == 0 {
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
