package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// Idle sessions are the bulk of the benchmark's connections: each is
// registered and then only heartbeats, like a daemon whose user is not
// chatting. They are driven by this file's own small session type rather
// than rendezvous/client, for two reasons: client.Dial cannot choose the
// source address, and spreading 20,000 connections over several loopback
// source addresses is what keeps ephemeral ports from running out; and
// one reader per session plus one shared heartbeat goroutine cost the
// load generator less than client's three goroutines per connection,
// which matters when it shares two cores with the server it measures.
// What goes on the wire is the same: TLS 1.3 with the pinned
// certificate, hello, register, then a ping every heartbeat interval.
const (
	// idleStepTimeout bounds the opening of one session: dial, TLS
	// handshake, hello and register.
	idleStepTimeout = 30 * time.Second
	// heartbeatSlices is how many groups the sessions are split into for
	// heartbeats: one group is pinged every interval/heartbeatSlices, so
	// the pings are spread evenly as those of independent clients are.
	heartbeatSlices = 100
	// maxConsecutiveFailures stops the set-up when the server refuses
	// this many sessions in a row: it is full, or gone.
	maxConsecutiveFailures = 1000
)

// idleSession is one held idle connection.
type idleSession struct {
	tc      *tls.Conn
	r       *wire.Reader
	nextID  uint64       // request ids; the set-up, then only the heartbeat, uses it
	closed  atomic.Bool  // the connection ended
	replies atomic.Int64 // responses read after the set-up (heartbeat replies)
}

// idlePool opens, heartbeats and closes the idle sessions.
type idlePool struct {
	cfg     *config
	run     *cli.Run // for notes and progress
	tls     *tls.Config
	sources []netip.Addr // local addresses to dial from; none means the kernel's choice
	prekey  keys.SignedPrekey

	mu       sync.Mutex
	sessions []*idleSession

	failures    stats.Counts // set-up failures by kind
	firstErr    atomic.Value // the first set-up failure's message
	endings     stats.Counts // sessions that ended while held, by reason
	pings       atomic.Int64 // heartbeats written
	pingErrs    atomic.Int64 // heartbeat writes that failed
	consecutive atomic.Int64 // set-up failures since the last success
	stopping    atomic.Bool  // close has begun; endings are no longer counted

	readers  sync.WaitGroup // one reader per open session
	hbCancel context.CancelFunc
	hbDone   chan struct{}
}

// newIdlePool prepares the idle sessions to cfg.addr, from the usable
// source addresses, and starts their heartbeat: one goroutine that
// pings every session once per interval until close.
func newIdlePool(ctx context.Context, cfg *config, prekey keys.SignedPrekey, interval time.Duration, run *cli.Run) *idlePool {
	p := &idlePool{cfg: cfg, run: run, prekey: prekey, hbDone: make(chan struct{}), tls: &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // replaced by the pin check, as rendezvous/client does
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || client.Fingerprint(cs.PeerCertificates[0].Raw) != cfg.pin {
				return client.ErrFingerprintMismatch
			}
			return nil
		},
	}}
	for i := range cfg.sources {
		a := netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i)})
		ln, err := net.Listen("tcp", netip.AddrPortFrom(a, 0).String())
		if err != nil {
			run.Note("source address %s not usable (%v); skipped", a, err)
			continue
		}
		ln.Close()
		p.sources = append(p.sources, a)
	}
	ctx, p.hbCancel = context.WithCancel(ctx)
	go p.heartbeat(ctx, interval)
	return p
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
		sessions := p.list()
		for i := slice; i < len(sessions); i += heartbeatSlices {
			if s := sessions[i]; !s.closed.Load() {
				p.pings.Add(1)
				s.tc.SetWriteDeadline(time.Now().Add(2 * time.Second))
				if err := s.send(wire.OpPing, nil); err != nil {
					p.pingErrs.Add(1)
					s.tc.Close() // the reader sees it and records the ending
				}
			}
		}
	}
}

