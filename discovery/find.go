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
	// Timeout bounds the search (DefaultFindTimeout when zero). It runs
	// in rounds of at most a second, since the library sends each query
	// once.
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
	lib := libLogger(l)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("find rendezvous server: %w", err)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()

	type key struct{ instance, fp string }
	found := make(map[key]*Server)
	var lastErr error
	worked := false
	for {
		left := time.Until(deadline)
		if left < 50*time.Millisecond {
			break
		}
		hs, err := sweep(ctx, ServerService, opts.Iface, min(left, time.Second), lib)
		if err != nil {
			// It fails at once, so trying again would only spin.
			lastErr = err
			break
		}
		worked = true
		for _, h := range hs {
			s, err := parseServer(h.entry, h.from)
			if err != nil {
				l.Debug("ignored mdns entry", "err", err)
				continue
			}
			k := key{s.Instance, s.Fingerprint}
			have := found[k]
			if have == nil {
				if len(found) == maxServers {
					continue
				}
				have = &Server{Instance: s.Instance, Fingerprint: s.Fingerprint}
				found[k] = have
			}
			for _, a := range s.Addrs {
				if !slices.Contains(have.Addrs, a) && len(have.Addrs) < maxAddrsPerPeer {
					have.Addrs = append(have.Addrs, a)
				}
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if !worked && lastErr != nil {
		if err := parent.Err(); err != nil {
			return nil, fmt.Errorf("find rendezvous server: %w", err)
		}
		return nil, fmt.Errorf("find rendezvous server: %w", lastErr)
	}
	out := make([]Server, 0, len(found))
	for _, s := range found {
		sortAddrs(s.Addrs)
		out = append(out, *s)
	}
	slices.SortFunc(out, func(x, y Server) int {
		return cmp.Or(cmp.Compare(x.Instance, y.Instance), cmp.Compare(x.Fingerprint, y.Fingerprint))
	})
	return out, nil
}
