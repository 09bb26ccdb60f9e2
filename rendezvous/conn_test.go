package rendezvous

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// rawConn is a hand-driven TLS connection to the server, for the
// misbehaviour the client package would never commit.
type rawConn struct {
	t      *testing.T
	tc     *tls.Conn
	r      *wire.Reader
	nextID uint64
}

// rawTLSConfig accepts the test server's self-signed certificate. Tests
// only: the real client pins the fingerprint.
func rawTLSConfig() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}
}

// dialRawFrom opens a TLS connection to addr from the local IP from ("" for
// any), without sending hello.
func dialRawFrom(t *testing.T, addr, from string) (*rawConn, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return handshakeRaw(t, nc)
}

// handshakeRaw runs the TLS handshake on nc; nc is closed with the test.
func handshakeRaw(t *testing.T, nc net.Conn) (*rawConn, error) {
	t.Helper()
	tc := tls.Client(nc, rawTLSConfig())
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		nc.Close()
		return nil, err
	}
	tc.SetDeadline(time.Time{})
	t.Cleanup(func() { tc.Close() })
	return &rawConn{t: t, tc: tc, r: wire.NewReader(tc, 16<<20)}, nil
}

// raw opens a TLS connection to the server without sending hello.
func (ts *testServer) raw(t *testing.T) *rawConn {
	t.Helper()
	rc, err := dialRawFrom(t, ts.addr, "")
	if err != nil {
		t.Fatalf("raw dial: %v", err)
	}
	return rc
}

// rawHello opens a connection and exchanges hello.
func (ts *testServer) rawHello(t *testing.T) *rawConn {
	t.Helper()
	rc := ts.raw(t)
	rc.hello()
	return rc
}

// frameBytes puts the length prefix before payload.
func frameBytes(payload string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	return append(b, payload...)
}

func (rc *rawConn) write(b []byte) {
	rc.t.Helper()
	rc.tc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := rc.tc.Write(b); err != nil {
		rc.t.Fatalf("raw write: %v", err)
	}
}

// send writes a request and returns its id.
func (rc *rawConn) send(op string, body any) uint64 {
	rc.t.Helper()
	rc.nextID++
	f, err := wire.NewRequest(rc.nextID, op, body)
	if err != nil {
		rc.t.Fatal(err)
	}
	buf, err := wire.AppendFrame(nil, f)
	if err != nil {
		rc.t.Fatal(err)
	}
	rc.write(buf)
	return rc.nextID
}

// read returns the next frame, or the error that ended the wait.
func (rc *rawConn) read(timeout time.Duration) (*wire.Frame, error) {
	rc.tc.SetReadDeadline(time.Now().Add(timeout))
	return rc.r.ReadFrame()
}

// next returns the next frame or fails.
func (rc *rawConn) next() *wire.Frame {
	rc.t.Helper()
	f, err := rc.read(5 * time.Second)
	if err != nil {
		rc.t.Fatalf("raw read: %v", err)
	}
	return f
}

// reply reads frames until the response to id, skipping events.
func (rc *rawConn) reply(id uint64) *wire.Frame {
	rc.t.Helper()
	for {
		f := rc.next()
		switch {
		case f.Kind == wire.KindEvent:
		case f.Kind == wire.KindResponse && f.ID == id:
			return f
		default:
			rc.t.Fatalf("waiting for response %d, got %+v (error %v)", id, f, f.Error)
		}
	}
}

// call sends a request and returns its response frame.
func (rc *rawConn) call(op string, body any) *wire.Frame {
	rc.t.Helper()
	return rc.reply(rc.send(op, body))
}

// ok runs a request that must succeed.
func (rc *rawConn) ok(op string, body any) {
	rc.t.Helper()
	if f := rc.call(op, body); f.Error != nil {
		rc.t.Fatalf("%s: %v", op, f.Error)
	}
}

func (rc *rawConn) hello() wire.HelloResponse {
	rc.t.Helper()
	f := rc.call(wire.OpHello, wire.HelloRequest{Version: wire.Version, Client: "raw-test"})
	if f.Error != nil {
		rc.t.Fatalf("hello: %v", f.Error)
	}
	var h wire.HelloResponse
	if err := json.Unmarshal(f.Body, &h); err != nil {
		rc.t.Fatal(err)
	}
	return h
}

