package discovery

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Browser defaults.
const (
	// DefaultInterval is the least wait between rounds after the burst.
	DefaultInterval = 5 * time.Second
	// DefaultJitter is the most added at random to each wait.
	DefaultJitter = 5 * time.Second
	// DefaultQueryTimeout is how long a round listens for answers.
	DefaultQueryTimeout = time.Second
	// DefaultMaxPeers bounds the peers a Browser keeps.
	DefaultMaxPeers = 1024
)

const (
	burstRounds     = 3  // quick rounds at start, a second apart at most
	maxAddrsPerPeer = 16 // an entry brings one A and one AAAA per query
	eventBuffer     = 64
)

// BrowserConfig configures a Browser. The zero value browses every
// suitable interface with the defaults.
type BrowserConfig struct {
	// Self is the daemon's own InstanceID, never reported.
	Self string
	// Iface restricts browsing to the interface of that name
	// (--mdns-iface); empty means every suitable interface.
	Iface string
	// Logger receives the browser's logs; nil discards them.
	Logger *slog.Logger
	// Interval and Jitter space the rounds of queries after the first
	// burst: each wait is Interval plus a random part of Jitter (5 s and
	// 5 s by default; a negative Jitter means none).
	Interval, Jitter time.Duration
	// QueryTimeout is how long a round listens for answers (1 s by
	// default). Close may wait that long.
	QueryTimeout time.Duration
	// TTL is how long an address, and a peer with no address left, lives
	// without being heard again (3 × (Interval+Jitter) by default).
	TTL time.Duration
	// MaxPeers bounds the peers kept (1024 by default); more are ignored
	// until some are Gone.
	MaxPeers int
}

// Browser keeps browsing the LAN for lanchat daemons (PeerService) and
// reports the changes on Events. Create it with NewBrowser; Close stops it.
type Browser struct {
	cfg    BrowserConfig
	log    *slog.Logger
	lib    *log.Logger
	events chan Event
	cancel context.CancelFunc
	wg     sync.WaitGroup
	close  sync.Once

	mu      sync.Mutex
	table   *table
	blocked error
	warned  bool
}

// NewBrowser starts browsing with an immediate burst of queries. It fails
// only when cfg is invalid (an Iface that does not exist); where multicast
// does not work it logs so once, keeps trying, and Blocked says why.
func NewBrowser(cfg BrowserConfig) (*Browser, error) {
	if cfg.Self != "" && !isInstanceID(cfg.Self) {
		return nil, fmt.Errorf("new browser: self %q is not an instance id", cfg.Self)
	}
	if err := checkIface(cfg.Iface); err != nil {
		return nil, fmt.Errorf("new browser: %w", err)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Jitter == 0 {
		cfg.Jitter = DefaultJitter
	}
	cfg.Jitter = max(cfg.Jitter, 0)
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = DefaultQueryTimeout
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 3 * (cfg.Interval + cfg.Jitter)
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = DefaultMaxPeers
	}
	l := orDiscard(cfg.Logger).With("component", "mdns-browser")
	ctx, cancel := context.WithCancel(context.Background())
	b := &Browser{
		cfg:    cfg,
		log:    l,
		lib:    libLogger(l),
		events: make(chan Event, eventBuffer),
		cancel: cancel,
		table:  newTable(cfg.Self, cfg.TTL, cfg.MaxPeers, maxAddrsPerPeer),
	}
	b.wg.Go(func() { b.run(ctx) })
	return b, nil
}

// Events returns the channel of changes, closed by Close. The caller must
// keep receiving: the browser waits while the channel is full.
func (b *Browser) Events() <-chan Event { return b.events }

// Snapshot returns the peers heard now, sorted by instance.
func (b *Browser) Snapshot() []Peer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.table.snapshot()
}

// Blocked returns why the last round could not query at all (no
// multicast-capable interface, or every query failed; the error wraps
// ErrNoMulticast), or nil when it could.
func (b *Browser) Blocked() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.blocked
}

// Close stops browsing, waits for the browser's goroutines to end (up to
// QueryTimeout) and closes Events. It is safe to call more than once.
func (b *Browser) Close() error {
	b.close.Do(func() {
		b.cancel()
		b.wg.Wait()
	})
	return nil
}

func (b *Browser) run(ctx context.Context) {
	defer close(b.events)
	for round := 1; ; round++ {
		found, err := b.round(ctx)
		if ctx.Err() != nil {
			return
		}
		b.mu.Lock()
		events, refused := b.table.update(time.Now(), found)
		b.blocked = err
		warn := err != nil && !b.warned
		b.warned = b.warned || warn
		b.mu.Unlock()
		switch {
		case warn:
			b.log.Warn("LAN discovery is not working; contacts will be reached through the endpoints the server reports", "err", err)
		case err != nil:
			b.log.Debug("mdns round failed", "err", err)
		}
		if refused > 0 {
			b.log.Debug("peer table full", "max", b.cfg.MaxPeers, "refused", refused)
		}
		for _, ev := range events {
			select {
			case b.events <- ev:
			case <-ctx.Done():
				return
			}
		}
		t := time.NewTimer(b.wait(round))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// wait returns the pause after round: short during the first burst, then
// Interval plus jitter so that daemons started together drift apart.
func (b *Browser) wait(round int) time.Duration {
	if round < burstRounds {
		return min(time.Second, b.cfg.Interval)
	}
	d := b.cfg.Interval
	if b.cfg.Jitter > 0 {
		d += rand.N(b.cfg.Jitter)
	}
	return d
}

// round queries once and returns the valid peers heard.
func (b *Browser) round(ctx context.Context) ([]Peer, error) {
	hs, err := sweep(ctx, PeerService, b.cfg.Iface, b.cfg.QueryTimeout, b.lib)
	var (
		peers   []Peer
		ignored int
		reason  error
	)
	for _, h := range hs {
		p, perr := parsePeer(h.entry, h.from)
		if perr != nil {
			ignored++
			reason = perr
			continue
		}
		peers = append(peers, p)
	}
	if ignored > 0 {
		b.log.Debug("ignored mdns entries", "count", ignored, "last_reason", reason)
	}
	return peers, err
}

// checkIface fails when name is set but names no interface: a typo in
// --mdns-iface should not pass silently. An interface that exists but is
// down is fine; it may come up.
func checkIface(name string) error {
	if name == "" {
		return nil
	}
	if _, err := net.InterfaceByName(name); err != nil {
		return fmt.Errorf("interface %s: %w", name, err)
	}
	return nil
}
