package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// Idle sessions are the bulk of the benchmark's connections: each is
// registered and then only heartbeats, like a daemon whose user is not
// chatting. They are driven by this file's own small session type rather
// than rendezvous/client, for two reasons: client.Dial has no way to
// choose the source address, and spreading 20,000 connections over several
// loopback source addresses is what keeps ephemeral ports from running
// out; and one shared heartbeat goroutine costs the load generator less
// than client's three goroutines per connection, which matters when the
// load generator shares two cores with the server it measures. What goes
// on the wire is the same: TLS 1.3 with the pinned certificate, hello,
// register, then a ping every heartbeat interval.
const (
	// idleStepTimeout bounds the opening of one session: dial, TLS
	// handshake, hello and register.
	idleStepTimeout = 30 * time.Second
	// pingWriteTimeout bounds one heartbeat write.
	pingWriteTimeout = 2 * time.Second
	// heartbeatSlices is how many groups the sessions are split into for
	// heartbeats: one group is pinged every interval/heartbeatSlices, so
	// the pings are spread evenly as those of independent clients are.
	heartbeatSlices = 100
	// maxConsecutiveFailures stops the set-up when the server refuses
	// this many sessions in a row: it is full, or gone.
	maxConsecutiveFailures = 1000
	// idleMaxFrame bounds frames read on an idle session; the server
	// sends them only small replies.
	idleMaxFrame = 64 << 10
)

// idleSession is one held idle connection.
type idleSession struct {
	tc      *tls.Conn
	nextID  uint64       // request ids; the set-up, then only the heartbeat, uses it
	closed  atomic.Bool  // the connection ended
	replies atomic.Int64 // responses read after the set-up (heartbeat replies)
}

// idlePool opens, heartbeats and closes the idle sessions.
type idlePool struct {
	addr     string
	tls      *tls.Config
	sources  []netip.Addr // local addresses to dial from; none means the kernel's choice
	password string
	server   keys.ServerID     // names the server in key proofs
	prekey   keys.SignedPrekey // the one HPKE key every idle user publishes

	mu       sync.Mutex
	sessions []*idleSession

	failures    counts       // set-up failures by kind
	firstErr    sync.Map     // kind → first error message of that kind
	endings     counts       // sessions that ended while held, by reason
	pings       atomic.Int64 // heartbeats written
	pingErrs    atomic.Int64 // heartbeat writes that failed
	consecutive atomic.Int64 // set-up failures since the last success
	gaveUp      atomic.Bool  // the set-up stopped after maxConsecutiveFailures
	stopping    atomic.Bool  // close has begun; endings are no longer counted

	readers  sync.WaitGroup // one reader per open session
	hbCancel context.CancelFunc
	hbDone   chan struct{}
}

// newIdlePool prepares a pool of sessions to addr. Each idle user has its
// own identity key (the server gives a key to one account only), but they
// all publish one HPKE prekey, each signed for its own name: they never
// receive a message, and making 20,000 ML-KEM key pairs would only cost
// the load generator time.
func newIdlePool(addr, fingerprint string, sources []netip.Addr) (*idlePool, error) {
	cfg, err := pinnedTLS(fingerprint)
	if err != nil {
		return nil, err
	}
	pin, err := client.NormalizeFingerprint(fingerprint)
	if err != nil {
		return nil, fmt.Errorf("%w: --fingerprint: %v", errUsage, err)
	}
	server, err := keys.ParseServerID(pin)
	if err != nil {
		return nil, err
	}
	a, err := newAccount("idle", "")
	if err != nil {
		return nil, err
	}
	return &idlePool{
		addr:     addr,
		tls:      cfg,
		sources:  sources,
		password: "rvload idle password",
		server:   server,
		prekey:   a.prekey,
	}, nil
}

// enrollment is the register body of idle user name, with a fresh
// identity key.
func (p *idlePool) enrollment(name string) (wire.RegisterRequest, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return wire.RegisterRequest{}, err
	}
	pk, err := keys.SignPrekey(priv, name, p.prekey)
	if err != nil {
		return wire.RegisterRequest{}, err
	}
	proof, err := keys.SignProof(priv, name, p.server)
	if err != nil {
		return wire.RegisterRequest{}, err
	}
	return wire.RegisterRequest{Username: name, Password: p.password, IdentityKey: pub, Prekey: pk, KeyProof: proof}, nil
}

