package daemon

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lanchat/lanchat/discovery"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/link"
)

// lan is the daemon's presence on the LAN: the mDNS announcement of its
// QUIC port and the browser that finds contacts' daemons. Discovery only
// finds candidates: every connection is still authenticated by the
// pinned key, so a forged announcement can waste a dial, never
// impersonate.
type lan struct {
	db       *history.Store // set once history is open
	log      *slog.Logger
	off      bool // Config.NoMDNS
	iface    string
	interval time.Duration
	peers    *peerSet
	notify   func(api.Event)
	spawn    func(func())
	// kickPathOpened asks everything waiting for a path to try now.
	kickPathOpened func()
	// ctx is the daemon's run: discovery ends with it.
	ctx context.Context

	mu        sync.Mutex
	announcer *discovery.Announcer
	browser   *discovery.Browser
	stop      context.CancelFunc
	done      chan struct{}
}

// start (re)starts announcing port under the identity key and
// browsing, unless discovery is off.
func (l *lan) start(key ed25519.PrivateKey, port int) error {
	if l.off {
		return nil
	}
	l.close()
	log := l.log.With("part", "mdns")
	ann, err := discovery.NewAnnouncer(discovery.AnnouncerConfig{
		Identity: key.Public().(ed25519.PublicKey), Port: port, Iface: l.iface, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("announce on the LAN: %w", err)
	}
	b, err := discovery.NewBrowser(discovery.BrowserConfig{
		Identity: key.Public().(ed25519.PublicKey), Iface: l.iface, Logger: log,
		Interval: l.interval, Jitter: l.interval,
	})
	if err != nil {
		ann.Close()
		return fmt.Errorf("browse the LAN: %w", err)
	}
	ctx, cancel := context.WithCancel(l.ctx)
	done := make(chan struct{})
	l.mu.Lock()
	l.announcer, l.browser, l.stop, l.done = ann, b, cancel, done
	l.mu.Unlock()
	l.spawn(func() {
		defer close(done)
		l.loop(ctx, b)
	})
	return nil
}

// close stops announcing and browsing and waits for the event loop.
func (l *lan) close() {
	l.mu.Lock()
	ann, b, stop, done := l.announcer, l.browser, l.stop, l.done
	l.announcer, l.browser, l.stop, l.done = nil, nil, nil, nil
	l.mu.Unlock()
	if stop == nil {
		return
	}
	stop()
	b.Close()
	ann.Close()
	<-done
}

// current returns the running browser and announcer, or nils.
func (l *lan) current() (*discovery.Browser, *discovery.Announcer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.browser, l.announcer
}

// lanLoop reads the browser's events (it pauses while they go unread) and
// dials contacts as soon as they appear.
func (l *lan) loop(ctx context.Context, b *discovery.Browser) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-b.Events():
			if !ok {
				return
			}
			l.event(ctx, ev)
		}
	}
}

func (l *lan) event(ctx context.Context, ev discovery.Event) {
	user := l.contactByInstance(ctx, ev.Peer.Instance)
	if user == "" {
		return // a stranger: they stay a count in lanchat peers
	}
	addrs := addrStrings(ev.Peer)
	l.log.Debug("LAN peer", "event", ev.Kind.String(), "user", user, "addrs", addrs)
	up := ev.Kind != discovery.Gone
	l.notify(api.Event{Type: api.EventLAN, Connection: &api.Connection{Peer: user, Up: up, Addr: strings.Join(addrs, " ")}})
	if !up {
		return
	}
	l.peers.forgetFailure(user)
	l.spawn(func() {
		if c := l.peers.connect(ctx, user, true); c != nil {
			l.kickPathOpened()
		}
	})
}

// contactByInstance finds the contact whose pinned key announces as
// instance, or "". A held contact (its key changed, or pinned for
// another contact too) is matched by no key: nothing goes to or from
// them until that is resolved.
func (l *lan) contactByInstance(ctx context.Context, instance string) string {
	contacts, err := l.db.Contacts(ctx)
	if err != nil {
		l.log.Warn("list contacts", "err", err)
		return ""
	}
	for _, c := range contacts {
		if !c.Held() && discovery.Recognize(ed25519.PublicKey(c.IdentityKey), instance, time.Now()) {
			return c.Username
		}
	}
	return ""
}

