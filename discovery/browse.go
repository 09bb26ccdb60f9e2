package discovery

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"
)

// Browser defaults.
const (
	// DefaultInterval is the least wait between rounds after the burst.
	DefaultInterval = 5 * time.Second
	// DefaultJitter is the most added at random to each wait.
	DefaultJitter = 5 * time.Second
	// DefaultMaxPeers bounds the peers a Browser keeps.
	DefaultMaxPeers = 1024
)

const (
	maxAddrsPerPeer = 16
	eventBuffer     = 64
)

// BrowserConfig configures a Browser. The zero value browses every
// suitable interface with the defaults.
type BrowserConfig struct {
	// Identity is the daemon's own identity key: its instances (of any
	// day) are never reported.
	Identity ed25519.PublicKey
	// Iface restricts browsing to the interface of that name
	// (--mdns-iface); empty means every suitable interface.
	Iface string
	// Logger receives the browser's logs; nil discards them.
	Logger *slog.Logger
	// Interval and Jitter space the rounds of queries after the first
	// burst: each wait is Interval plus a random part of Jitter (5 s and
	// 5 s by default; a negative Jitter means none).
	Interval, Jitter time.Duration
	// TTL is how long a record lives without being heard again, however
	// long the TTL it was announced with (3 × (Interval+Jitter) by
	// default); a goodbye ends it within a second.
	TTL time.Duration
	// MaxPeers bounds the peers kept (1024 by default); more are ignored
	// until some are Gone.
	MaxPeers int
}

// Browser keeps browsing the LAN for lanchat daemons (PeerService) and
// reports the changes on Events. Create it with NewBrowser; Close stops it.
type Browser struct {
	cfg    BrowserConfig
	w      *watcher
	events chan Event
	cancel context.CancelFunc
	wg     sync.WaitGroup // the watcher's run goroutine
	close  sync.Once

	// mu guards table, written by the watcher's goroutine.
	mu    sync.Mutex
	table *table
}

// NewBrowser starts browsing with an immediate burst of queries. It fails
// only when cfg is invalid (a bad Identity, an Iface that does not
// exist); where multicast does not work it logs so once, keeps trying,
// and Blocked says why.
func NewBrowser(cfg BrowserConfig) (*Browser, error) {
	if cfg.Identity != nil && len(cfg.Identity) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("new browser: identity key has %d bytes, want %d", len(cfg.Identity), ed25519.PublicKeySize)
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
	if cfg.TTL <= 0 {
		cfg.TTL = 3 * (cfg.Interval + cfg.Jitter)
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = DefaultMaxPeers
	}
	cfg.Identity = slices.Clone(cfg.Identity)
	l := orDiscard(cfg.Logger).With("component", "mdns-browser")
	ctx, cancel := context.WithCancel(context.Background())
	b := &Browser{
		cfg:    cfg,
		events: make(chan Event, eventBuffer),
		cancel: cancel,
		// The cache expires records; the table only turns what is
		// there into events.
		table: newTable("", 0, cfg.MaxPeers, maxAddrsPerPeer),
	}
	b.w = newWatcher(PeerService, cfg.Iface, cfg.Interval, cfg.Jitter, cfg.TTL, l, func(now time.Time, fs []found) { b.changed(ctx, now, fs) })
	b.wg.Go(func() {
		defer close(b.events)
		b.w.run(ctx)
	})
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

// Blocked returns why the last query could not go out at all (no
// multicast-capable interface, or every send failed; the error wraps
// ErrNoMulticast), or nil when it could.
func (b *Browser) Blocked() error { return b.w.err() }

// Close stops browsing, waits for the browser's goroutines to end and
// closes Events. It is safe to call more than once.
func (b *Browser) Close() error {
	b.close.Do(func() {
		b.cancel()
		b.wg.Wait()
	})
	return nil
}

// changed turns the instances in the cache into events.
func (b *Browser) changed(ctx context.Context, now time.Time, fs []found) {
	var peers []Peer
	ignored := 0
	var reason error
	for _, f := range fs {
		p, err := parsePeer(f.entry, f.from)
		if err != nil {
			ignored++
			reason = err
			continue
		}
		if b.cfg.Identity != nil && Recognize(b.cfg.Identity, p.Instance, now) {
			continue
		}
		peers = append(peers, p)
	}
	b.mu.Lock()
	events, refused := b.table.update(now, peers)
	b.mu.Unlock()
	if ignored > 0 && len(events) > 0 {
		b.w.log.Debug("ignored mdns entries", "count", ignored, "last_reason", reason)
	}
	if refused > 0 && len(events) > 0 {
		b.w.log.Debug("peer table full", "max", b.cfg.MaxPeers, "refused", refused)
	}
	for _, ev := range events {
		select {
		case b.events <- ev:
		case <-ctx.Done():
			return
		}
	}
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
