package discovery

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/hashicorp/mdns"
)

// maxEntriesPerQuery bounds what one query collects. The library drops an
// entry rather than block when its channel is full.
const maxEntriesPerQuery = 1024

// heard is an entry and where it was heard.
type heard struct {
	entry *mdns.ServiceEntry
	from  origin
}

// sweep queries service once on each link (the one named, or every
// suitable one), over each address family the link has an address of, all
// at once, and returns what was heard within timeout. The error wraps
// ErrNoMulticast when there is no link or every query failed; when only
// some failed, what the others heard comes back with a nil error.
func sweep(ctx context.Context, service, iface string, timeout time.Duration, lib *log.Logger) ([]heard, error) {
	ls, err := links(iface)
	if err != nil {
		return nil, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		out  []heard
		errs []error
		ok   int
	)
	for _, l := range ls {
		for _, v6 := range []bool{false, true} {
			if (!v6 && !l.has4()) || (v6 && !l.has6()) {
				continue
			}
			wg.Go(func() {
				entries, err := query(ctx, service, l, v6, timeout, lib)
				from := origin{iface: l.ifi.Name, prefixes: l.prefixes}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				ok++
				for _, e := range entries {
					out = append(out, heard{entry: e, from: from})
				}
			})
		}
	}
	wg.Wait()
	if ok == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNoMulticast, errors.Join(errs...))
	}
	return out, nil
}

// query runs one mdns query for service on l over one address family.
// Sending over one family only keeps a failure of the other from hiding
// it: the library gives up at the first failed send.
func query(ctx context.Context, service string, l link, v6 bool, timeout time.Duration, lib *log.Logger) ([]*mdns.ServiceEntry, error) {
	family := "IPv4"
	if v6 {
		family = "IPv6"
	}
	entries := make(chan *mdns.ServiceEntry, maxEntriesPerQuery)
	ifi := l.ifi
	err := mdns.QueryContext(ctx, &mdns.QueryParam{
		Service:             service,
		Domain:              domain,
		Timeout:             timeout,
		Interface:           &ifi,
		Entries:             entries,
		WantUnicastResponse: true,
		DisableIPv4:         v6,
		DisableIPv6:         !v6,
		Logger:              lib,
	})
	if err != nil {
		return nil, fmt.Errorf("query %s on %s over %s: %w", service, ifi.Name, family, err)
	}
	// Only now that the query has returned does the library stop writing
	// to the entries it handed out, so only now may they be read.
	close(entries)
	var out []*mdns.ServiceEntry
	for e := range entries {
		out = append(out, e)
	}
	return out, nil
}