// expectErrorFrame reads the next frame, which must be a connection error
// frame with code, and then the end of the connection.
func (rc *rawConn) expectErrorFrame(code string) {
	rc.t.Helper()
	f, err := rc.read(time.Minute)
	if err != nil {
		rc.t.Fatalf("want %s error frame, read failed: %v", code, err)
	}
	if f.Kind != wire.KindError || f.Error == nil || f.Error.Code != code {
		rc.t.Fatalf("want %s error frame, got %+v (error %v)", code, f, f.Error)
	}
	rc.expectClosed(5 * time.Second)
}

// expectClosed fails unless the server ends the connection within d,
// sending no further frame.
func (rc *rawConn) expectClosed(d time.Duration) {
	rc.t.Helper()
	f, err := rc.read(d)
	if err == nil {
		rc.t.Fatalf("want the connection closed, got frame %+v", f)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		rc.t.Fatalf("connection still open after %v", d)
	}
}

// checkServing fails unless a well-behaved client can still connect,
// log in as a new user and ping.
func (ts *testServer) checkServing(t *testing.T) {
	t.Helper()
	u := ts.register(t, fmt.Sprintf("probe%d", probeSeq.Add(1)))
	call[wire.Empty](t, u.c, wire.OpPing, nil)
	call[wire.FriendsListResponse](t, u.c, wire.OpFriendsList, nil)
	u.c.Close()
}

// probeSeq names checkServing's accounts.
var probeSeq atomic.Int64

func TestHello(t *testing.T) {
	ts := startServer(t, func(cfg *Config) {
		cfg.MaxFrame = 64 << 10
		cfg.IdleTimeout = 60 * time.Second
	})
	t.Run("reply states the limits", func(t *testing.T) {
		rc := ts.raw(t)
		got := rc.hello()
		want := wire.HelloResponse{Version: wire.Version, Server: "lanchat-rendezvous", MaxFrame: 64 << 10, HeartbeatMS: 20000, MaxEnvelope: 32 << 10}
		if got != want {
			t.Errorf("hello reply %+v, want %+v", got, want)
		}
	})
	t.Run("first frame not hello", func(t *testing.T) {
		rc := ts.raw(t)
		rc.send(wire.OpPing, nil)
		rc.expectErrorFrame(wire.CodeHelloRequired)
	})
	t.Run("first frame login", func(t *testing.T) {
		rc := ts.raw(t)
		rc.send(wire.OpLogin, wire.LoginRequest{Username: "alice", Password: "whatever-pw"})
		rc.expectErrorFrame(wire.CodeHelloRequired)
	})
	t.Run("next version", func(t *testing.T) {
		rc := ts.raw(t)
		rc.send(wire.OpHello, wire.HelloRequest{Version: wire.Version + 1})
		rc.expectErrorFrame(wire.CodeUnsupportedVersion)
	})
	t.Run("version 0", func(t *testing.T) {
		rc := ts.raw(t)
		rc.send(wire.OpHello, nil)
		rc.expectErrorFrame(wire.CodeUnsupportedVersion)
	})
	t.Run("hello with unknown field", func(t *testing.T) {
		rc := ts.raw(t)
		rc.write(frameBytes(`{"t":"req","id":1,"op":"hello","body":{"version":1,"colour":"blue"}}`))
		rc.expectErrorFrame(wire.CodeMalformed)
	})
	t.Run("garbage before hello", func(t *testing.T) {
		rc := ts.raw(t)
		rc.write(frameBytes(`{"t":"req","id":1,"op":"hello"`))
		rc.expectErrorFrame(wire.CodeMalformed)
	})
	t.Run("second hello", func(t *testing.T) {
		rc := ts.rawHello(t)
		f := rc.call(wire.OpHello, wire.HelloRequest{Version: wire.Version})
		if f.Error == nil || f.Error.Code != wire.CodeConflict {
			t.Fatalf("second hello: %+v, want a conflict reply", f)
		}
		rc.ok(wire.OpPing, nil)
	})
	ts.checkServing(t)
}