// fill opens up to n sessions, concurrency at a time, and returns when all
// were tried, maxConsecutiveFailures failed in a row, timeout passed or
// ctx ended. It notes why it stopped early and what failed.
func (p *idlePool) fill(ctx context.Context, n, concurrency int, timeout time.Duration) {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("--setup-timeout %v", timeout))
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range min(concurrency, n) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				s, err := p.open(ctx, i)
				switch {
				case err == nil:
					p.consecutive.Store(0)
					p.mu.Lock()
					p.sessions = append(p.sessions, s)
					p.mu.Unlock()
				case ctx.Err() != nil:
					return // stopped, not refused
				default:
					step, _, _ := strings.Cut(err.Error(), ":")
					p.failures.Add(step + ": " + errKind(err))
					p.firstErr.CompareAndSwap(nil, err.Error())
					if p.consecutive.Add(1) >= maxConsecutiveFailures {
						cancel()
					}
				}
				if (i+1)%2000 == 0 {
					p.run.Say("idle sessions: %d tried, %d failed (%.0f/s)", i+1, p.failures.Total(), float64(i+1)/time.Since(start).Seconds())
				}
			}
		})
	}
	wg.Wait()
	if p.consecutive.Load() >= maxConsecutiveFailures {
		p.run.Note("idle set-up stopped after %d failures in a row: the server refuses more sessions", maxConsecutiveFailures)
	} else if ctx.Err() != nil {
		p.run.Note("idle set-up stopped early: %v", context.Cause(ctx))
	}
	if p.failures.Total() > 0 {
		p.run.Note("idle set-up failures: %s; the first: %s", p.failures.String(), p.firstErr.Load())
	}
}

// open opens session i: dial from its source address, TLS, hello,
// register (or log in, if the name was taken by an earlier run). Its
// error names the step that failed.
func (p *idlePool) open(ctx context.Context, i int) (*idleSession, error) {
	ctx, cancel := context.WithTimeout(ctx, idleStepTimeout)
	defer cancel()
	var d net.Dialer
	if len(p.sources) > 0 {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(p.sources[i%len(p.sources)], 0))
	}
	raw, err := d.DialContext(ctx, "tcp", p.cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	s := &idleSession{tc: tls.Client(raw, p.tls)}
	s.r = wire.NewReader(s.tc, 64<<10) // the server sends idle sessions only small replies
	deadline, _ := ctx.Deadline()
	s.tc.SetDeadline(deadline)
	step := "tls handshake"
	err = s.tc.HandshakeContext(ctx)
	if err == nil {
		step, err = "hello", s.call(wire.OpHello, wire.HelloRequest{Version: wire.Version, Client: "rvload-idle"})
	}
	var a *account
	if err == nil {
		step = "register"
		if a, err = newAccount(fmt.Sprintf("idle-%05d", i+1), p.prekey); err == nil {
			err = a.enroll(p.cfg.serverID, s.call)
		}
	}
	if err != nil {
		s.tc.Close()
		return nil, fmt.Errorf("%s: %w", step, err)
	}
	s.tc.SetDeadline(time.Time{})
	p.readers.Add(1)
	go p.read(s)
	return s, nil
}

// send writes one request.
func (s *idleSession) send(op string, body any) error {
	s.nextID++
	f, err := wire.NewRequest(s.nextID, op, body)
	if err == nil {
		err = wire.WriteFrame(s.tc, f)
	}
	return err
}

// call sends one request and reads until its response, skipping events.
// It is used only while the session is being opened, before its reader
// starts.
func (s *idleSession) call(op string, body any) error {
	if err := s.send(op, body); err != nil {
		return err
	}
	for {
		f, err := s.r.ReadFrame()
		switch {
		case err != nil:
			return err
		case f.Kind == wire.KindError, f.Kind == wire.KindResponse && f.ID == s.nextID:
			if f.Error != nil {
				return f.Error
			}
			return nil
		}
	}
}

// read reads a held session's frames until it ends, counting replies and
// recording why it ended.
func (p *idlePool) read(s *idleSession) {
	defer p.readers.Done()
	reason := ""
	for reason == "" {
		f, err := s.r.ReadFrame()
		switch {
		case err != nil:
			reason = errKind(err)
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

// list returns the sessions opened so far; append never changes the
// elements already there.
func (p *idlePool) list() []*idleSession {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessions
}

// count returns how many sessions are open now, and how many heartbeat
// replies they have read in all.
func (p *idlePool) count() (held int, replies int64) {
	for _, s := range p.list() {
		if !s.closed.Load() {
			held++
		}
		replies += s.replies.Load()
	}
	return held, replies
}

// close stops the heartbeat, closes every session and waits for their
// readers.
func (p *idlePool) close() {
	p.stopping.Store(true)
	p.hbCancel()
	<-p.hbDone
	for _, s := range p.list() {
		s.tc.Close()
	}
	p.readers.Wait()
}

// errKind names an error for counting: the protocol code when the server
// answered, else the kind of network error.
func errKind(err error) string {
	var werr *wire.Error
	var errno syscall.Errno
	switch {
	case errors.As(err, &werr):
		return werr.Code
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed by the server"
	case errors.Is(err, net.ErrClosed), errors.Is(err, client.ErrClosed):
		return "closed"
	case errors.Is(err, client.ErrFingerprintMismatch):
		return "certificate fingerprint mismatch"
	case errors.As(err, &errno):
		return errno.Error() // connection refused, too many open files, ...
	}
	return "other error"
}
