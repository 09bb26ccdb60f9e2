// Package daemon is the peer daemon every user runs: it holds the user's
// identity and history, keeps the link to the rendezvous server, talks
// directly to contacts over QUIC, keeps the outbox moving, and serves the
// local API (package api) that the lanchat CLI uses.
package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanchat/lanchat/internal/keylock"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/home"
	"github.com/lanchat/lanchat/peer/link"
	"github.com/lanchat/lanchat/peer/notify"
	"github.com/lanchat/lanchat/peer/webui"
	"github.com/lanchat/lanchat/transfer"
)

// Defaults for Config fields left zero.
const (
	DefaultListen         = "0.0.0.0:0"
	DefaultPrekeyLifetime = 7 * 24 * time.Hour
	// DefaultRelayRetention must match the server's relay retention: a
	// prekey secret is kept that long after its public half expired.
	DefaultRelayRetention = 30 * 24 * time.Hour
	// DefaultFlushInterval matches the shortest retry back-off, so a
	// copy is tried again about when its retry time comes.
	DefaultFlushInterval = 5 * time.Second
)

// Config says how a daemon runs.
type Config struct {
	// Home is the user's data directory, already opened.
	Home *home.Home
	// Server is the rendezvous server's host:port, or several nodes of
	// one service, comma-separated, all with one certificate (tried in
	// turn, the last that worked first). Fingerprint pins its
	// certificate; empty means the one pinned in Home, else trust on
	// first use (the pin is saved and printed to Out).
	Server      string
	Fingerprint string
	// Listen is the UDP address of the direct QUIC listener.
	Listen    string
	Downloads string
	// AskFiles makes every file offer wait for lanchat accept; by
	// default friends' files go straight into Downloads.
	AskFiles bool
	// NoMDNS turns LAN discovery off: contacts are then reached at the
	// addresses the server reports or that worked before.
	NoMDNS bool
	// MDNSIface restricts discovery to one interface; MDNSInterval spaces
	// the browser's queries (0: the discovery package's default).
	MDNSIface    string
	MDNSInterval time.Duration
	Version      string
	// UI is the web app's loopback address (webui.DefaultAddr if empty);
	// NoUI turns the app off.
	UI   string
	NoUI bool
	// Desktop, if set, shows notifications of what arrives while no
	// client shows its conversation (see peer/notify).
	Desktop notify.Desktop

	PrekeyLifetime time.Duration
	RelayRetention time.Duration
	FlushInterval  time.Duration
	Direct         direct.Options

	// Out receives the few lines a user must see when the daemon starts
	// (what it pinned, where it listens).
	Out    io.Writer
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.UI == "" {
		c.UI = webui.DefaultAddr
	}
	if c.PrekeyLifetime == 0 {
		c.PrekeyLifetime = DefaultPrekeyLifetime
	}
	if c.RelayRetention == 0 {
		c.RelayRetention = DefaultRelayRetention
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Daemon is one user's running peer.
type Daemon struct {
	cfg    Config
	log    *slog.Logger
	home   *home.Home
	db     *history.Store
	link   *link.Link
	events *broker
	peers  *peerSet
	lan    lan
	// kick asks the outbox flusher for a round now; pathOpened makes that
	// round ignore the copies' retry back-off, since a path just opened.
	kick       chan struct{}
	pathOpened atomic.Bool
	// sendLocks keep one recipient's outbox copies going out in order.
	sendLocks keylock.Set
	// parkMu serialises taking relayed envelopes and re-examining the
	// parked ones (parked.go). reexamineKick asks the server loop for a
	// re-examination, from paths that may run under parkMu.
	parkMu        sync.Mutex
	reexamineKick chan struct{}
	keys          keyCache
	// notifier is nil without cfg.Desktop.
	notifier *notify.Notifier

	receiver     *transfer.Receiver
	outgoing     sending
	decisions    decisions
	rates        rates
	transferKick chan struct{}
	progress     chan transfer.Status

	// rosterSync makes roster syncs run one at a time (syncRoster).
	rosterSync sync.Mutex
	// synced is closed by the first roster sync of this run.
	synced     chan struct{}
	syncedOnce sync.Once

	// ctx is Run's context: goroutines the daemon starts end with it.
	ctx context.Context
	wg  sync.WaitGroup

	mu        sync.Mutex
	identity  ed25519.PrivateKey // nil until register or login makes one
	transport *direct.Transport  // nil until there is an identity
	me        wire.Profile       // zero while not logged in
	signedOut string             // why the server ended the session, if it did
	roster    roster
	// sharedWarned holds when each set of contacts (names joined by
	// commas) was last warned of as sharing one key (warnSharedKey).
	sharedWarned map[string]time.Time
}

// New prepares a daemon; Run starts it.
func New(cfg Config) (*Daemon, error) {
	cfg.setDefaults()
	if cfg.Home == nil {
		return nil, errors.New("daemon: no home directory")
	}
	if cfg.Server != "" {
		addrs := link.SplitAddrs(cfg.Server)
		if len(addrs) == 0 {
			return nil, fmt.Errorf("daemon: server address %q: no HOST:PORT in it", cfg.Server)
		}
		for _, a := range addrs {
			if _, _, err := net.SplitHostPort(a); err != nil {
				return nil, fmt.Errorf("daemon: server address %q: %w", a, err)
			}
		}
	} else if cfg.NoMDNS {
		if p, err := cfg.Home.Server(); err != nil || p.Addr == "" {
			return nil, errors.New("daemon: no server address: give --server HOST:PORT, or leave LAN discovery on to find one")
		}
	}
	d := &Daemon{
		cfg:           cfg,
		log:           cfg.Logger,
		home:          cfg.Home,
		events:        newBroker(),
		kick:          make(chan struct{}, 1),
		reexamineKick: make(chan struct{}, 1),

		transferKick: make(chan struct{}, 1),
		progress:     make(chan transfer.Status, 256),
		roster:       newRoster(),
		synced:       make(chan struct{}),
	}
	d.peers = newPeerSet(d)
	if cfg.Desktop != nil {
		d.notifier = notify.New(d, cfg.Desktop, d.mutedTarget, cfg.Logger.With("part", "notify")) // rich.go
	}
	return d, nil
}

// Run runs the daemon until ctx ends. It holds the home's lock, so a second
// daemon for the same home fails at once.
func (d *Daemon) Run(ctx context.Context) error {
	unlock, err := d.home.Lock()
	if err != nil {
		return err
	}
	defer unlock()

	db, err := history.Open(ctx, d.home.HistoryPath())
	if err != nil {
		return fmt.Errorf("open history: %w", err)
	}
	defer db.Close()
	d.db = db
	if err := d.loadRoster(ctx); err != nil {
		return fmt.Errorf("roster kept from the last sync: %w", err)
	}
	d.checkSharedKeys(ctx)
	if d.receiver, err = d.newReceiver(); err != nil {
		return fmt.Errorf("file receiver: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.ctx = ctx

	// The app listens before the socket answers, so lanchat ui works as
	// soon as any command does.
	socket, err := d.startUI(ctx, api.NewHandler(d, d.log.With("part", "api")))
	if err != nil {
		d.receiver.Close()
		return err
	}
	if err := d.loadIdentity(); err != nil {
		return err
	}
	// A stored session lets the daemon work for its user before the
	// server confirms it, or while the server is away.
	if user, tok, err := d.home.Token(); err == nil && user != "" && tok != "" && d.identity != nil {
		d.me = wire.Profile{Username: user}
	}
	pin, err := d.serverPin()
	if err != nil {
		return err
	}
	d.link = link.New(link.Config{
		Addr:             d.cfg.Server,
		Resolve:          d.findServer,
		Fingerprint:      pin,
		FingerprintGiven: d.cfg.Fingerprint != "",
		Pin:              d.pinServer,
		Session:          d.sessionToken,
		OnSessionInvalid: d.sessionInvalid,
		ClientName:       "lanchat-daemon/" + d.cfg.Version,
		EventBuffer:      4096,
		Logger:           d.log.With("part", "link"),
	})

	// The socket listens before the daemon says it is up, so a client
	// started on that line finds it answering.
	ln, err := api.Listen(d.home.SocketPath())
	if err != nil {
		d.stop(cancel)
		return fmt.Errorf("local API: %w", err)
	}
	errc := make(chan error, 1)
	d.spawn(func() {
		if err := d.link.Run(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("server link stopped", "err", err)
		}
	})
	d.spawn(func() { d.serverLoop(ctx) })
	d.spawn(func() { d.flushLoop(ctx) })
	d.spawn(func() { d.prekeyLoop(ctx) })
	d.spawn(func() { d.transferLoop(ctx) })
	d.spawn(func() { d.progressLoop(ctx) })
	if d.notifier != nil {
		d.spawn(func() { d.notifier.Run(ctx) })
	}
	d.spawn(func() {
		if err := api.ServeListener(ctx, ln, socket); err != nil && ctx.Err() == nil {
			errc <- fmt.Errorf("local API: %w", err)
		}
	})
	fmt.Fprintf(d.cfg.Out, "lanchat daemon running; local API on %s\n", d.home.SocketPath())

	select {
	case <-ctx.Done():
		err = nil
	case err = <-errc:
	}
	d.stop(cancel)
	return err
}

// stop ends what Run started: cancel ends Run's context.
func (d *Daemon) stop(cancel context.CancelFunc) {
	cancel()
	d.receiver.Close()
	d.lan.close()
	d.events.close()
	d.mu.Lock()
	t := d.transport
	d.mu.Unlock()
	if t != nil {
		t.Close()
	}
	d.wg.Wait()
}

// spawn runs f on a goroutine that Run waits for.
func (d *Daemon) spawn(f func()) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		f()
	}()
}

// loadIdentity reads the identity key, if the home has one, and starts the
// direct listener with it.
func (d *Daemon) loadIdentity() error {
	key, err := d.home.Identity()
	if errors.Is(err, home.ErrNoIdentity) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("identity key: %w", err)
	}
	return d.useIdentity(key)
}

// useIdentity makes key the daemon's identity and (re)starts the direct
// listener, whose certificate carries it.
func (d *Daemon) useIdentity(key ed25519.PrivateKey) error {
	d.mu.Lock()
	old := d.transport
	d.identity = key
	d.transport = nil
	d.mu.Unlock()
	if old != nil {
		old.Close()
	}
	listen := d.cfg.Listen
	if old != nil {
		listen = old.LocalAddr().String() // keep the port peers know
	}
	t, err := d.listenDirect(listen, key)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.transport = t
	d.mu.Unlock()
	fmt.Fprintf(d.cfg.Out, "direct connections (QUIC) on udp %s\n", t.LocalAddr())
	d.spawn(func() { d.peers.acceptLoop(d.ctx, t) })
	if err := d.startLAN(key, t.LocalAddr().Port); err != nil {
		return err
	}
	return nil
}

// listenDirect opens the direct listener on listen. With port 0 it first
// tries the port of the last run, so contacts that remember our address
// find us again; if that port is taken, any port does.
func (d *Daemon) listenDirect(listen string, key ed25519.PrivateKey) (*direct.Transport, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w", listen, err)
	}
	if last := d.home.ListenPort(); port == "0" && last != 0 {
		t, err := direct.Listen(net.JoinHostPort(host, strconv.Itoa(last)), key, d.authorize, d.directOptions())
		if err == nil {
			return t, nil
		}
		d.log.Info("the last direct port is taken; using another", "port", last, "err", err)
	}
	t, err := direct.Listen(listen, key, d.authorize, d.directOptions())
	if err != nil {
		return nil, fmt.Errorf("listen for direct connections on %s: %w", listen, err)
	}
	if err := d.home.SaveListenPort(t.LocalAddr().Port); err != nil {
		d.log.Warn("remember the direct port", "err", err)
	}
	return t, nil
}