// TestBadFrames sends frames the server must refuse by closing the
// connection with an error frame; the server itself carries on.
func TestBadFrames(t *testing.T) {
	const maxFrame = wire.MinMaxFrame
	ts := startServer(t, func(cfg *Config) { cfg.MaxFrame = maxFrame })
	header := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	tests := []struct {
		name string
		data []byte
		code string
	}{
		// Only the header is sent: the server must refuse the length
		// without waiting for a payload.
		{"length one over the limit", header(maxFrame + 1), wire.CodeFrameTooLarge},
		{"length 4 GiB", header(0xffffffff), wire.CodeFrameTooLarge},
		{"zero length", header(0), wire.CodeMalformed},
		{"truncated JSON", frameBytes(`{"t":"req","id":2,"op":"ping"`), wire.CodeMalformed},
		{"not JSON", frameBytes(`hello there`), wire.CodeMalformed},
		{"JSON array", frameBytes(`[1,2,3]`), wire.CodeMalformed},
		{"invalid UTF-8", frameBytes("{\"t\":\"req\",\"id\":2,\"op\":\"pi\xffng\"}"), wire.CodeMalformed},
		{"invalid UTF-8 in body", frameBytes("{\"t\":\"req\",\"id\":2,\"op\":\"ping\",\"body\":{\"x\":\"\xc3\x28\"}}"), wire.CodeMalformed},
		{"unknown kind", frameBytes(`{"t":"bogus","id":2,"op":"ping"}`), wire.CodeMalformed},
		{"no kind", frameBytes(`{"id":2,"op":"ping"}`), wire.CodeMalformed},
		{"request without id", frameBytes(`{"t":"req","op":"ping"}`), wire.CodeMalformed},
		{"request with id 0", frameBytes(`{"t":"req","id":0,"op":"ping"}`), wire.CodeMalformed},
		{"request with negative id", frameBytes(`{"t":"req","id":-1,"op":"ping"}`), wire.CodeMalformed},
		{"request with id over 64 bits", frameBytes(`{"t":"req","id":18446744073709551616,"op":"ping"}`), wire.CodeMalformed},
		{"request without op", frameBytes(`{"t":"req","id":2}`), wire.CodeMalformed},
		{"op over 64 bytes", frameBytes(`{"t":"req","id":2,"op":"` + strings.Repeat("p", 65) + `"}`), wire.CodeMalformed},
		{"response from a client", frameBytes(`{"t":"res","id":2}`), wire.CodeMalformed},
		{"event from a client", frameBytes(`{"t":"event","op":"presence"}`), wire.CodeMalformed},
		{"error frame from a client", frameBytes(`{"t":"error","error":{"code":"internal","message":"x"}}`), wire.CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := ts.rawHello(t)
			rc.write(tt.data)
			rc.expectErrorFrame(tt.code)
		})
	}
	t.Run("frame at the limit is read", func(t *testing.T) {
		rc := ts.rawHello(t)
		// A ping padded with spaces to exactly the limit is a good frame.
		p := `{"t":"req","id":9,"op":"ping"}`
		rc.write(frameBytes(p + strings.Repeat(" ", maxFrame-len(p))))
		if f := rc.reply(9); f.Error != nil {
			t.Fatalf("ping of %d bytes: %v", maxFrame, f.Error)
		}
	})
	t.Run("well-behaved clients are unaffected", func(t *testing.T) {
		// A logged-in client that was connected throughout still works.
		u := ts.register(t, "bystander")
		bad := ts.rawHello(t)
		bad.write(header(0xffffffff))
		bad.expectErrorFrame(wire.CodeFrameTooLarge)
		call[wire.FriendsListResponse](t, u.c, wire.OpFriendsList, nil)
	})
	ts.checkServing(t)
}

