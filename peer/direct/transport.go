// Package direct carries authenticated QUIC connections between the
// daemons of two friends. A Transport owns one UDP socket, used both to
// accept connections and to dial them, so the endpoint the daemon reports
// to the rendezvous server is also the one its outgoing packets come from.
//
// Both sides authenticate with mutual TLS 1.3 (ALPN "lanchat/2", see alpn): each
// presents a self-signed certificate for its Ed25519 identity key. The
// dialling side accepts only the key it expects for the user it meant to
// reach (Dial); the listening side accepts only keys its Authorizer maps
// to a friend. Streams start with a one-byte StreamKind; Exchange sends a
// request frame and reads the reply on a stream of its own.
package direct

import (
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/quic-go/quic-go"
)

// Transport listens for and dials direct connections on one UDP socket.
// Close it to release the socket and end every connection.
type Transport struct {
	udp       *net.UDPConn
	qt        *quic.Transport
	ln        *quic.Listener
	certs     *certSource
	authorize Authorizer
	opts      Options
	dialConf  *quic.Config

	ctx      context.Context // done when Close starts
	cancel   context.CancelFunc
	incoming chan *Conn
	wg       sync.WaitGroup // the accept loop and connection clean-ups

	mu      sync.Mutex
	closed  bool
	conns   map[*Conn]func() bool  // value stops the clean-up callback
	budgets map[string]*peerBudget // by peer key, shared by its connections

	closeOnce sync.Once
	closeErr  error
}