// lanAddrs returns where the browser last heard contact c's daemon.
func (l *lan) addrs(c history.Contact) []string {
	b, _ := l.current()
	if b == nil || c.Held() {
		return nil
	}
	for _, p := range b.Snapshot() {
		if discovery.Recognize(ed25519.PublicKey(c.IdentityKey), p.Instance, time.Now()) {
			return addrStrings(p)
		}
	}
	return nil
}

func addrStrings(p discovery.Peer) []string {
	out := make([]string, 0, len(p.Addrs))
	for _, a := range p.Addrs {
		out = append(out, a.String())
	}
	return out
}

// Peers lists the lanchat daemons seen on the LAN: contacts by name,
// strangers only as a count.
func (d *Daemon) Peers(ctx context.Context) (api.LANPeers, error) {
	if d.cfg.NoMDNS {
		return api.LANPeers{Discovery: api.DiscoveryOff}, nil
	}
	b, _ := d.lan.current()
	if b == nil {
		return api.LANPeers{Discovery: api.DiscoveryIdle}, nil
	}
	out := api.LANPeers{Discovery: api.DiscoveryOn}
	if b.Blocked() != nil {
		out.Discovery = api.DiscoveryBlocked
	}
	contacts, err := d.db.Contacts(ctx)
	if err != nil {
		return api.LANPeers{}, fmt.Errorf("contacts: %w", err)
	}
	// A contact announces today's instance id; clocks on either side of
	// midnight may still use yesterday's or already tomorrow's.
	byID := make(map[string]string, 3*len(contacts))
	now := time.Now()
	for _, c := range contacts {
		if !c.Held() {
			for _, day := range []int{-1, 1, 0} {
				byID[discovery.InstanceIDOn(ed25519.PublicKey(c.IdentityKey), now.AddDate(0, 0, day))] = c.Username
			}
		}
	}
	for _, p := range b.Snapshot() {
		user, ok := byID[p.Instance]
		if !ok {
			out.Others++
			continue
		}
		out.Contacts = append(out.Contacts, api.LANPeer{User: user, Addrs: addrStrings(p), Connected: d.peers.get(user) != nil})
	}
	slices.SortFunc(out.Contacts, func(a, b api.LANPeer) int { return strings.Compare(a.User, b.User) })
	return out, nil
}

// selfProbeTimeout bounds doctor's wait to hear its own announcement.
const selfProbeTimeout = 4 * time.Second

// checkDiscovery reports whether LAN discovery works: on each interface
// the daemon announces on, a short browse must hear its own announcement.
func (dr *doctor) checkDiscovery(ctx context.Context) []api.Check {
	if dr.noMDNS {
		return []api.Check{{Name: "multicast", OK: true, Warn: true,
			Detail: "LAN discovery is off (--no-mdns): contacts are found through the server or at addresses that worked before",
			Fix:    "start the daemon without --no-mdns to find contacts on the LAN when the server is away"}}
	}
	b, ann := dr.lan.current()
	if b == nil {
		return []api.Check{{Name: "multicast", Detail: "LAN discovery has not started: it starts with the identity key",
			Fix: "lanchat register USER, or lanchat login USER"}}
	}
	ifaces := ann.Interfaces()
	if len(ifaces) == 0 {
		c := api.Check{Name: "multicast", Detail: "no network interface that can send multicast is up",
			Fix: "connect to the office network; contacts are still reached through the server or at addresses that worked before"}
		if err := ann.Blocked(); err != nil {
			c.Detail = "cannot announce on the LAN: " + err.Error()
			c.Fix = "another program may hold UDP port 5353, or multicast is off on every interface; contacts are still reached through the server or at addresses that worked before"
		}
		return []api.Check{c}
	}
	checks := make([]api.Check, len(ifaces))
	var wg sync.WaitGroup
	for i, iface := range ifaces {
		wg.Go(func() { checks[i] = dr.probeSelf(ctx, iface, ann.Instance()) })
	}
	wg.Wait()
	return checks
}