// pinnedTLS is a TLS 1.3 client configuration that accepts only the
// server certificate with the given fingerprint, as rendezvous/client
// does.
func pinnedTLS(fingerprint string) (*tls.Config, error) {
	pin, err := client.NormalizeFingerprint(fingerprint)
	if err != nil {
		return nil, fmt.Errorf("%w: --fingerprint: %v", errUsage, err)
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // replaced by the pin check below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("server sent no certificate")
			}
			if got := client.Fingerprint(cs.PeerCertificates[0].Raw); got != pin {
				return fmt.Errorf("%w: server presented %s", client.ErrFingerprintMismatch, got)
			}
			return nil
		},
	}, nil
}

// usableSources returns the first n addresses of 127.0.0.2, 127.0.0.3, ...
// that this machine can bind, with a note for each that it cannot.
func usableSources(n int) ([]netip.Addr, []string) {
	var ok []netip.Addr
	var notes []string
	a := netip.MustParseAddr("127.0.0.2")
	for range n {
		ln, err := net.Listen("tcp", netip.AddrPortFrom(a, 0).String())
		if err != nil {
			notes = append(notes, fmt.Sprintf("source address %s not usable (%v); skipped", a, err))
		} else {
			ln.Close()
			ok = append(ok, a)
		}
		a = a.Next()
	}
	return ok, notes
}

// startHeartbeat starts the goroutine that pings every session once per
// interval, until ctx ends or close is called.
func (p *idlePool) startHeartbeat(ctx context.Context, interval time.Duration) {
	ctx, p.hbCancel = context.WithCancel(ctx)
	p.hbDone = make(chan struct{})
	go p.heartbeat(ctx, interval)
}

func (p *idlePool) heartbeat(ctx context.Context, interval time.Duration) {
	defer close(p.hbDone)
	t := time.NewTicker(max(interval/heartbeatSlices, time.Millisecond))
	defer t.Stop()
	for slice := 0; ; slice = (slice + 1) % heartbeatSlices {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		sessions := p.sessions // append never changes the elements already there
		p.mu.Unlock()
		for i := slice; i < len(sessions); i += heartbeatSlices {
			s := sessions[i]
			if s.closed.Load() {
				continue
			}
			p.pings.Add(1)
			if err := s.ping(); err != nil {
				p.pingErrs.Add(1)
				s.tc.Close() // the reader sees it and records the ending
			}
		}
	}
}

// fill opens up to n sessions, concurrency at a time, and returns when all
// were tried, maxConsecutiveFailures failed in a row, or ctx ended.
// progress is called every few seconds with the counts so far.
func (p *idlePool) fill(ctx context.Context, n, concurrency int, progress func(tried, held, failed int)) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next, tried atomic.Int64
	var wg sync.WaitGroup
	for range min(concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				s, err := p.open(ctx, i)
				if err != nil {
					if ctx.Err() != nil {
						return // stopped, not refused
					}
					tried.Add(1)
					kind := failureKind(err)
					p.failures.Add(kind)
					p.firstErr.LoadOrStore(kind, err.Error())
					if p.consecutive.Add(1) >= maxConsecutiveFailures {
						p.gaveUp.Store(true)
						cancel()
					}
					continue
				}
				tried.Add(1)
				p.consecutive.Store(0)
				p.mu.Lock()
				p.sessions = append(p.sessions, s)
				p.mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			progress(int(tried.Load()), p.held(), p.failures.Total())
		}
	}
}

// stepError names the step of a session's opening that failed.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// open opens session i: dial from its source address, TLS, hello,
// register (or log in, if the name was taken by an earlier run).
func (p *idlePool) open(ctx context.Context, i int) (*idleSession, error) {
	ctx, cancel := context.WithTimeout(ctx, idleStepTimeout)
	defer cancel()
	var d net.Dialer
	if len(p.sources) > 0 {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(p.sources[i%len(p.sources)], 0))
	}
	raw, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, &stepError{"dial", err}
	}
	tc := tls.Client(raw, p.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, &stepError{"tls handshake", err}
	}
	deadline, _ := ctx.Deadline()
	tc.SetDeadline(deadline)
	s := &idleSession{tc: tc}
	r := wire.NewReader(tc, idleMaxFrame)
	if err := s.roundTrip(r, wire.OpHello, wire.HelloRequest{Version: wire.Version, Client: "rvload-idle"}, nil); err != nil {
		tc.Close()
		return nil, &stepError{"hello", err}
	}
	name := fmt.Sprintf("idle-%05d", i+1)
	req, err := p.enrollment(name)
	if err != nil {
		tc.Close()
		return nil, &stepError{"keys", err}
	}
	err = s.roundTrip(r, wire.OpRegister, req, nil)
	if isCode(err, wire.CodeUsernameTaken) {
		err = s.roundTrip(r, wire.OpLogin, wire.LoginRequest{Username: name, Password: p.password}, nil)
	}
	if err != nil {
		tc.Close()
		return nil, &stepError{"register", err}
	}
	tc.SetDeadline(time.Time{})
	p.readers.Add(1)
	go p.read(s, r)
	return s, nil
}

