package discovery

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/mdns"
)

// DefaultRescan is how often an Announcer re-reads the interfaces, to
// follow a new address or a link coming up.
const DefaultRescan = 30 * time.Second

// AnnouncerConfig configures NewAnnouncer, which announces a daemon.
type AnnouncerConfig struct {
	// Identity is the daemon's identity public key; the instance name is
	// InstanceID(Identity).
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

// Announcer answers mDNS queries for one service instance on the LAN,
// with one responder per interface. Close stops it.
type Announcer struct {
	service  string
	instance string
	port     int
	txt      []string
	iface    string
	rescan   time.Duration
	log      *slog.Logger
	lib      *log.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup
	close  sync.Once

	mu        sync.Mutex
	closed    bool
	onIface   map[string]*responder // by interface name
	warned    bool
	lastError error
}

// responder is the library's server on one interface.
type responder struct {
	key string // interface index and addresses announced: a change means a new responder
	srv *mdns.Server
}

// NewAnnouncer announces the daemon: PeerService, instance
// InstanceID(cfg.Identity), cfg.Port, TXT "v=1". It fails only when cfg
// is invalid (bad key or port, an Iface that does not exist); where
// multicast does not work it logs so once and keeps trying.
func NewAnnouncer(cfg AnnouncerConfig) (*Announcer, error) {
	if len(cfg.Identity) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("new announcer: identity key has %d bytes, want %d", len(cfg.Identity), ed25519.PublicKeySize)
	}
	return start(PeerService, InstanceID(cfg.Identity), cfg.Port,
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
	return start(ServerService, "rendezvous-"+cfg.Fingerprint[:12], cfg.Port,
		[]string{"v=" + strconv.Itoa(Version), "fp=" + cfg.Fingerprint}, cfg.Iface, cfg.Logger, cfg.Rescan)
}

func start(service, instance string, port int, txt []string, iface string, logger *slog.Logger, rescan time.Duration) (*Announcer, error) {
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("new announcer: bad port %d", port)
	}
	if err := checkIface(iface); err != nil {
		return nil, fmt.Errorf("new announcer: %w", err)
	}
	if rescan <= 0 {
		rescan = DefaultRescan
	}
	l := orDiscard(logger).With("component", "mdns-announcer", "service", service)
	ctx, cancel := context.WithCancel(context.Background())
	a := &Announcer{
		service:  service,
		instance: instance,
		port:     port,
		txt:      txt,
		iface:    iface,
		rescan:   rescan,
		log:      l,
		lib:      libLogger(l),
		cancel:   cancel,
		onIface:  make(map[string]*responder),
	}
	a.sync()
	a.wg.Go(func() { a.run(ctx) })
	return a, nil
}

// Instance returns the instance name announced.
func (a *Announcer) Instance() string { return a.instance }

// Interfaces returns the names of the interfaces announced on now, sorted.
func (a *Announcer) Interfaces() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	names := make([]string, 0, len(a.onIface))
	for name := range a.onIface {
		names = append(names, name)
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

// Close stops answering and waits for the announcer's goroutine. Peers
// forget the instance only when its TTL runs out: the library sends no
// goodbye. It is safe to call more than once.
func (a *Announcer) Close() error {
	a.close.Do(func() {
		a.cancel()
		a.wg.Wait()
		a.mu.Lock()
		defer a.mu.Unlock()
		a.closed = true
		for name, r := range a.onIface {
			r.srv.Shutdown()
			delete(a.onIface, name)
		}
	})
	return nil
}

func (a *Announcer) run(ctx context.Context) {
	t := time.NewTicker(a.rescan)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.sync()
		}
	}
}

// sync starts a responder on each interface that should have one and
// stops those on interfaces gone or whose addresses changed.
func (a *Announcer) sync() {
	ls, err := links(a.iface)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	want := make(map[string]link, len(ls))
	for _, l := range ls {
		want[l.ifi.Name] = l
	}
	for name, r := range a.onIface {
		if l, ok := want[name]; !ok || r.key != responderKey(l) {
			r.srv.Shutdown()
			delete(a.onIface, name)
		}
	}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for name, l := range want {
		if a.onIface[name] != nil {
			continue
		}
		r, err := a.respond(l)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.onIface[name] = r
		a.log.Debug("announcing", "iface", name, "instance", a.instance, "port", a.port)
	}
	if len(a.onIface) > 0 {
		a.lastError = nil
		if len(errs) > 0 {
			a.log.Debug("not announcing on some interfaces", "err", errors.Join(errs...))
		}
		return
	}
	a.lastError = fmt.Errorf("%w: %w", ErrNoMulticast, errors.Join(errs...))
	if !a.warned {
		a.warned = true
		a.log.Warn("cannot announce on the LAN; will keep trying", "err", a.lastError)
	}
}

// respond starts the library's responder on l.
func (a *Announcer) respond(l link) (*responder, error) {
	zone, err := a.zone(l)
	if err != nil {
		return nil, err
	}
	ifi := l.ifi
	srv, err := mdns.NewServer(&mdns.Config{Zone: zone, Iface: &ifi, Logger: a.lib})
	if err != nil {
		return nil, fmt.Errorf("announce on %s: %w", ifi.Name, err)
	}
	return &responder{key: responderKey(l), srv: srv}, nil
}

// zone returns the records answered on l. The host name is the instance
// name, never os.Hostname (which often names the user), and the
// addresses are given, so the library makes no DNS lookup.
func (a *Announcer) zone(l link) (*mdns.MDNSService, error) {
	ips := l.announced()
	if len(ips) == 0 {
		return nil, fmt.Errorf("announce on %s: no address", l.ifi.Name)
	}
	zone, err := mdns.NewMDNSService(a.instance, a.service, domain, a.instance+"."+domain, a.port, ips, a.txt)
	if err != nil {
		return nil, fmt.Errorf("announce on %s: %w", l.ifi.Name, err)
	}
	return zone, nil
}

func responderKey(l link) string {
	return fmt.Sprint(l.ifi.Index, l.announced())
}