// TestBadRequests sends requests the server answers with an error reply,
// keeping the connection.
func TestBadRequests(t *testing.T) {
	ts := startServer(t, nil)
	rc := ts.rawHello(t)
	tests := []struct {
		name  string
		frame string // %d is the id
		code  string
	}{
		{"unknown op", `{"t":"req","id":%d,"op":"friends.explode"}`, wire.CodeUnknownOp},
		{"unknown op with body", `{"t":"req","id":%d,"op":"nope","body":{"a":1}}`, wire.CodeUnknownOp},
		{"unknown field in body", `{"t":"req","id":%d,"op":"ping","body":{"extra":true}}`, wire.CodeMalformed},
		{"unknown field in login", `{"t":"req","id":%d,"op":"login","body":{"username":"alice","password":"xxxxxxxx","admin":true}}`, wire.CodeMalformed},
		{"body of the wrong type", `{"t":"req","id":%d,"op":"ping","body":5}`, wire.CodeMalformed},
		{"field of the wrong type", `{"t":"req","id":%d,"op":"resume","body":{"token":42}}`, wire.CodeMalformed},
		{"body null", `{"t":"req","id":%d,"op":"login","body":null}`, wire.CodeInvalid},
		{"second hello", `{"t":"req","id":%d,"op":"hello","body":{"version":1}}`, wire.CodeConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc.nextID++
			rc.write(frameBytes(fmt.Sprintf(tt.frame, rc.nextID)))
			f := rc.reply(rc.nextID)
			if f.Error == nil || f.Error.Code != tt.code {
				t.Fatalf("reply %+v (error %v), want %s", f, f.Error, tt.code)
			}
			rc.ok(wire.OpPing, nil)
		})
	}
	ts.checkServing(t)
}

// TestNotAuthenticated: before login, only ping, register, login and
// resume are allowed.
func TestNotAuthenticated(t *testing.T) {
	var open []string
	for op, r := range routes {
		if !r.auth {
			open = append(open, op)
		}
	}
	want := map[string]bool{wire.OpPing: true, wire.OpRegister: true, wire.OpLogin: true, wire.OpResume: true}
	if len(open) != len(want) {
		t.Fatalf("ops allowed before login: %v, want ping, register, login, resume", open)
	}
	for _, op := range open {
		if !want[op] {
			t.Fatalf("%s is allowed before login", op)
		}
	}

	ts := startServer(t, nil)
	ts.register(t, "alice")
	c := ts.dial(t)
	n := 0
	for op, r := range routes {
		if !r.auth {
			continue
		}
		n++
		// A body that would be valid (and one that would not) makes no
		// difference: the session is checked first.
		callErr(t, c, op, nil, wire.CodeNotAuthenticated)
		callErr(t, c, op, map[string]any{"username": "alice", "group": "g", "bogus": 1}, wire.CodeNotAuthenticated)
	}
	if n < 20 {
		t.Fatalf("only %d authenticated ops", n)
	}
	call[wire.Empty](t, c, wire.OpPing, nil)
}

func TestIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	ts := startServer(t, func(cfg *Config) { cfg.IdleTimeout = idle })

	// A client that sends nothing gets a timeout error frame, no sooner
	// than idle after its hello (the server's clock starts once it has
	// read it) and long before the default timeout.
	rc := ts.raw(t)
	start := time.Now()
	if h := rc.hello(); h.HeartbeatMS != idle.Milliseconds()/3 {
		t.Errorf("heartbeat_ms %d, want %d", h.HeartbeatMS, idle.Milliseconds()/3)
	}
	rc.expectErrorFrame(wire.CodeTimeout)
	if d := time.Since(start); d < idle || d > time.Minute {
		t.Errorf("timed out after %v, want about %v", d, idle)
	}

	// Requests reset the clock, whatever they are; so does the client
	// package's heartbeat. Each is tried until one attempt ran without
	// this process stalling for idle: a stall proves nothing.
	deadline := time.Now().Add(time.Minute)
	for !pingsKeepConn(t, ts, idle) {
		if time.Now().After(deadline) {
			t.Fatal("for a minute, every attempt stalled for the idle timeout")
		}
	}
	for !heartbeatKeepsConn(t, ts, idle) {
		if time.Now().After(deadline) {
			t.Fatal("for a minute, every attempt stalled for the idle timeout")
		}
	}
}

