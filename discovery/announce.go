package discovery

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DefaultRescan is how often an Announcer re-reads the interfaces, to
// follow a new address or a link coming up.
const DefaultRescan = 30 * time.Second

// AnnouncerConfig configures NewAnnouncer, which announces a daemon.
type AnnouncerConfig struct {
	// Identity is the daemon's identity public key; the instance name is
	// InstanceID(Identity), which changes every UTC day.
	Identity ed25519.PublicKey
	// Port is the daemon's QUIC (UDP) port.
	Port int
	// Iface restricts the announcement to the interface of that name
	// (--mdns-iface); empty means every suitable interface.
	Iface string
	// Logger receives the announcer's logs; nil discards them.
	Logger *slog.Logger
	// Rescan is how often the interfaces are re-read (DefaultRescan when
	// zero).
	Rescan time.Duration
}

// ServerAnnouncerConfig configures NewServerAnnouncer, which announces a
// rendezvous server (rendezvous serve --announce).
type ServerAnnouncerConfig struct {
	// Port is the server's TCP port.
	Port int
	// Fingerprint is the SHA-256 of the server's certificate, 64
	// lower-case hex digits (rendezvous.Fingerprint).
	Fingerprint string
	// Iface, Logger and Rescan are as in AnnouncerConfig.
	Iface  string
	Logger *slog.Logger
	Rescan time.Duration
}

// Announcer answers mDNS queries for one service instance on the LAN as
// RFC 6762 says, sharing port 5353 with the host's other mDNS programs.
// It announces itself when it starts, on a new link and when its instance
// name changes, and says goodbye when it stops or leaves a link. Close
// stops it.
type Announcer struct {
	service string
	name    func(time.Time) string // the instance name on a day
	port    int
	txt     []string
	iface   string
	rescan  time.Duration
	log     *slog.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup // the run goroutine
	close  sync.Once

	// mu guards what follows; the run goroutine changes it, the
	// endpoint's readers and callers read it.
	mu        sync.Mutex
	ep        *endpoint     // nil while no link works
	instance  string        // the name announced now
	zones     map[int]*zone // by interface index
	sent      map[string]time.Time
	warned    bool
	lastError error
}

// NewAnnouncer announces the daemon: PeerService, instance
// InstanceID(cfg.Identity), cfg.Port, TXT "v=1". It fails only when cfg
// is invalid (bad key or port, an Iface that does not exist); where
// multicast does not work it logs so once and keeps trying.
func NewAnnouncer(cfg AnnouncerConfig) (*Announcer, error) {
	if len(cfg.Identity) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("new announcer: identity key has %d bytes, want %d", len(cfg.Identity), ed25519.PublicKeySize)
	}
	key := slices.Clone(cfg.Identity)
	return start(PeerService, func(t time.Time) string { return InstanceIDOn(key, t) }, cfg.Port,
		[]string{"v=" + strconv.Itoa(Version)}, cfg.Iface, cfg.Logger, cfg.Rescan)
}

// NewServerAnnouncer announces a rendezvous server: ServerService,
// cfg.Port, TXT "v=1" and "fp=<cfg.Fingerprint>", under the instance name
// "rendezvous-" and the fingerprint's first 12 digits. It fails only when
// cfg is invalid.
func NewServerAnnouncer(cfg ServerAnnouncerConfig) (*Announcer, error) {
	if !isFingerprint(cfg.Fingerprint) {
		return nil, errors.New("new server announcer: fingerprint is not 64 lower-case hex digits")
	}
	name := "rendezvous-" + cfg.Fingerprint[:12]
	return start(ServerService, func(time.Time) string { return name }, cfg.Port,
		[]string{"v=" + strconv.Itoa(Version), "fp=" + cfg.Fingerprint}, cfg.Iface, cfg.Logger, cfg.Rescan)
}

func start(service string, name func(time.Time) string, port int, txt []string, iface string, logger *slog.Logger, rescan time.Duration) (*Announcer, error) {
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("new announcer: bad port %d", port)
	}
	if err := checkIface(iface); err != nil {
		return nil, fmt.Errorf("new announcer: %w", err)
	}
	if rescan <= 0 {
		rescan = DefaultRescan
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Announcer{
		service:  service,
		name:     name,
		port:     port,
		txt:      txt,
		iface:    iface,
		rescan:   rescan,
		log:      orDiscard(logger).With("component", "mdns-announcer", "service", service),
		cancel:   cancel,
		instance: name(time.Now()),
		zones:    make(map[int]*zone),
		sent:     make(map[string]time.Time),
	}
	fresh := a.sync()
	a.wg.Go(func() { a.run(ctx, fresh) })
	return a, nil
}

// Instance returns the instance name announced now.
func (a *Announcer) Instance() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.instance
}

