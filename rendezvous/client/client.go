// Package client is the Go client of the rendezvous server protocol
// (docs/protocol.md). The peer daemon, the tests and the load generator
// use it to open a TLS connection to a server, pin its certificate, run
// requests with Call and receive pushed events from Events.
//
// A Client runs three goroutines: a reader that routes responses to their
// callers and events to the Events channel, a writer that owns all writes
// to the socket, and a heartbeat that pings the server when the
// connection has been quiet. Close stops all of them and waits for them.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// Defaults for Options fields left zero.
const (
	DefaultEventBuffer  = 256
	DefaultWriteTimeout = 10 * time.Second
	DefaultMaxFrame     = 16 << 20
	// DefaultHeartbeat is used when the server's hello does not state an
	// interval.
	DefaultHeartbeat = 30 * time.Second
)

// minServerHeartbeat bounds how often a server may ask to be pinged.
const minServerHeartbeat = time.Second

// maxBatch is how many queued bytes the writer gathers into one write.
const maxBatch = 64 << 10

// testHookExit, set only by tests, runs as each of a Client's goroutines
// finishes, just before it is counted as done.
var testHookExit func()

func goroutineExit() {
	if testHookExit != nil {
		testHookExit()
	}
}

var (
	// ErrClosed is returned by Call, and by Err, once Close was called.
	ErrClosed = errors.New("client closed")
	// ErrSlowConsumer ends a connection whose Events channel was full when
	// an event arrived. Relayed messages not yet acknowledged are pushed
	// again by the server at the next login, so nothing is lost.
	ErrSlowConsumer = errors.New("event consumer too slow: event buffer full")
)

// Options configure Dial.
type Options struct {
	// Fingerprint pins the server's certificate: the SHA-256 of its leaf
	// certificate (see Fingerprint and NormalizeFingerprint). When set,
	// the chain is not verified; only this certificate is accepted.
	Fingerprint string
	// TrustOnFirstUse, when Fingerprint is empty, accepts any certificate;
	// the caller reads Client.Fingerprint and pins it for next time.
	TrustOnFirstUse bool
	// RootCAs verifies the server's chain when neither Fingerprint nor
	// TrustOnFirstUse is set; nil means the system roots.
	RootCAs *x509.CertPool
	// ServerName is the name expected in the server's certificate and
	// sent in SNI; by default the host part of the address.
	ServerName string
	// ClientName is sent in the hello request (e.g. "lanchat/0.1").
	ClientName string
	// EventBuffer is the capacity of the Events channel (default 256).
	EventBuffer int
	// Heartbeat overrides the ping interval the server asks for in its
	// hello reply; mostly for tests.
	Heartbeat time.Duration
	// WriteTimeout bounds one write to the socket (default 10s).
	WriteTimeout time.Duration
	// MaxFrame is the largest frame accepted from the server (default
	// 16 MiB). What the client sends is bounded by the server's own limit,
	// learnt from hello.
	MaxFrame int
}

// Client is one connection to a rendezvous server. Its methods are safe
// for concurrent use.
type Client struct {
	conn         *tls.Conn
	fingerprint  string
	hello        wire.HelloResponse
	maxSend      int // set by Dial after hello, before the Client is shared
	writeTimeout time.Duration

	nextID   atomic.Uint64
	sendq    chan []byte
	events   chan *wire.Frame
	start    time.Time
	lastSent atomic.Int64 // time.Duration since start of the last write

	mu      sync.Mutex
	pending map[uint64]chan *wire.Frame // requests awaiting a response
	err     error                       // why the connection ended
	done    chan struct{}               // closed when err is set

	wg sync.WaitGroup // reader, writer and heartbeat
}