// pingsKeepConn sends pings, idle/4 apart, for three times idle on a new
// connection to ts, whose idle timeout is idle; the connection must stay
// open. It reports false, for a retry, when the connection timed out
// after this client let idle or more pass between two requests.
func pingsKeepConn(t *testing.T, ts *testServer, idle time.Duration) bool {
	t.Helper()
	rc := ts.raw(t)
	last := time.Now()
	rc.hello()
	for range 12 {
		time.Sleep(idle / 4)
		sent := time.Now()
		id := rc.send(wire.OpPing, nil)
		for {
			f, err := rc.read(time.Minute)
			if err != nil || f.Kind == wire.KindError {
				if gap := sent.Sub(last); gap >= idle {
					return false
				}
				t.Fatalf("connection dropped though requests came at most %v apart: %v %+v", sent.Sub(last), err, f)
			}
			if f.Kind == wire.KindResponse && f.ID == id {
				if f.Error != nil {
					t.Fatalf("ping: %v", f.Error)
				}
				break
			}
		}
		last = sent
	}
	return true
}

// heartbeatKeepsConn keeps a client of the client package, heartbeating
// every idle/10, idle for four times idle; it must stay connected. It
// reports false, for a retry, when it was dropped after a ticker of this
// process stalled for most of idle, time in which the heartbeat may
// have stalled too.
func heartbeatKeepsConn(t *testing.T, ts *testServer, idle time.Duration) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.Dial(ctx, ts.addr, client.Options{Fingerprint: ts.fp, Heartbeat: idle / 10})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tick := time.NewTicker(idle / 10)
	defer tick.Stop()
	end := time.After(4 * idle)
	prev, stalled := time.Now(), time.Duration(0)
	for {
		select {
		case <-c.Done():
			if stalled >= idle/2 {
				return false
			}
			t.Fatalf("heartbeating client was dropped (longest stall %v): %v", stalled, c.Err())
		case <-tick.C:
			now := time.Now()
			stalled, prev = max(stalled, now.Sub(prev)), now
			continue
		case <-end:
		}
		break
	}
	call[wire.Empty](t, c, wire.OpPing, nil)
	return true
}

func TestHandshakeTimeout(t *testing.T) {
	const hs = 300 * time.Millisecond
	ts := startServer(t, func(cfg *Config) { cfg.HandshakeTimeout = hs })

	t.Run("no TLS", func(t *testing.T) {
		nc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		start := time.Now()
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := nc.Read(make([]byte, 1))
		var ne net.Error
		if n != 0 || err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("read %d bytes, %v; want the connection closed", n, err)
		}
		if d := time.Since(start); d < hs-50*time.Millisecond || d > 10*hs {
			t.Errorf("closed after %v, want about %v", d, hs)
		}
	})
	t.Run("TLS but no hello", func(t *testing.T) {
		rc := ts.raw(t)
		start := time.Now()
		rc.expectErrorFrame(wire.CodeTimeout)
		if d := time.Since(start); d > 10*hs {
			t.Errorf("closed after %v, want about %v", d, hs)
		}
	})
	t.Run("hello in time then idle", func(t *testing.T) {
		// The handshake limit no longer applies after hello: the
		// connection outlives it (the idle time-out is the default 90s).
		rc := ts.rawHello(t)
		time.Sleep(2 * hs)
		rc.ok(wire.OpPing, nil)
	})
	ts.checkServing(t)
}