// roundTrip sends one request and reads until its response, skipping
// events. It is used only while the session is being opened, before its
// reader starts.
func (s *idleSession) roundTrip(r *wire.Reader, op string, body any, resp any) error {
	s.nextID++
	id := s.nextID
	f, err := wire.NewRequest(id, op, body)
	if err != nil {
		return err
	}
	if err := wire.WriteFrame(s.tc, f); err != nil {
		return err
	}
	for {
		f, err := r.ReadFrame()
		if err != nil {
			return err
		}
		switch {
		case f.Kind == wire.KindError:
			return f.Error
		case f.Kind == wire.KindResponse && f.ID == id:
			if f.Error != nil {
				return f.Error
			}
			if resp != nil {
				return wire.DecodeBody(f.Body, resp)
			}
			return nil
		}
	}
}

// ping writes one heartbeat; the reader counts its reply.
func (s *idleSession) ping() error {
	s.nextID++
	f, err := wire.NewRequest(s.nextID, wire.OpPing, nil)
	if err != nil {
		return err
	}
	s.tc.SetWriteDeadline(time.Now().Add(pingWriteTimeout))
	return wire.WriteFrame(s.tc, f)
}

// read reads a held session's frames until it ends, counting replies and
// recording why it ended.
func (p *idlePool) read(s *idleSession, r *wire.Reader) {
	defer p.readers.Done()
	reason := ""
	for reason == "" {
		f, err := r.ReadFrame()
		switch {
		case err != nil:
			reason = failureKind(err)
		case f.Kind == wire.KindResponse:
			s.replies.Add(1)
		case f.Kind == wire.KindError:
			reason = "server error " + f.Error.Code
		}
	}
	s.closed.Store(true)
	s.tc.Close()
	if !p.stopping.Load() {
		p.endings.Add(reason)
	}
}

// held returns how many sessions are open now.
func (p *idlePool) held() int {
	p.mu.Lock()
	sessions := p.sessions
	p.mu.Unlock()
	n := 0
	for _, s := range sessions {
		if !s.closed.Load() {
			n++
		}
	}
	return n
}

// replies returns how many heartbeat replies have been read in all.
func (p *idlePool) replies() int64 {
	p.mu.Lock()
	sessions := p.sessions
	p.mu.Unlock()
	var n int64
	for _, s := range sessions {
		n += s.replies.Load()
	}
	return n
}

// close stops the heartbeat, closes every session and waits for their
// readers.
func (p *idlePool) close() {
	p.stopping.Store(true)
	if p.hbCancel != nil {
		p.hbCancel()
		<-p.hbDone
	}
	p.mu.Lock()
	sessions := p.sessions
	p.mu.Unlock()
	for _, s := range sessions {
		s.tc.Close()
	}
	p.readers.Wait()
}

// failureKind names why a session could not be opened or ended, for
// counting: the step, then the protocol code or the kind of network error.
func failureKind(err error) string {
	step := ""
	var se *stepError
	if errors.As(err, &se) {
		step = se.step + ": "
	}
	var werr *wire.Error
	var ne net.Error
	switch {
	case errors.As(err, &werr):
		return step + "server said " + werr.Code
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return step + "timed out"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return step + "closed by the server"
	case errors.Is(err, syscall.ECONNREFUSED):
		return step + "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return step + "connection reset"
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return step + "no free local port"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return step + "rvload out of file descriptors"
	case errors.Is(err, net.ErrClosed):
		return step + "closed"
	case errors.Is(err, client.ErrFingerprintMismatch):
		return step + "certificate fingerprint mismatch"
	default:
		return step + "other error"
	}
}
