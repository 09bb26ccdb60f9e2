// Package daemon is the peer daemon every user runs: it holds the user's
// identity and history, keeps the link to the rendezvous server, talks
// directly to contacts over QUIC, keeps the outbox moving, and serves the
// local API (package api) that the lanchat CLI uses.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/outbox"
	"github.com/lanchat/lanchat/peer/daemon/roster"
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

// serverLink is what the daemon needs of its link to the server (a
// *link.Link); components declare the narrower parts they use.
type serverLink interface {
	sessionLink
	Run(ctx context.Context) error
	Events() <-chan link.Event
	Connected() bool
	Relay(ctx context.Context, env wire.RelayEnvelope) error
}

// Daemon is one user's running peer.
type Daemon struct {
	cfg    Config
	log    *slog.Logger
	home   *home.Home
	db     *history.Store // open while Run runs
	link   serverLink     // made by Run
	events *broker

	// The components; each owns its state (see docs/architecture.md,
	// "The daemon's components").
	session   *session
	keyring   *keyring
	roster    *roster.Roster
	peers     *peerSet
	outbox    *outbox.Outbox // made by Run, on the history store
	messages  *messages
	avatars   *avatars
	transfers *transfers
	// library is the API's LibraryService (library.go), served beside
	// the Daemon rather than embedded in it.
	library *library
	// rich and rooms serve those parts of the API (richops.go, rooms.go).
	rich  *richOps
	rooms *roomOps
	feed  *serverFeed
	lan   *lan
	// notifier is nil without cfg.Desktop.
	notifier *notify.Notifier

	// ctx is Run's context: goroutines the daemon starts end with it.
	ctx context.Context
	wg  sync.WaitGroup

	// mu guards transport, the direct listener: nil until there is an
	// identity, replaced when it changes.
	mu        sync.Mutex
	transport *direct.Transport
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
		cfg:    cfg,
		log:    cfg.Logger,
		home:   cfg.Home,
		events: newBroker(),

		roster: roster.New(),
	}
	// kick asks the outbox and the transfer scheduler to try everything
	// at once: a contact came online, a direct connection opened, or the
	// server link came back. The outbox exists once Run opened history.
	kick := func() {
		d.outbox.PathOpened()
		d.transfers.kickTransfers()
	}
	d.session = &session{
		home:           cfg.Home,
		log:            cfg.Logger,
		prekeyLifetime: cfg.PrekeyLifetime,
		relayRetention: cfg.RelayRetention,
		startIdentity:  d.useIdentity,
		hasListener:    func() bool { return d.currentTransport() != nil },
		online:         func() { d.spawn(func() { d.feed.online(d.ctx) }) },
		ended:          func() { d.peers.closeAll() },
	}
	d.keyring = &keyring{
		log:          cfg.Logger,
		session:      d.session,
		notify:       d.events.publish,
		closeContact: func(user string) { d.peers.close(user) },
		released: func(string) {
			d.outbox.Kick()
			d.messages.kickReexamine() // relayed messages from them wait parked
		},
		roster: d.roster,
	}
	d.avatars = &avatars{
		log:     cfg.Logger,
		session: d.session,
		roster:  d.roster,
		notify:  d.events.publish,
	}
	d.session.keepAvatar = d.avatars.keepOwnAvatar
	d.peers = newPeerSet(d, kick)
	d.messages = &messages{
		home:           cfg.Home,
		log:            cfg.Logger,
		session:        d.session,
		roster:         d.roster,
		keyring:        d.keyring,
		peers:          d.peers,
		notify:         d.events.publish,
		relayRetention: cfg.RelayRetention,
		reexamineKick:  make(chan struct{}, 1),
	}
	d.transfers = &transfers{
		home:         cfg.Home,
		log:          cfg.Logger,
		session:      d.session,
		roster:       d.roster,
		messages:     d.messages,
		peers:        d.peers,
		notify:       d.events.publish,
		spawn:        d.spawn,
		waitSynced:   func(ctx context.Context) { d.feed.waitSynced(ctx) },
		downloadsDir: cfg.Downloads,
		askFiles:     cfg.AskFiles,
		transferKick: make(chan struct{}, 1),
		progress:     make(chan transfer.Status, 256),
	}
	d.library = &library{
		log:       cfg.Logger,
		session:   d.session,
		roster:    d.roster,
		peers:     d.peers,
		kick:      func() { d.outbox.Kick() },
		downloads: d.transfers.downloads,
	}
	d.messages.library, d.transfers.library = d.library, d.library
	d.lan = &lan{
		log:            cfg.Logger,
		off:            cfg.NoMDNS,
		iface:          cfg.MDNSIface,
		interval:       cfg.MDNSInterval,
		peers:          d.peers,
		notify:         d.events.publish,
		spawn:          d.spawn,
		kickPathOpened: kick,
	}
	d.peers.lan = d.lan
	d.peers.messages, d.peers.transfers = d.messages, d.transfers
	d.feed = &serverFeed{
		log:            cfg.Logger,
		session:        d.session,
		roster:         d.roster,
		keyring:        d.keyring,
		messages:       d.messages,
		avatars:        d.avatars,
		peers:          d.peers,
		notify:         d.events.publish,
		transport:      d.currentTransport,
		kickPathOpened: kick,
		resync:         make(chan struct{}, 1),
	}
	d.messages.rosterSettled = d.feed.syncs.wait
	d.library.rosterSettled = d.feed.syncs.wait
	d.rich = &richOps{session: d.session, messages: d.messages, transfers: d.transfers, home: d.home}
	d.rooms = &roomOps{session: d.session, feed: d.feed, roster: d.roster, log: cfg.Logger}
	if cfg.Desktop != nil {
		d.notifier = notify.New(d, cfg.Desktop, d.rich.mutedTarget, cfg.Logger.With("part", "notify")) // richops.go
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
	d.session.db = db
	d.keyring.db = db
	d.messages.db = db
	d.feed.db = db
	d.avatars.db = db
	d.library.db = db
	d.outbox = outbox.New(outbox.Config{
		Store:    db,
		Direct:   directPath{d.messages},
		Relay:    relayPath{d.messages},
		Sent:     d.messages.messageState,
		Interval: d.cfg.FlushInterval,
		Logger:   d.log.With("part", "outbox"),
	})
	d.messages.outbox = d.outbox
	d.feed.outbox = d.outbox
	if err := d.feed.loadRoster(ctx); err != nil {
		return fmt.Errorf("roster kept from the last sync: %w", err)
	}
	d.keyring.checkSharedKeys(ctx)
	d.transfers.db = db
	d.lan.db = db
	d.peers.db = db
	if d.transfers.receiver, err = d.transfers.newReceiver(); err != nil {
		return fmt.Errorf("file receiver: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.ctx = ctx
	d.transfers.ctx = ctx
	d.library.ctx = ctx
	d.lan.ctx = ctx
	d.keyring.ctx = ctx
	d.peers.ctx = ctx

	// The app listens before the socket answers, so lanchat ui works as
	// soon as any command does.
	socket, err := d.startUI(ctx, api.NewHandler(d, api.Parts{Library: d.library, Rich: d.rich, Rooms: d.rooms}, d.log.With("part", "api")))
	if err != nil {
		d.transfers.receiver.Close()
		return err
	}
	if err := d.loadIdentity(); err != nil {
		return err
	}
	// A stored session lets the daemon work for its user before the
	// server confirms it, or while the server is away.
	if user, tok, err := d.home.Token(); err == nil && user != "" && tok != "" && d.session.key() != nil {
		d.session.resumed(wire.Profile{Username: user})
	}
	servers := &serverFinder{cfg: &d.cfg, home: d.home, log: d.log, addr: func() string { return d.link.Addr() }}
	pin, err := servers.serverPin()
	if err != nil {
		return err
	}
	d.link = link.New(link.Config{
		Addr:             d.cfg.Server,
		Resolve:          servers.findServer,
		Fingerprint:      pin,
		FingerprintGiven: d.cfg.Fingerprint != "",
		Pin:              servers.pinServer,
		Session:          d.session.sessionToken,
		OnSessionInvalid: d.session.sessionInvalid,
		ClientName:       "lanchat-daemon/" + d.cfg.Version,
		EventBuffer:      4096,
		Logger:           d.log.With("part", "link"),
	})
	d.session.link = d.link
	d.keyring.link = d.link
	d.messages.link = d.link
	d.feed.link = d.link
	d.avatars.link = d.link
	d.library.link = d.link
	d.peers.link = d.link
	d.rooms.link = d.link

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
	d.spawn(func() { d.feed.serverLoop(ctx) })
	d.spawn(func() { d.feed.syncLoop(ctx) })
	d.spawn(func() { d.outbox.Run(ctx) })
	d.spawn(func() { d.session.prekeyLoop(ctx) })
	d.spawn(func() { d.transfers.transferLoop(ctx) })
	d.spawn(func() { d.transfers.progressLoop(ctx) })
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
	d.transfers.receiver.Close()
	d.lan.close()
	d.events.close()
	d.mu.Lock()
	t := d.transport
	d.mu.Unlock()
	if t != nil {
		t.Close()
	}
	d.peers.contacts.Wait()
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