// Interfaces returns the names of the interfaces announced on now, sorted.
func (a *Announcer) Interfaces() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var names []string
	if a.ep != nil {
		for _, l := range a.ep.joined() {
			if a.zones[l.ifi.Index] != nil {
				names = append(names, l.ifi.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// Blocked returns why the announcement is on no interface at all (the
// error wraps ErrNoMulticast), or nil when it is on at least one.
func (a *Announcer) Blocked() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastError
}

// Close says goodbye on every link, so that browsers forget the instance
// at once, stops answering and waits for the announcer's goroutines. It is
// safe to call more than once.
func (a *Announcer) Close() error {
	a.close.Do(func() {
		a.cancel()
		a.wg.Wait()
	})
	return nil
}

// run re-reads the interfaces every rescan, changes the instance name at
// midnight (UTC), repeats each announcement once a second later (RFC 6762
// section 8.3), and says goodbye when ctx ends.
func (a *Announcer) run(ctx context.Context, fresh []int) {
	defer a.stop()
	rescan := time.NewTicker(a.rescan)
	defer rescan.Stop()
	again := time.NewTimer(time.Second)
	defer again.Stop()
	day := time.NewTimer(nextDay(time.Now()) + time.Second)
	defer day.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-again.C:
			a.announce(fresh, false)
			fresh = nil
		case <-day.C:
			day.Reset(nextDay(time.Now()) + time.Second)
			fresh = append(fresh, a.sync()...)
			again.Reset(time.Second)
		case <-rescan.C:
			fresh = append(fresh, a.sync()...)
			again.Reset(time.Second)
		}
	}
}

// stop says goodbye on every link and closes the sockets.
func (a *Announcer) stop() {
	a.mu.Lock()
	ep, zones := a.ep, a.zones
	a.ep, a.zones = nil, map[int]*zone{}
	a.mu.Unlock()
	if ep == nil {
		return
	}
	for _, l := range ep.joined() {
		if z := zones[l.ifi.Index]; z != nil {
			if err := ep.multicast(l, z.announcement(true)); err != nil {
				a.log.Debug("goodbye", "iface", l.ifi.Name, "err", err)
			}
		}
	}
	ep.close()
}

// sync opens the sockets if need be, follows the links and their
// addresses and the instance name of the day: it says goodbye for what
// is no longer true, announces what is new and returns the interfaces
// announced on anew, to announce once more a second later.
func (a *Announcer) sync() []int {
	ls, err := links(a.iface)
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if a.ep == nil && len(ls) > 0 {
		ep, err := listen(ls, a.handle)
		if err != nil {
			errs = append(errs, err)
		} else {
			a.ep = ep
		}
	}
	var fresh []int
	if a.ep != nil {
		// Goodbye first, while the old links are still joined.
		instance := a.name(time.Now())
		want := make(map[int]*zone, len(ls))
		for _, l := range ls {
			want[l.ifi.Index] = newZone(a.service, instance, a.port, a.txt, l.announced())
		}
		for _, l := range a.ep.joined() {
			old := a.zones[l.ifi.Index]
			if old != nil && (want[l.ifi.Index] == nil || !sameZone(old, want[l.ifi.Index])) {
				a.ep.multicast(l, old.announcement(true))
				delete(a.zones, l.ifi.Index)
			}
		}
		if err := a.ep.join(ls); err != nil {
			errs = append(errs, err)
		}
		a.instance = instance
		for _, l := range a.ep.joined() {
			if a.zones[l.ifi.Index] != nil {
				continue
			}
			z := want[l.ifi.Index]
			if err := a.ep.multicast(l, z.announcement(false)); err != nil {
				errs = append(errs, err)
				continue
			}
			a.zones[l.ifi.Index] = z
			fresh = append(fresh, l.ifi.Index)
			a.log.Debug("announcing", "iface", l.ifi.Name, "instance", instance, "port", a.port)
		}
	}
	if len(a.zones) > 0 {
		a.lastError = nil
		if len(errs) > 0 {
			a.log.Debug("not announcing on some interfaces", "err", errors.Join(errs...))
		}
		return fresh
	}
	a.lastError = fmt.Errorf("%w: %w", ErrNoMulticast, errors.Join(errs...))
	if !errors.Is(a.lastError, ErrNoMulticast) {
		a.lastError = fmt.Errorf("%w: %w", ErrNoMulticast, a.lastError)
	}
	if !a.warned {
		a.warned = true
		a.log.Warn("cannot announce on the LAN; will keep trying", "err", a.lastError)
	}
	return fresh
}

// announce sends the records of the zones on the links given again.
func (a *Announcer) announce(indexes []int, goodbye bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ep == nil {
		return
	}
	for _, idx := range indexes {
		l, ok := a.ep.linkOf(idx)
		z := a.zones[idx]
		if ok && z != nil {
			a.ep.multicast(l, z.announcement(goodbye))
		}
	}
}

// handle answers a query heard on one of our links. It runs on the
// endpoint's reader goroutines.
func (a *Announcer) handle(p packet) {
	if p.msg.Response {
		return // we run no conflict resolution: our names are unique
	}
	a.mu.Lock()
	z, ep := a.zones[p.link.ifi.Index], a.ep
	if z == nil || ep == nil {
		a.mu.Unlock()
		return
	}
	r := z.answer(p.msg, p.src.Port(), p.multicast)
	if r != nil && !r.unicast {
		// Section 6: a record goes to the group at most once a second.
		now := time.Now()
		kept := r.msg.Answer[:0]
		for _, rr := range r.msg.Answer {
			k := strconv.Itoa(p.link.ifi.Index) + " " + rr.Header().Name + " " + strconv.Itoa(int(rr.Header().Rrtype)) + " " + rdataKey(rr)
			if now.Sub(a.sent[k]) < time.Second {
				continue
			}
			a.sent[k] = now
			kept = append(kept, rr)
		}
		if len(a.sent) > 4*maxRecordsPerPacket {
			clear(a.sent)
		}
		r.msg.Answer = kept
		if len(kept) == 0 {
			r = nil
		}
	}
	a.mu.Unlock()
	if r == nil {
		return
	}
	var err error
	if r.unicast {
		err = ep.unicast(p.link, p.src, r.msg)
	} else {
		err = ep.multicast(p.link, r.msg)
	}
	if err != nil {
		a.log.Debug("answer", "iface", p.link.ifi.Name, "err", err)
	}
}

func sameZone(x, y *zone) bool {
	if len(x.records) != len(y.records) {
		return false
	}
	for i := range x.records {
		if !sameRR(x.records[i], y.records[i]) {
			return false
		}
	}
	return true
}

// orDiscard returns l, or a logger that drops everything when l is nil.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
