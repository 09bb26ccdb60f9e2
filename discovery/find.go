package discovery

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// DefaultFindTimeout is how long FindServer browses by default.
const DefaultFindTimeout = 2 * time.Second

// maxServers bounds what FindServer returns.
const maxServers = 64

// FindOptions configures FindServer.
type FindOptions struct {
	// Iface restricts the search to the interface of that name; empty
	// means every suitable interface.
	Iface string
	// Timeout bounds the search (DefaultFindTimeout when zero); it asks
	// again every second.
	Timeout time.Duration
	// Logger receives the search's logs; nil discards them.
	Logger *slog.Logger
}

// FindServer browses the LAN for rendezvous servers (ServerService) for
// opts.Timeout, or until ctx is done, and returns those heard, sorted by
// instance, each with its validated fingerprint. It returns no server and
// no error when multicast works but no server answered, and an error
// wrapping ErrNoMulticast when no query could be sent at all.
func FindServer(ctx context.Context, opts FindOptions) ([]Server, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultFindTimeout
	}
	l := orDiscard(opts.Logger).With("component", "mdns-find")
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("find rendezvous server: %w", err)
	}
	if err := checkIface(opts.Iface); err != nil {
		return nil, fmt.Errorf("find rendezvous server: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	type key struct{ instance, fp string }
	servers := make(map[key]*Server)
	failed := make(chan error, 1)
	var w *watcher
	w = newWatcher(ServerService, opts.Iface, time.Second, -1, timeout+time.Minute, l, func(now time.Time, fs []found) {
		if err := w.err(); err != nil {
			select {
			case failed <- err: // it fails at once: trying again would only spin
				cancel()
			default:
			}
			return
		}
		for _, f := range fs {
			s, err := parseServer(f.entry, f.from)
			if err != nil {
				l.Debug("ignored mdns entry", "err", err)
				continue
			}
			k := key{s.Instance, s.Fingerprint}
			have := servers[k]
			if have == nil {
				if len(servers) == maxServers {
					continue
				}
				have = &Server{Instance: s.Instance, Fingerprint: s.Fingerprint}
				servers[k] = have
			}
			for _, a := range s.Addrs {
				if !slices.Contains(have.Addrs, a) && len(have.Addrs) < maxAddrsPerPeer {
					have.Addrs = append(have.Addrs, a)
				}
			}
		}
	})
	w.run(ctx)
	select {
	case err := <-failed:
		return nil, fmt.Errorf("find rendezvous server: %w", err)
	default:
	}
	out := make([]Server, 0, len(servers))
	for _, s := range servers {
		sortAddrs(s.Addrs)
		out = append(out, *s)
	}
	slices.SortFunc(out, func(x, y Server) int {
		return cmp.Or(cmp.Compare(x.Instance, y.Instance), cmp.Compare(x.Fingerprint, y.Fingerprint))
	})
	return out, nil
}