func TestMaxConnsPerAddr(t *testing.T) {
	ts := startServer(t, func(cfg *Config) { cfg.MaxConnsPerAddr = 3 })
	var held []*rawConn
	for range 3 {
		held = append(held, ts.rawHello(t))
	}
	// The fourth from the same address is closed before the TLS handshake.
	if _, err := dialRawFrom(t, ts.addr, "127.0.0.1"); err == nil {
		t.Fatal("a fourth connection from 127.0.0.1 completed its TLS handshake")
	}
	// The cap is per address: another address is served.
	other, err := dialRawFrom(t, ts.addr, "127.0.0.2")
	if err != nil {
		t.Skipf("cannot dial from 127.0.0.2 (%v); per-address part not tested", err)
	}
	other.hello()
	other.ok(wire.OpPing, nil)

	// Closing one frees its place.
	held[0].tc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rc, err := dialRawFrom(t, ts.addr, "127.0.0.1")
		if err == nil {
			rc.send(wire.OpHello, wire.HelloRequest{Version: wire.Version})
			if f, err := rc.read(5 * time.Second); err == nil && f.Error == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no place freed 5s after a connection closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, rc := range held[1:] {
		rc.ok(wire.OpPing, nil)
	}
}

func TestMaxConns(t *testing.T) {
	ts := startServer(t, func(cfg *Config) { cfg.MaxConns = 2 })
	a, b := ts.rawHello(t), ts.rawHello(t)
	if _, err := dialRawFrom(t, ts.addr, ""); err == nil {
		t.Fatal("a third connection completed its TLS handshake")
	}
	a.ok(wire.OpPing, nil)
	b.ok(wire.OpPing, nil)
}

// smallBufferListener makes accepted connections' send buffers small, so
// that a client that stops reading fills them at once.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return nc, err
}

// serveSmallBuffers makes ts also accept on a listener with small send
// buffers and returns its address.
func serveSmallBuffers(t *testing.T, ts *testServer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ts.srv.Serve(smallBufferListener{ln})
	}()
	// Registered after startServer's cleanup, so it runs first: close
	// the listener so that Serve returns whether or not Shutdown ran.
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// stalledLogin logs u in on a raw connection to addr with a small receive
// buffer; the caller then stops reading from it.
func stalledLogin(t *testing.T, addr string, u *testUser) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.(*net.TCPConn).SetReadBuffer(4096)
	rc, err := handshakeRaw(t, nc)
	if err != nil {
		t.Fatal(err)
	}
	rc.hello()
	rc.ok(wire.OpLogin, wire.LoginRequest{Username: u.name, Password: u.password})
	return rc
}

// TestSlowReader: a client that stops reading is dropped once its queue is
// full, and the user whose actions feed that queue is never slowed down.
func TestSlowReader(t *testing.T) {
	ts := startServer(t, func(cfg *Config) {
		cfg.SendQueue = 4
		cfg.RequestRate = 1e6
		cfg.RequestBurst = 1e6
	})
	addr := serveSmallBuffers(t, ts)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	befriend(t, alice, bob)
	bob.c.Close()
	waitMatching(t, alice.c, wire.EvPresence, 5*time.Second, presenceOfUser("bob", wire.StatusOffline))

	stalledLogin(t, addr, bob) // and never read again
	if ts.srv.hub.conn("bob") == nil {
		t.Fatal("bob is not online")
	}
	waitMatching(t, alice.c, wire.EvPresence, 5*time.Second, presenceOfUser("bob", wire.StatusOnline))

	// Every presence.set of alice's is an event for bob.
	eps := make([]string, wire.MaxEndpoints)
	for i := range eps {
		eps[i] = fmt.Sprintf("[2001:db8::%x]:%d", 0x1000+i, 40000+i)
	}
	var slowest time.Duration
	dropped := -1
	for i := range 5000 {
		status := wire.StatusOnline
		if i%2 == 1 {
			status = wire.StatusAway
		}
		start := time.Now()
		call[wire.Empty](t, alice.c, wire.OpPresenceSet, wire.PresenceSetRequest{Status: status, Endpoints: eps})
		slowest = max(slowest, time.Since(start))
		if dropped < 0 && ts.srv.hub.conn("bob") == nil {
			dropped = i
		}
		if dropped >= 0 && i >= dropped+50 {
			break
		}
	}
	if dropped < 0 {
		t.Fatal("bob was never dropped")
	}
	t.Logf("bob dropped after %d events; slowest presence.set %v", dropped+1, slowest)
	if slowest > time.Second {
		t.Errorf("a presence.set took %v while bob was not reading", slowest)
	}
	// Alice sees bob go offline.
	waitMatching(t, alice.c, wire.EvPresence, 5*time.Second, presenceOfUser("bob", wire.StatusOffline))
	// Bob can come back.
	bob2 := ts.login(t, bob)
	call[wire.FriendsListResponse](t, bob2.c, wire.OpFriendsList, nil)
}