// probeSelf browses iface briefly and reports whether our own
// announcement came back.
func (dr *doctor) probeSelf(ctx context.Context, iface, self string) api.Check {
	c := api.Check{Name: "multicast " + iface}
	pb, err := discovery.NewBrowser(discovery.BrowserConfig{Iface: iface, Logger: dr.log.With("part", "mdns-probe"),
		Interval: time.Second, Jitter: -1})
	if err != nil {
		c.Detail = "cannot browse: " + err.Error()
		return c
	}
	defer pb.Close()
	ctx, cancel := context.WithTimeout(ctx, selfProbeTimeout)
	defer cancel()
	for {
		select {
		case ev, ok := <-pb.Events():
			if !ok {
				c.Detail = "the probe stopped before hearing anything on " + iface
				return c
			}
			if ev.Peer.Instance == self && ev.Kind != discovery.Gone {
				c.OK = true
				c.Detail = "this daemon hears its own mDNS announcement on " + iface + "; if contacts' daemons still do not show in lanchat peers, the network between you drops multicast"
				return c
			}
		case <-ctx.Done():
			c.Detail = "this daemon does not hear its own mDNS announcement on " + iface
			if err := pb.Blocked(); err != nil {
				c.Detail += ": " + err.Error()
			}
			c.Fix = "a firewall on this machine may block mDNS: allow UDP port 5353 in and out, and the unicast replies to this machine's queries (a stateful firewall allows those); contacts are still reached through the server or at addresses that worked before"
			return c
		}
	}
}

// findServerTimeout bounds one look for the server on the LAN.
const findServerTimeout = 3 * time.Second

// findServer looks for rendezvous servers announcing themselves on the
// LAN (rendezvous serve --announce) and returns each address with the
// fingerprint it announces, for the link to try in turn: IPv4 first (a
// plain address needs no zone). With --server-fingerprint only that
// server will do. The link pins a fingerprint only once a TLS connection
// proved it and the user confirmed it (register, login).
func (sf *serverFinder) findServer(ctx context.Context) ([]link.Candidate, error) {
	if sf.cfg.NoMDNS {
		return nil, errors.New("no --server given and LAN discovery is off")
	}
	ctx, cancel := context.WithTimeout(ctx, findServerTimeout)
	defer cancel()
	servers, err := discovery.FindServer(ctx, discovery.FindOptions{Iface: sf.cfg.MDNSIface, Logger: sf.log.With("part", "mdns")})
	if err != nil {
		return nil, err
	}
	if len(servers) == 0 {
		return nil, errors.New("no rendezvous server announces itself on the LAN")
	}
	var want string
	if sf.cfg.Fingerprint != "" {
		if want, err = link.NormalizeFingerprint(sf.cfg.Fingerprint); err != nil {
			return nil, fmt.Errorf("--server-fingerprint: %w", err)
		}
	}
	var cands []link.Candidate
	for _, s := range servers {
		if want != "" && s.Fingerprint != want {
			continue
		}
		addrs := slices.Clone(s.Addrs)
		slices.SortStableFunc(addrs, func(x, y netip.AddrPort) int {
			return cmp.Compare(boolInt(!x.Addr().Is4()), boolInt(!y.Addr().Is4()))
		})
		for _, a := range addrs {
			cands = append(cands, link.Candidate{Addr: a.String(), Fingerprint: s.Fingerprint})
		}
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("%d rendezvous servers on the LAN, none with the certificate given by --server-fingerprint", len(servers))
	}
	if len(servers) > 1 {
		sf.log.Warn("several rendezvous servers on the LAN; trying each in turn", "count", len(servers))
	}
	for _, c := range cands {
		fmt.Fprintf(sf.cfg.Out, "found a rendezvous server on the LAN at %s; it announces certificate sha256 %s\n", c.Addr, c.Fingerprint)
	}
	return cands, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
