package link

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lanchat/lanchat/rendezvous/client"
)

// minNodeTimeout is the least time one node of several gets to answer.
const minNodeTimeout = 2 * time.Second

// SplitAddrs splits a server address that lists several nodes of one
// service ("a:7443,b:7443", all with the same certificate) into its
// host:port parts, dropping empty ones.
func SplitAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// dialNodes dials the nodes in turn, starting with the one last
// connected to, and returns the first connection. A node that refuses
// fails at once; one that does not answer gets its share of the dial
// timeout (at least minNodeTimeout). A host name with several addresses
// is one node to this loop: the dialer tries each of its addresses.
func (l *Link) dialNodes(ctx context.Context, addrs []string, fingerprint string) (*client.Client, error) {
	if len(addrs) == 0 {
		return nil, errors.New("no server address")
	}
	l.mu.Lock()
	last := l.at
	l.mu.Unlock()
	start := 0
	for i, a := range addrs {
		if a == last {
			start = i
		}
	}
	share := l.cfg.DialTimeout / time.Duration(len(addrs))
	share = max(share, minNodeTimeout)
	var errs []error
	for i := range addrs {
		addr := addrs[(start+i)%len(addrs)]
		nctx, cancel := context.WithTimeout(ctx, share)
		c, err := l.dialOne(nctx, addr, fingerprint)
		cancel()
		if err == nil {
			l.mu.Lock()
			l.at = addr
			l.mu.Unlock()
			return c, nil
		}
		if len(addrs) == 1 || errors.Is(err, client.ErrFingerprintMismatch) || ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	return nil, errors.Join(errs...)
}
