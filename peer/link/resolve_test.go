package link_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/link"
)

// notTLS listens on 127.0.0.1 and answers every connection with bytes
// that are no TLS handshake, as another service on a port a rogue
// announcement names would.
func notTLS(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	})
	return ln.Addr().String()
}

// lan is what Resolve finds on the LAN: the candidates in order, and how
// often it was asked.
type lan struct {
	mu    sync.Mutex
	cands []link.Candidate
	calls int
}

func (r *lan) resolve(ctx context.Context) ([]link.Candidate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	return slices.Clone(r.cands), nil
}

// decoys are the servers found on the LAN before the real one: one that
// speaks no TLS, one whose certificate is not the one it announces, one
// that announces no fingerprint at all, and a real server with its own
// certificate, announced truly (last, so that a test can leave it out).
func decoys(t *testing.T) []link.Candidate {
	t.Helper()
	mismatch := startServer(t, "")
	silent := startServer(t, "")
	impostor := startServer(t, "")
	return []link.Candidate{
		{Addr: notTLS(t), Fingerprint: otherFingerprint(t)},
		{Addr: mismatch.addr, Fingerprint: otherFingerprint(t)},
		{Addr: silent.addr},
		{Addr: impostor.addr, Fingerprint: impostor.fp},
	}
}

// TestResolveGivenFingerprint checks that with a fingerprint given
// (--server-fingerprint) the link skips every server found on the LAN
// that does not prove it, however well it proves its own, and connects
// to the one that does; the given fingerprint may be typed in any form
// NormalizeFingerprint takes.
func TestResolveGivenFingerprint(t *testing.T) {
	real := startServer(t, "")
	cands := decoys(t)
	r := &lan{cands: append(cands, link.Candidate{Addr: real.addr, Fingerprint: real.fp})}
	p := &peer{}
	cfg := p.config("")
	cfg.Fingerprint = "SHA256:" + strings.ToUpper(real.fp)
	cfg.Resolve = r.resolve
	l := p.run(t, cfg)
	p.expect(t, link.EventUp)
	if l.Addr() != real.addr || l.Fingerprint() != real.fp {
		t.Fatalf("connected to %s (sha256 %s), want the real server %s (sha256 %s)", l.Addr(), l.Fingerprint(), real.addr, real.fp)
	}
	if addr, fp := l.Unconfirmed(); addr != "" || fp != "" {
		t.Fatalf("Unconfirmed() = %q, %q with the fingerprint given", addr, fp)
	}
	if got := p.pinned(); len(got) != 1 || got[0] != real.fp {
		t.Fatalf("Pin called with %q, want once with the given %s", got, real.fp)
	}
	p.call(t, wire.OpPing, nil, nil)
}

// TestResolveConfirm checks that without a fingerprint given the link
// connects to the first server found on the LAN whose handshake proves
// the fingerprint it announces, and pins it only once Confirm names that
// fingerprint.
func TestResolveConfirm(t *testing.T) {
	real := startServer(t, "")
	cands := decoys(t)
	// The impostor proves its own fingerprint: it would be taken first.
	r := &lan{cands: append(cands[:3:3], link.Candidate{Addr: real.addr, Fingerprint: real.fp})}
	p := &peer{}
	cfg := p.config("")
	cfg.Resolve = r.resolve
	l := p.run(t, cfg)
	p.expect(t, link.EventUp)
	if l.Addr() != real.addr || l.Fingerprint() != real.fp {
		t.Fatalf("connected to %s (sha256 %s), want %s (sha256 %s)", l.Addr(), l.Fingerprint(), real.addr, real.fp)
	}
	if addr, fp := l.Unconfirmed(); addr != real.addr || fp != real.fp {
		t.Fatalf("Unconfirmed() = %q, %q; want %q, %q", addr, fp, real.addr, real.fp)
	}
	if got := p.pinned(); len(got) != 0 {
		t.Fatalf("Pin called with %q before Confirm", got)
	}

	// A reconnection keeps the server found and still pins nothing.
	l.Reconnect()
	p.expect(t, link.EventDown)
	p.expect(t, link.EventUp)
	if got := p.pinned(); len(got) != 0 || l.Addr() != real.addr {
		t.Fatalf("after a reconnection: Pin called with %q, server %s", got, l.Addr())
	}

	// No password goes to a server nobody confirmed.
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	_, err := l.Authenticate(ctx, wire.OpLogin, wire.LoginRequest{Username: "ann", Password: passwordOf("ann")})
	if !errors.Is(err, link.ErrNotConfirmed) {
		t.Fatalf("login before Confirm: %v, want ErrNotConfirmed", err)
	}

	other := otherFingerprint(t)
	if err := l.Confirm(other); !errors.Is(err, link.ErrNotConfirmed) {
		t.Fatalf("Confirm(another fingerprint) = %v, want ErrNotConfirmed", err)
	}
	if got := p.pinned(); len(got) != 0 {
		t.Fatalf("Pin called with %q after a refused Confirm", got)
	}
	if _, fp := l.Unconfirmed(); fp != real.fp {
		t.Fatalf("a refused Confirm changed Unconfirmed() to %q", fp)
	}

	if err := l.Confirm(real.fp); err != nil {
		t.Fatalf("Confirm(the server's fingerprint): %v", err)
	}
	if got := p.pinned(); len(got) != 1 || got[0] != real.fp {
		t.Fatalf("Pin called with %q, want once with %s", got, real.fp)
	}
	if addr, fp := l.Unconfirmed(); addr != "" || fp != "" {
		t.Fatalf("Unconfirmed() = %q, %q after Confirm", addr, fp)
	}
	// Confirmed once is enough; another fingerprint is still refused.
	if err := l.Confirm(real.fp); err != nil {
		t.Fatalf("Confirm again: %v", err)
	}
	if err := l.Confirm(other); !errors.Is(err, link.ErrNotConfirmed) {
		t.Fatalf("Confirm(another fingerprint) after pinning = %v, want ErrNotConfirmed", err)
	}
	if got := p.pinned(); len(got) != 1 {
		t.Fatalf("Pin called %d times, want once", len(got))
	}
	p.register(t, "ann")
}

// TestResolveNoneAnswers checks that when no server found on the LAN
// proves its fingerprint the link stays down, pins nothing and says why.
func TestResolveNoneAnswers(t *testing.T) {
	cands := decoys(t)
	r := &lan{cands: cands[:3]}
	p := &peer{}
	cfg := p.config("")
	cfg.Resolve = r.resolve
	l := p.run(t, cfg)
	p.noEvent(t, quiet)
	wantOffline(t, l)
	if got := p.pinned(); len(got) != 0 || l.Addr() != "" {
		t.Fatalf("Pin called with %q, server %q", got, l.Addr())
	}
	if err := l.LastError(); err == nil {
		t.Fatal("LastError() = nil")
	}
	if err := l.Confirm(cands[1].Fingerprint); !errors.Is(err, link.ErrNotConfirmed) {
		t.Fatalf("Confirm with nothing found = %v, want ErrNotConfirmed", err)
	}
}
