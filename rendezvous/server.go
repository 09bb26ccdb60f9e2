// Package rendezvous is the central server of lanchat: accounts, sessions,
// friends, groups, presence, the public-key directory and the offline
// relay of sealed envelopes. Peers talk to it over TLS 1.3 with the framing
// of internal/wire; docs/protocol.md describes every operation.
package rendezvous

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/keylock"
	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/password"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("rendezvous: server closed")

// Server is a rendezvous server. Create it with New, run it with Serve,
// stop it with Shutdown.
type Server struct {
	cfg    Config
	store  store.Store
	log    *slog.Logger
	hasher *password.Hasher
	hub    *hub
	// cluster is the view of the other nodes; nil for a single server.
	cluster *cluster
	guard   *loginGuard
	// registers limits register per source address.
	registers *registerLimit
	// id names this server in the key proofs of register and login: the
	// SHA-256 of its certificate, the fingerprint clients pin.
	id keys.ServerID
	// presenceLocks serialise working out and pushing one user's
	// presence, so contacts never see an older status after a newer one.
	presenceLocks keylock.Set
	// rooms holds the lobby and the per-member message budgets.
	rooms roomState

	ctx    context.Context // cancelled by Shutdown; parent of request contexts
	cancel context.CancelFunc

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	perAddr   map[netip.Prefix]int // connections per addrKey
	closing   bool

	connWG  sync.WaitGroup // one per connection goroutine
	sweepWG sync.WaitGroup // background sweepers
	started sync.Once
}

// New returns a server using st for storage. The caller keeps ownership
// of st and closes it after Shutdown.
func New(cfg Config, st store.Store) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:       cfg,
		store:     st,
		log:       cfg.Logger,
		hasher:    password.NewHasher(cfg.Password, cfg.HashConcurrency),
		hub:       newHub(),
		cluster:   newCluster(cfg.Bus),
		guard:     newLoginGuard(cfg.Now),
		registers: newRegisterLimit(cfg.RegisterRate, cfg.Now),
		id:        sha256.Sum256(cfg.TLS.Certificates[0].Certificate[0]),
		ctx:       ctx,
		cancel:    cancel,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		perAddr:   make(map[netip.Prefix]int),
	}
	if err := s.setupLobby(); err != nil {
		cancel()
		return nil, err
	}
	if s.cluster != nil {
		s.hub.forward = s.forwardPush
	}
	return s, nil
}

// Serve accepts connections on ln until Shutdown. It always returns a
// non-nil error; after Shutdown that is ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	s.started.Do(s.startSweepers)

	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			if temporaryAcceptError(err) {
				// Out of descriptors or a transient failure: back off
				// rather than spin.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		delay = 0
		c, ok := s.admit(nc)
		if !ok {
			continue
		}
		go func() {
			defer s.connWG.Done()
			c.serve()
		}()
	}
}

// admit applies the connection caps and registers the connection.
func (s *Server) admit(nc net.Conn) (*conn, bool) {
	addr := remoteAddr(nc)
	s.mu.Lock()
	defer s.mu.Unlock()
	reason := ""
	switch {
	case s.closing:
		reason = "shutting_down"
	case len(s.conns) >= s.cfg.MaxConns:
		reason = "max_conns"
	case s.perAddr[addrKey(addr.Addr())] >= s.cfg.MaxConnsPerAddr:
		reason = "max_conns_per_addr"
	}
	if reason != "" {
		// Refused before the TLS handshake so a flood costs us nothing.
		nc.Close()
		s.cfg.Metrics.ConnRejected(reason)
		s.log.Debug("connection refused", "remote", addr, "reason", reason)
		return nil, false
	}
	c := newConn(s, nc, addr)
	s.conns[c] = struct{}{}
	s.perAddr[addrKey(addr.Addr())]++
	s.connWG.Add(1)
	s.cfg.Metrics.ConnOpened()
	return c, true
}

// forget removes a finished connection from the server's books.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	a := addrKey(c.addr.Addr())
	if s.perAddr[a] <= 1 {
		delete(s.perAddr, a)
	} else {
		s.perAddr[a]--
	}
	s.mu.Unlock()
	s.cfg.Metrics.ConnClosed()
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Shutdown stops accepting, tells every connected client the server is
// going away, and waits for connections to close until ctx ends, when it
// closes the rest by force.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	for _, c := range conns {
		c.shutdown()
	}
	done := make(chan struct{})
	go func() {
		s.connWG.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		for _, c := range conns {
			c.forceClose()
		}
		<-done
	}
	s.cancel()
	s.sweepWG.Wait()
	return err
}

// Health reports whether the server can serve: its store answers.
func (s *Server) Health() error {
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
	defer cancel()
	if _, err := s.store.User(ctx, "health.check"); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("store: %w", err)
	}
	if s.isClosing() {
		return errors.New("shutting down")
	}
	return nil
}

func remoteAddr(nc net.Conn) netip.AddrPort {
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
	return ap
}
