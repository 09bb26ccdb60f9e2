package rendezvous

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// preLoginFrame is the frame limit until the connection has logged in:
// hello, register, login and resume fit well within it, so a stranger
// can make the server hold little for it.
const preLoginFrame = wire.MinMaxFrame

// requestTimeout bounds the work of one request, password hashing
// included.
const requestTimeout = 30 * time.Second

// conn is one client connection. One goroutine runs it: its read loop
// runs requests one at a time, each on a goroutine that lives as long as
// the request. What it sends is queued (bounded, so a slow
// client never blocks anyone else) and written by a goroutine that runs
// only while the queue holds something: an idle connection costs one
// goroutine and no buffers but the TLS connection's own.
type conn struct {
	srv  *Server
	nc   net.Conn
	tls  *tls.Conn
	addr netip.AddrPort

	writerDone chan struct{}  // closed when the final frame is written (or failed)
	writers    sync.WaitGroup // the writer goroutine, while it runs
	wg         sync.WaitGroup // relay delivery goroutines
	requests   sync.WaitGroup // the request the read loop waits for

	mu        sync.Mutex
	user      string // "" until login, register or resume
	tokenHash []byte
	status    string
	endpoints []string
	ending    bool // no more frames may be queued
	final     bool // a final frame is queued for the writer
	relay     relayState
	out       []*[]byte // encoded frames waiting for the writer
	writing   bool      // the writer goroutine runs

	afterReply func() // set by a handler; run by dispatch after the reply is queued

	tokens   float64 // request rate limiter
	tokensAt time.Time
}

// frameBufs holds encoded frames' buffers between uses, so that idle
// connections hold none and busy ones reuse them.
var frameBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledFrame is the largest buffer put back in frameBufs: a rare big
// frame's buffer goes to the garbage collector instead of staying pooled.
const maxPooledFrame = 64 << 10

func newConn(s *Server, nc net.Conn, addr netip.AddrPort) *conn {
	return &conn{
		srv:        s,
		nc:         nc,
		tls:        tls.Server(nc, s.cfg.TLS),
		addr:       addr,
		writerDone: make(chan struct{}),
		tokens:     float64(s.cfg.RequestBurst),
	}
}

// logger is the server's logger naming the connection's address; made
// when something is logged, so that connections do not each hold one.
func (c *conn) logger() *slog.Logger { return c.srv.log.With("remote", c.addr.String()) }

// serve runs the TLS handshake and the hello exchange, then hands the
// connection to a read loop on a goroutine of its own and returns: the
// deep stack the handshake grew (key exchange, certificate signing) ends
// with this goroutine, and an idle connection keeps only the read loop's
// shallow one.
func (c *conn) serve() {
	r, ok := c.open()
	if !ok {
		c.finish()
		c.srv.forget(c)
		return
	}
	c.srv.connWG.Add(1)
	go func() {
		defer c.srv.connWG.Done()
		c.readLoop(r)
	}()
}

// open runs the handshake and hello under the handshake deadline and
// returns the reader the connection's frames come from.
func (c *conn) open() (*wire.Reader, bool) {
	deadline := time.Now().Add(c.srv.cfg.HandshakeTimeout)
	c.nc.SetDeadline(deadline)
	hctx, cancel := context.WithDeadline(c.srv.ctx, deadline)
	err := c.tls.HandshakeContext(hctx)
	cancel()
	if err != nil {
		c.logger().Debug("tls handshake failed", "err", err)
		return nil, false
	}
	// The TLS connection buffers a decrypted record; 64 bytes more are
	// enough to read frame headers without a call each.
	r := wire.NewReaderSize(c.tls, preLoginFrame, 64)
	return r, c.hello(r)
}

// readLoop reads requests until the connection ends. Each request runs on
// a short-lived goroutine of its own while the loop waits for it, one at
// a time as before: what a request needs (decoding, the store, SQLite) grows
// that goroutine's stack, not the loop's, which stays at the depth of a
// blocked read while the connection is idle.
func (c *conn) readLoop(r *wire.Reader) {
	defer c.srv.forget(c)
	defer c.finish()
	for {
		c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.IdleTimeout))
		// Checked after setting the deadline: signOut and shutdown mark
		// the connection ending before they cut the deadline short.
		if c.isEnding() {
			return
		}
		if c.authedUser() != "" {
			r.SetMax(c.srv.cfg.MaxFrame)
		} else {
			r.SetMax(preLoginFrame)
		}
		payload, err := r.ReadPayload()
		if err != nil {
			c.readFailed(err)
			return
		}
		c.requests.Add(1)
		go c.request(payload)
		c.requests.Wait()
	}
}