// Dial connects to the rendezvous server at addr ("host:port"), checks its
// certificate as opts say, and exchanges hello. ctx bounds the whole
// opening; the connection then lives until Close or a failure.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	serverName := opts.ServerName
	if serverName == "" {
		serverName = host
	}
	cfg, err := tlsConfig(serverName, &opts)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("dial %s: tls handshake: %w", addr, err)
	}
	c := newClient(tc, &opts)
	c.run(&opts)

	var hello wire.HelloResponse
	err = c.Call(ctx, wire.OpHello, wire.HelloRequest{Version: wire.Version, Client: opts.ClientName}, &hello)
	if err == nil && hello.Version != wire.Version {
		err = fmt.Errorf("server speaks protocol version %d, client %d", hello.Version, wire.Version)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c.hello = hello
	if hello.MaxFrame > 0 {
		c.maxSend = hello.MaxFrame
	}
	c.startHeartbeat(heartbeatInterval(opts.Heartbeat, hello.HeartbeatMS))
	return c, nil
}

func newClient(tc *tls.Conn, opts *Options) *Client {
	c := &Client{
		conn:         tc,
		maxSend:      wire.DefaultMaxFrame,
		writeTimeout: opts.WriteTimeout,
		sendq:        make(chan []byte, 64),
		events:       make(chan *wire.Frame, orDefault(opts.EventBuffer, DefaultEventBuffer)),
		start:        time.Now(),
		pending:      make(map[uint64]chan *wire.Frame),
		done:         make(chan struct{}),
	}
	if c.writeTimeout <= 0 {
		c.writeTimeout = DefaultWriteTimeout
	}
	if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
		c.fingerprint = Fingerprint(certs[0].Raw)
	}
	return c
}

// orDefault returns v, or def when v is not positive.
func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// run starts the reader and the writer.
func (c *Client) run(opts *Options) {
	r := wire.NewReader(c.conn, orDefault(opts.MaxFrame, DefaultMaxFrame))
	c.wg.Add(2)
	go c.readLoop(r)
	go c.writeLoop()
}

// heartbeatInterval picks the ping interval: the option if set, else the
// server's wish (bounded below), else DefaultHeartbeat.
func heartbeatInterval(opt time.Duration, serverMS int64) time.Duration {
	if opt > 0 {
		return opt
	}
	if serverMS <= 0 {
		return DefaultHeartbeat
	}
	return max(time.Duration(serverMS)*time.Millisecond, minServerHeartbeat)
}

// Hello returns the server's reply to hello: its version and limits.
func (c *Client) Hello() wire.HelloResponse { return c.hello }

// Fingerprint returns the fingerprint of the certificate the server
// presented, in the form Fingerprint returns. With TrustOnFirstUse this is
// the value to pin.
func (c *Client) Fingerprint() string { return c.fingerprint }

// Events returns the channel of server-pushed event frames, in the order
// the server sent them. It is closed when the connection ends; Err then
// says why.
//
// The channel holds Options.EventBuffer frames. The reader never waits for
// the consumer, so that responses keep flowing even when the goroutine
// that drains Events is itself waiting in Call; instead, an event that
// finds the channel full ends the connection with ErrSlowConsumer. The
// server redelivers unacknowledged relayed messages on the next login, so
// a caller that reconnects loses nothing. A consumer that expects bursts
// (presence of many friends at login) should size EventBuffer for them.
func (c *Client) Events() <-chan *wire.Frame { return c.events }

// Done returns a channel closed when the connection ends.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is up: ErrClosed
// after Close, the server's *wire.Error after a connection error frame,
// ErrSlowConsumer, or a network error.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection and waits for the client's goroutines to
// stop. Calls in progress return ErrClosed. Close is idempotent.
func (c *Client) Close() error {
	c.fail(ErrClosed)
	c.wg.Wait()
	return nil
}

// fail ends the connection with err, unless it has already ended.
func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.done)
	c.mu.Unlock()
	// Sends close_notify unless a write is in progress; either way the
	// socket is closed and the reader and writer return.
	c.conn.Close()
}