// TestSlowReaderRelayRedelivered: relayed messages pushed to a client that
// was dropped for not reading come again at its next login.
func TestSlowReaderRelayRedelivered(t *testing.T) {
	ts := startServer(t, func(cfg *Config) { cfg.SendQueue = 4 })
	addr := serveSmallBuffers(t, ts)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	befriend(t, alice, bob)
	bob.c.Close()
	waitMatching(t, alice.c, wire.EvPresence, 5*time.Second, presenceOfUser("bob", wire.StatusOffline))
	stalledLogin(t, addr, bob)

	env := make([]byte, 64<<10)
	var ids []string
	for i := 0; i < 64 && ts.srv.hub.conn("bob") != nil; i++ {
		id := fmt.Sprintf("%032x", i+1)
		r := relayOne(t, alice, wire.RelayEnvelope{To: "bob", ID: id, Envelope: env})
		if r.Status != "queued" {
			t.Fatalf("relay.send %s: %s", id, r.Status)
		}
		ids = append(ids, id)
	}
	deadline := time.Now().Add(5 * time.Second)
	for ts.srv.hub.conn("bob") != nil {
		if time.Now().After(deadline) {
			t.Fatalf("bob not dropped after %d envelopes of %d bytes", len(ids), len(env))
		}
		time.Sleep(10 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, ts.addr, client.Options{Fingerprint: ts.fp, EventBuffer: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	call[wire.Session](t, c, wire.OpLogin, wire.LoginRequest{Username: "bob", Password: bob.password})
	evs := relayEventsVia(t, c, len(ids))
	for i, id := range ids {
		ev := evs[i]
		if ev.ID != id || len(ev.Envelope) != len(env) {
			t.Fatalf("relay event %s (%d bytes), want %s", ev.ID, len(ev.Envelope), id)
		}
	}
}

func TestRequestRateLimit(t *testing.T) {
	ts := startServer(t, func(cfg *Config) {
		cfg.RequestRate = 10
		cfg.RequestBurst = 5
	})
	rc := ts.rawHello(t)
	// Twenty pings in one write, so the bucket has no time to refill.
	var burst []byte
	for id := uint64(1); id <= 20; id++ {
		f, err := wire.NewRequest(id, wire.OpPing, nil)
		if err != nil {
			t.Fatal(err)
		}
		if burst, err = wire.AppendFrame(burst, f); err != nil {
			t.Fatal(err)
		}
	}
	rc.write(burst)
	rc.nextID = 20
	ok, limited := 0, 0
	for id := uint64(1); id <= 20; id++ {
		f := rc.next()
		if f.Kind != wire.KindResponse || f.ID != id {
			t.Fatalf("frame %+v, want the response to %d (in order)", f, id)
		}
		switch {
		case f.Error == nil:
			ok++
		case id <= 5:
			t.Errorf("ping %d, within the burst, got %v", id, f.Error)
		case f.Error.Code == wire.CodeRateLimited:
			limited++
			if f.Error.RetryAfterMS <= 0 {
				t.Errorf("rate_limited without retry_after_ms: %+v", f.Error)
			}
		default:
			t.Fatalf("ping %d: %v", id, f.Error)
		}
	}
	// At 10 a second, only a very slow server could refill 5 more.
	if ok < 5 || limited < 10 {
		t.Errorf("%d ok and %d rate_limited of 20; want the burst of 5 (and a little refill) ok and the rest limited", ok, limited)
	}
	// The connection stays up, and the bucket refills at the rate.
	time.Sleep(300 * time.Millisecond)
	rc.ok(wire.OpPing, nil)
	rc.ok(wire.OpPing, nil)
	// Another connection has its own bucket.
	other := ts.rawHello(t)
	for range 5 {
		other.ok(wire.OpPing, nil)
	}
}

func TestGracefulShutdown(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	anon := ts.dial(t)
	rc := ts.rawHello(t)
	pending, err := net.Dial("tcp", ts.addr) // in the TLS handshake
	if err != nil {
		t.Fatal(err)
	}
	defer pending.Close()
	// Wait until the server has taken it on.
	for deadline := time.Now().Add(5 * time.Second); ; {
		ts.srv.mu.Lock()
		n := len(ts.srv.conns)
		ts.srv.mu.Unlock()
		if n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server holds %d connections, want 4", n)
		}
		time.Sleep(5 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Shutdown took %v with idle clients", d)
	}

	for name, c := range map[string]*client.Client{"logged in": alice.c, "anonymous": anon} {
		ev := waitEvent[wire.ShutdownEvent](t, c, wire.EvShutdown)
		if ev.Message == "" {
			t.Errorf("%s: shutdown event without a message", name)
		}
		waitClosed(t, c, 5*time.Second)
	}
	f := rc.next()
	if f.Kind != wire.KindEvent || f.Op != wire.EvShutdown {
		t.Fatalf("raw client got %+v, want the shutdown event", f)
	}
	rc.expectClosed(5 * time.Second)
	pending.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := pending.Read(make([]byte, 1)); err == nil {
		t.Error("connection in TLS handshake left open")
	}

	select {
	case err := <-ts.done:
		ts.done <- err // for the harness's cleanup
		if !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Shutdown")
	}
	if _, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		t.Error("server still accepts connections")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := ts.srv.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown = %v, want ErrServerClosed", err)
	}
}

// TestShutdownDeadline: a client whose writes are stuck cannot hold
// Shutdown past its context.
func TestShutdownDeadline(t *testing.T) {
	ts := startServer(t, func(cfg *Config) { cfg.WriteTimeout = time.Minute })
	addr := serveSmallBuffers(t, ts)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	befriend(t, alice, bob)
	bob.c.Close()
	waitMatching(t, alice.c, wire.EvPresence, 5*time.Second, presenceOfUser("bob", wire.StatusOffline))
	stalledLogin(t, addr, bob)
	// An envelope far bigger than the socket buffers: bob's writer blocks
	// on it. Delivery pushes envelopes one pass after another, so once a
	// second envelope is in flight the first is surely on bob's queue.
	bc := ts.srv.hub.conn("bob")
	waitInflight := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; {
			bc.mu.Lock()
			got := len(bc.relay.inflight)
			bc.mu.Unlock()
			if got == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d envelopes pushed to bob, want %d", got, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	relayOne(t, alice, wire.RelayEnvelope{To: "bob", ID: fmt.Sprintf("%032x", 1), Envelope: make([]byte, 200<<10)})
	waitInflight(1)
	relayOne(t, alice, wire.RelayEnvelope{To: "bob", ID: fmt.Sprintf("%032x", 2), Envelope: []byte("x")})
	waitInflight(2)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := ts.srv.Shutdown(ctx)
	d := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want context.DeadlineExceeded", err)
	}
	if d > 3*time.Second {
		t.Errorf("Shutdown took %v with a 300ms context", d)
	}
	waitClosed(t, alice.c, 5*time.Second)
}

func TestTLS12Refused(t *testing.T) {
	ts := startServer(t, nil)
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", ts.addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
	if err == nil {
		c.Close()
		t.Fatal("a TLS 1.2 client connected")
	}
	ts.checkServing(t)
}

// TestHalfCloseFlushesReplies: a client that sends its requests and then
// closes its side of the connection (TLS close_notify) still gets every
// reply before the server closes.
func TestHalfCloseFlushesReplies(t *testing.T) {
	ts := startServer(t, nil)
	for round := range 20 {
		rc := ts.rawHello(t)
		var buf []byte
		for id := uint64(10); id < 15; id++ {
			f, err := wire.NewRequest(id, wire.OpPing, nil)
			if err != nil {
				t.Fatal(err)
			}
			if buf, err = wire.AppendFrame(buf, f); err != nil {
				t.Fatal(err)
			}
		}
		rc.write(buf)
		if err := rc.tc.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		for id := uint64(10); id < 15; id++ {
			f, err := rc.read(5 * time.Second)
			if err != nil {
				t.Fatalf("round %d: reply to %d lost: %v", round, id, err)
			}
			if f.Kind != wire.KindResponse || f.ID != id || f.Error != nil {
				t.Fatalf("round %d: got %+v, want the reply to %d", round, f, id)
			}
		}
		rc.expectClosed(5 * time.Second)
	}
}