// request decodes and runs one request frame; the read loop waits for
// it. A frame that is not a request ends the connection.
func (c *conn) request(payload []byte) {
	defer c.requests.Done()
	f, err := wire.DecodeFrame(payload)
	if err != nil {
		c.readFailed(err)
		return
	}
	if f.Kind != wire.KindRequest {
		c.fail(wire.Errorf(wire.CodeMalformed, "clients send only requests"))
		return
	}
	if !c.allow() {
		c.reply(f.ID, nil, &wire.Error{Code: wire.CodeRateLimited, Message: "too many requests", RetryAfterMS: 1000})
		return
	}
	c.dispatch(f)
}

// hello runs the opening exchange under the handshake deadline.
func (c *conn) hello(r *wire.Reader) bool {
	f, err := r.ReadFrame()
	if err != nil {
		c.readFailed(err)
		return false
	}
	if f.Kind != wire.KindRequest || f.Op != wire.OpHello {
		c.fail(wire.Errorf(wire.CodeHelloRequired, "the first request must be %q", wire.OpHello))
		return false
	}
	var req wire.HelloRequest
	if err := wire.DecodeBody(f.Body, &req); err != nil {
		c.fail(wire.Errorf(wire.CodeMalformed, "%v", err))
		return false
	}
	if req.Version != wire.Version {
		c.fail(wire.Errorf(wire.CodeUnsupportedVersion, "server speaks version %d, client %d", wire.Version, req.Version))
		return false
	}
	cfg := &c.srv.cfg
	c.reply(f.ID, wire.HelloResponse{
		Version:     wire.Version,
		Server:      "lanchat-rendezvous",
		MaxFrame:    cfg.MaxFrame,
		HeartbeatMS: (cfg.IdleTimeout / 3).Milliseconds(),
		MaxEnvelope: cfg.MaxEnvelope,
	}, nil)
	return true
}

// readFailed closes the connection after a read error, telling the client
// why when the error was its fault.
func (c *conn) readFailed(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		c.end()
	case errors.Is(err, wire.ErrFrameTooLarge):
		c.fail(wire.Errorf(wire.CodeFrameTooLarge, "%v", err))
	case errors.Is(err, wire.ErrMalformed):
		c.fail(wire.Errorf(wire.CodeMalformed, "%v", err))
	case errors.As(err, &ne) && ne.Timeout():
		c.fail(wire.Errorf(wire.CodeTimeout, "no frame received in time"))
	default:
		c.logger().Debug("read failed", "err", err)
		c.end()
	}
}

// allow applies the per-connection request rate limit.
func (c *conn) allow() bool {
	now := time.Now()
	if !c.tokensAt.IsZero() {
		cfg := &c.srv.cfg
		c.tokens = min(float64(cfg.RequestBurst), c.tokens+now.Sub(c.tokensAt).Seconds()*cfg.RequestRate)
	}
	c.tokensAt = now
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

// writeLoop writes what is queued until the queue is empty, then ends;
// enqueue starts it again when a frame arrives. It owns writes to the
// socket while it runs, and there is at most one.
func (c *conn) writeLoop() {
	defer c.writers.Done()
	for {
		c.mu.Lock()
		batch := c.out
		c.out = nil
		if len(batch) == 0 {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		for i, b := range batch {
			if b == nil {
				// The final marker: close after what came before.
				c.closeWrite()
				c.dropBufs(batch[i+1:])
				c.closeWriterDone()
				return
			}
			c.tls.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
			_, err := c.tls.Write(*b)
			putFrameBuf(b)
			if err != nil {
				c.logger().Debug("write failed", "err", err)
				c.nc.Close()
				c.dropBufs(batch[i+1:])
				c.mu.Lock()
				c.ending = true
				c.dropBufs(c.out)
				c.out = nil
				c.mu.Unlock()
				c.closeWriterDone()
				return
			}
		}
	}
}

// dropBufs returns unwritten frames' buffers to the pool.
func (c *conn) dropBufs(bufs []*[]byte) {
	for _, b := range bufs {
		if b != nil {
			putFrameBuf(b)
		}
	}
}

func putFrameBuf(b *[]byte) {
	if cap(*b) <= maxPooledFrame {
		*b = (*b)[:0]
		frameBufs.Put(b)
	}
}

// closeWriterDone marks the writer finished for good (the final frame
// written, or a write failed).
func (c *conn) closeWriterDone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.writerDone:
	default:
		close(c.writerDone)
	}
}

// queueLocked adds b (nil: the final marker) to the queue and starts the
// writer if it is not running. The caller holds c.mu and has checked
// c.ending.
func (c *conn) queueLocked(b *[]byte) {
	c.out = append(c.out, b)
	if !c.writing {
		c.writing = true
		c.writers.Add(1)
		go c.writeLoop()
	}
}