// Listen opens a UDP socket on addr ("host:port"; port 0 picks one) and
// accepts connections from peers whose keys authorize maps to a friend.
// identity is this user's Ed25519 identity key; it signs our certificate.
func Listen(addr string, identity ed25519.PrivateKey, authorize Authorizer, opts Options) (*Transport, error) {
	if authorize == nil {
		return nil, errors.New("listen: nil Authorizer")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	certs, err := newCertSource(identity)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	resetKey, err := statelessResetKey(identity)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	qt := &quic.Transport{Conn: udp, StatelessResetKey: resetKey}
	// Listen initialises the quic.Transport, which also enlarges the
	// socket's buffers (see sockbuf.go).
	ln, err := qt.Listen(serverTLS(certs, authorize, opts.Logger), opts.quicConfig(false))
	if err != nil {
		qt.Close()
		udp.Close()
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	reportSocketBuffers(udp, opts.Logger)

	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{
		udp:       udp,
		qt:        qt,
		ln:        ln,
		certs:     certs,
		authorize: authorize,
		opts:      opts,
		dialConf:  opts.quicConfig(true),
		ctx:       ctx,
		cancel:    cancel,
		incoming:  make(chan *Conn),
		conns:     make(map[*Conn]func() bool),
		budgets:   make(map[string]*peerBudget),
	}
	t.wg.Go(t.acceptLoop)
	opts.Logger.Debug("listening for direct connections", "addr", udp.LocalAddr().String())
	return t, nil
}

// statelessResetKey derives the key for QUIC stateless resets from the
// identity, so it survives restarts: after one, peers that still send on
// an old connection are told at once that it is gone instead of waiting
// for the idle timeout.
func statelessResetKey(identity ed25519.PrivateKey) (*quic.StatelessResetKey, error) {
	if len(identity) != ed25519.PrivateKeySize {
		return nil, errors.New("identity must be a 64-byte Ed25519 private key")
	}
	b, err := hkdf.Key(sha256.New, identity.Seed(), nil, "lanchat/1 QUIC stateless reset key", 32)
	if err != nil {
		return nil, fmt.Errorf("derive stateless reset key: %w", err)
	}
	var key quic.StatelessResetKey
	copy(key[:], b)
	return &key, nil
}

// LocalAddr returns the address of the UDP socket.
func (t *Transport) LocalAddr() *net.UDPAddr {
	return t.udp.LocalAddr().(*net.UDPAddr)
}

// Accept returns the next incoming connection, authorized and admitted.
// After Close it returns an error wrapping net.ErrClosed.
func (t *Transport) Accept(ctx context.Context) (*Conn, error) {
	select {
	case c := <-t.incoming:
		return c, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("accept: %w", ctx.Err())
	case <-t.ctx.Done():
		return nil, fmt.Errorf("accept: %w", net.ErrClosed)
	}
}

// acceptLoop admits connections whose handshake quic-go has completed and
// hands them to Accept one at a time. While nobody calls Accept, quic-go's
// own accept queue fills up and it refuses further connection attempts.
func (t *Transport) acceptLoop() {
	for {
		qc, err := t.ln.Accept(t.ctx)
		if err != nil {
			if t.ctx.Err() == nil {
				t.opts.Logger.Error("accept loop stopped", "err", err)
			}
			return
		}
		c, err := t.admit(qc)
		if err != nil {
			t.opts.Logger.Info("dropped incoming connection", "addr", qc.RemoteAddr().String(), "err", err)
			continue
		}
		select {
		case t.incoming <- c:
		case <-t.ctx.Done():
			c.CloseWithError(CodeShutdown, "shutting down")
			return
		}
	}
}

// admit authorizes a connection that passed the handshake and welcomes
// the peer. The Authorizer is asked again, both to learn the user and in
// case the contact changed since the handshake.
func (t *Transport) admit(qc *quic.Conn) (*Conn, error) {
	key, err := peerKey(qc.ConnectionState().TLS)
	if err != nil {
		qc.CloseWithError(quic.ApplicationErrorCode(CodeProtocol), "bad certificate")
		return nil, err
	}
	user, ok := t.authorize(key)
	if !ok {
		qc.CloseWithError(quic.ApplicationErrorCode(CodeUnauthorized), "unauthorized")
		return nil, fmt.Errorf("%w: key %s", ErrUnauthorized, Fingerprint(key))
	}
	c := newConn(qc, user, key, t.opts)
	if err := t.track(c); err != nil {
		return nil, err
	}
	if err := sendWelcome(qc, t.opts.HandshakeIdleTimeout); err != nil {
		c.CloseWithError(CodeProtocol, "welcome failed")
		return nil, err
	}
	c.log.Debug("accepted direct connection", "gso", qc.ConnectionState().GSO)
	return c, nil
}

// track registers a live connection so that Close can end it, gives it
// the Budget of its peer's key, and forgets it when it closes. It fails,
// closing c, once the Transport is closed.
func (t *Transport) track(c *Conn) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		c.CloseWithError(CodeShutdown, "shutting down")
		return fmt.Errorf("track connection: %w", net.ErrClosed)
	}
	key := string(c.key)
	pb := t.budgets[key]
	if pb == nil {
		pb = &peerBudget{b: NewBudget(t.opts.PeerBudget)}
		t.budgets[key] = pb
	}
	pb.conns++
	c.budget = pb.b
	t.wg.Add(1)
	t.conns[c] = context.AfterFunc(c.Context(), func() {
		defer t.wg.Done()
		t.mu.Lock()
		delete(t.conns, c)
		t.untrack(key)
		t.mu.Unlock()
	})
	return nil
}

// untrack drops one connection's share of its key's Budget. t.mu is held.
func (t *Transport) untrack(key string) {
	if pb := t.budgets[key]; pb != nil {
		if pb.conns--; pb.conns == 0 {
			delete(t.budgets, key)
		}
	}
}

// Close ends every connection with CodeShutdown, stops accepting and
// dialling, releases the UDP socket and waits for the Transport's
// goroutines. It is safe to call more than once.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		t.cancel()
		t.mu.Lock()
		t.closed = true
		conns := make([]*Conn, 0, len(t.conns))
		for c, stop := range t.conns {
			conns = append(conns, c)
			if stop() {
				// The clean-up will not run: account for it here.
				delete(t.conns, c)
				t.untrack(string(c.key))
				t.wg.Done()
			}
		}
		t.mu.Unlock()
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Go(func() { c.CloseWithError(CodeShutdown, "shutting down") })
		}
		wg.Wait()
		errLn := t.ln.Close()
		t.wg.Wait()
		errQT := t.qt.Close()
		errUDP := t.udp.Close()
		if errors.Is(errLn, net.ErrClosed) {
			errLn = nil
		}
		if err := errors.Join(errLn, errQT, errUDP); err != nil {
			t.closeErr = fmt.Errorf("close transport: %w", err)
		}
	})
	return t.closeErr
}