func (d *Daemon) directOptions() direct.Options {
	o := d.cfg.Direct
	if o.Logger == nil {
		o.Logger = d.log.With("part", "direct")
	}
	return o
}

// currentTransport returns the direct listener, or nil.
func (d *Daemon) currentTransport() *direct.Transport {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.transport
}

// self returns the logged-in username, or "".
func (d *Daemon) self() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.me.Username
}

// requireLogin returns the logged-in username or an error saying why there
// is none.
func (d *Daemon) requireLogin() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.me.Username != "" {
		return d.me.Username, nil
	}
	if d.signedOut != "" {
		return "", api.Errorf(api.CodeNotLoggedIn, "signed out (%s); log in again with: lanchat login USER", d.signedOut)
	}
	return "", api.Errorf(api.CodeNotLoggedIn, "not logged in; run: lanchat register USER, or lanchat login USER")
}

// notify publishes an event to local clients.
func (d *Daemon) notify(ev api.Event) { d.events.publish(ev) }

// pathOpened asks for an outbox round that retries every copy at once:
// a contact came online, a direct connection opened, or the server link
// came back.
func (d *Daemon) kickPathOpened() {
	d.pathOpened.Store(true)
	d.kickFlush()
	d.kickTransfers()
}

// kickFlush asks the outbox flusher for a round soon.
func (d *Daemon) kickFlush() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}