// closeWrite sends close_notify and closes, giving the client a moment to
// read what was sent.
func (c *conn) closeWrite() {
	c.tls.SetWriteDeadline(time.Now().Add(time.Second))
	c.tls.CloseWrite()
	c.nc.Close()
}

// enqueue puts an encoded frame on the send queue. A full queue means the
// client is not reading: it is dropped rather than slowing the sender.
func (c *conn) enqueue(f *wire.Frame, last bool) bool {
	return c.enqueueEncoded(func(buf []byte) ([]byte, error) { return wire.AppendFrame(buf, f) }, f.Op, last)
}

// enqueueEncoded is enqueue for a frame that encode appends to a buffer
// taken from the pool.
func (c *conn) enqueueEncoded(encode func([]byte) ([]byte, error), op string, last bool) bool {
	b := frameBufs.Get().(*[]byte)
	buf, err := encode((*b)[:0])
	if err != nil {
		putFrameBuf(b)
		c.logger().Error("encode frame", "op", op, "err", err)
		return false
	}
	*b = buf
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ending {
		putFrameBuf(b)
		return false
	}
	if len(c.out) < c.srv.cfg.SendQueue {
		c.queueLocked(b)
		if last {
			c.queueLocked(nil)
			c.ending = true
			c.final = true
		}
		return true
	}
	putFrameBuf(b)
	c.ending = true
	c.logger().Info("dropping slow client", "user", c.user)
	c.srv.cfg.Metrics.ConnRejected("slow_reader")
	c.nc.Close()
	return false
}

// push sends an event to this connection.
func (c *conn) push(op string, body any) {
	c.enqueueEncoded(func(buf []byte) ([]byte, error) {
		return wire.AppendMessage(buf, wire.KindEvent, 0, op, body)
	}, op, false)
}

// reply sends the response to request id.
func (c *conn) reply(id uint64, body any, werr *wire.Error) {
	if werr != nil {
		c.enqueue(&wire.Frame{Kind: wire.KindResponse, ID: id, Error: werr}, false)
		return
	}
	if !c.enqueueEncoded(func(buf []byte) ([]byte, error) {
		return wire.AppendMessage(buf, wire.KindResponse, id, "", body)
	}, "", false) && !c.isEnding() {
		c.enqueue(&wire.Frame{Kind: wire.KindResponse, ID: id, Error: wire.Errorf(wire.CodeInternal, "internal error")}, false)
	}
}

// fail sends a connection error frame and closes the connection after it.
func (c *conn) fail(werr *wire.Error) {
	c.enqueue(&wire.Frame{Kind: wire.KindError, Error: werr}, true)
}

// end closes the connection after whatever is queued (on the client's
// EOF or a read error).
func (c *conn) end() {
	c.mu.Lock()
	if c.ending {
		c.mu.Unlock()
		return
	}
	c.ending = true
	// Requests are handled in the read loop, so every reply is queued by
	// now: a final marker lets the writer flush them before it closes.
	c.queueLocked(nil)
	c.final = true
	c.mu.Unlock()
}

func (c *conn) isEnding() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ending
}

// signOut pushes signed_out and closes; used when a newer session wins,
// the account is disabled or the password changed.
func (c *conn) signOut(reason string) {
	f, err := wire.NewEvent(wire.EvSignedOut, wire.SignedOutEvent{Reason: reason})
	if err == nil {
		c.enqueue(f, true)
	}
	// Unblock the read loop; the writer still flushes the queue (its
	// writes have their own deadline) before closing the socket.
	c.nc.SetReadDeadline(time.Now())
}

// shutdown tells the client the server is stopping, then closes.
func (c *conn) shutdown() {
	f, err := wire.NewEvent(wire.EvShutdown, wire.ShutdownEvent{Message: "server shutting down"})
	if err == nil {
		c.enqueue(f, true)
	}
	c.nc.SetReadDeadline(time.Now())
}

// forceClose closes the socket now.
func (c *conn) forceClose() { c.nc.Close() }

// finish runs once when the read loop ends: it lets the writer flush a
// final frame (bounded by the write time-out), stops it, waits for the
// connection's goroutines and detaches the user.
func (c *conn) finish() {
	c.mu.Lock()
	c.ending = true
	final := c.final
	c.mu.Unlock()
	if final {
		select {
		case <-c.writerDone:
		case <-time.After(c.srv.cfg.WriteTimeout + time.Second):
		}
	}
	c.nc.Close()
	c.writers.Wait()
	c.mu.Lock()
	c.dropBufs(c.out)
	c.out = nil
	c.mu.Unlock()
	c.detach()
	c.wg.Wait()
}

// authedUser returns the logged-in user, or "".
func (c *conn) authedUser() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}