// Call sends request op with body req (nil for none) and waits for its
// response, which it decodes into resp unless resp is nil. Unknown fields
// in the response are ignored, so a newer server stays compatible.
//
// A response carrying an error returns it as a *wire.Error; callers branch
// on its Code with errors.As. If the connection ends, Call returns an
// error wrapping Err(). If ctx ends first, Call returns ctx's error; the
// request may still reach the server, and its late response is dropped.
func (c *Client) Call(ctx context.Context, op string, req, resp any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	id := c.nextID.Add(1)
	f, err := wire.NewRequest(id, op, req)
	if err != nil {
		return err
	}
	buf, err := wire.AppendFrame(nil, f)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n := len(buf) - 4; n > c.maxSend {
		return fmt.Errorf("%s: request of %d bytes: %w (server limit %d)", op, n, wire.ErrFrameTooLarge, c.maxSend)
	}

	ch := make(chan *wire.Frame, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return c.connErr(op, err)
	}
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()

	select {
	case c.sendq <- buf:
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", op, ctx.Err())
	case <-c.done:
		return c.connErr(op, c.Err())
	}

	var res *wire.Frame
	select {
	case res = <-ch:
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", op, ctx.Err())
	case <-c.done:
		// The response may have arrived just before the connection ended.
		select {
		case res = <-ch:
		default:
			return c.connErr(op, c.Err())
		}
	}
	if res.Error != nil {
		return res.Error
	}
	if resp != nil && len(res.Body) > 0 {
		if err := json.Unmarshal(res.Body, resp); err != nil {
			return fmt.Errorf("%s: decode response: %w", op, err)
		}
	}
	return nil
}

func (c *Client) connErr(op string, err error) error {
	if errors.Is(err, ErrClosed) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: connection lost: %w", op, err)
}

// readLoop reads frames until the connection ends, routing responses to
// their callers and events to the Events channel. It is the only sender
// on that channel and closes it on return.
func (c *Client) readLoop(r *wire.Reader) {
	defer c.wg.Done()
	defer goroutineExit()
	defer close(c.events)
	for {
		f, err := r.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("server closed the connection: %w", err)
			} else {
				err = fmt.Errorf("read: %w", err)
			}
			c.fail(err)
			return
		}
		switch f.Kind {
		case wire.KindResponse:
			c.mu.Lock()
			ch := c.pending[f.ID]
			delete(c.pending, f.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- f // buffered; each id is answered once
			}
			// Otherwise the caller gave up (or it was a heartbeat whose
			// caller is gone): drop the late response.
		case wire.KindEvent:
			select {
			case c.events <- f:
			default:
				c.fail(ErrSlowConsumer)
				return
			}
		case wire.KindError:
			c.fail(f.Error)
			return
		default:
			c.fail(fmt.Errorf("read: %w: server sent a %q frame", wire.ErrMalformed, f.Kind))
			return
		}
	}
}

// writeLoop owns writes to the socket. It gathers whatever is queued into
// one write, so that pipelined requests share TLS records.
func (c *Client) writeLoop() {
	defer c.wg.Done()
	defer goroutineExit()
	var batch []byte
	for {
		select {
		case buf := <-c.sendq:
			batch = append(batch[:0], buf...)
		gather:
			for len(batch) < maxBatch {
				select {
				case buf := <-c.sendq:
					batch = append(batch, buf...)
				default:
					break gather
				}
			}
			c.conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
			if _, err := c.conn.Write(batch); err != nil {
				c.fail(fmt.Errorf("write: %w", err))
				return
			}
			c.lastSent.Store(int64(time.Since(c.start)))
			if cap(batch) > 4*maxBatch {
				batch = nil // do not keep a big request's buffer for life
			}
		case <-c.done:
			return
		}
	}
}

// startHeartbeat starts the goroutine that pings the server whenever
// nothing was sent for interval.
func (c *Client) startHeartbeat(interval time.Duration) {
	c.wg.Add(1)
	go c.heartbeat(interval)
}

func (c *Client) heartbeat(interval time.Duration) {
	defer c.wg.Done()
	defer goroutineExit()
	// A server that does not answer a ping in this time is gone, even if
	// TCP has not noticed yet.
	replyTimeout := max(interval, 5*time.Second)
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.done:
			return
		}
		if idle := time.Since(c.start) - time.Duration(c.lastSent.Load()); idle < interval {
			t.Reset(interval - idle)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), replyTimeout)
		err := c.Call(ctx, wire.OpPing, nil, nil)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			c.fail(fmt.Errorf("heartbeat: no reply from server within %v", replyTimeout))
			return
		}
		// A *wire.Error (say rate_limited) still shows the server is
		// alive; a lost connection is seen through c.done.
		t.Reset(interval)
	}
}
