package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// testCert is a self-signed ECDSA certificate for 127.0.0.1 and
// "lanchat.test", made once per test run.
var testCert = sync.OnceValue(func() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "lanchat test server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"lanchat.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
})

// fakeServer speaks just enough of the protocol over real TLS to exercise
// the client. Besides hello and ping it knows these ops:
//
//	echo    replies with the request body
//	fail    replies with an invalid error naming field "username"
//	events  pushes {"seq":i} events "tick" for i < n, then replies {}
//	hang    holds its reply until the next request other than ping
//	kill    sends a shutting_down error frame and closes
//	drop    closes without a word
type fakeServer struct {
	ln       net.Listener
	addr     string
	fp       string
	hello    wire.HelloResponse
	helloErr *wire.Error // answer hello with this error frame instead
	pings    atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startFake(t *testing.T, mod func(*fakeServer)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert := testCert()
	s := &fakeServer{
		ln:    ln,
		addr:  ln.Addr().String(),
		fp:    Fingerprint(cert.Certificate[0]),
		hello: wire.HelloResponse{Version: wire.Version, Server: "fake", MaxFrame: wire.DefaultMaxFrame, HeartbeatMS: 30000, MaxEnvelope: 1 << 18},
	}
	if mod != nil {
		mod(s)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, nc)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(tls.Server(nc, cfg))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *fakeServer) serve(tc *tls.Conn) {
	defer tc.Close()
	if err := tc.Handshake(); err != nil {
		return
	}
	r := wire.NewReader(tc, wire.DefaultMaxFrame)
	reply := func(id uint64, body any) {
		f, err := wire.NewResponse(id, body)
		if err != nil {
			panic(err)
		}
		wire.WriteFrame(tc, f)
	}
	var held *wire.Frame
	for {
		f, err := r.ReadFrame()
		if err != nil {
			return
		}
		if held != nil && f.Op != wire.OpPing {
			wire.WriteFrame(tc, held)
			held = nil
		}
		switch f.Op {
		case wire.OpHello:
			if s.helloErr != nil {
				wire.WriteFrame(tc, &wire.Frame{Kind: wire.KindError, Error: s.helloErr})
				return
			}
			reply(f.ID, s.hello)
		case wire.OpPing:
			s.pings.Add(1)
			reply(f.ID, wire.Empty{})
		case "echo":
			wire.WriteFrame(tc, &wire.Frame{Kind: wire.KindResponse, ID: f.ID, Body: f.Body})
		case "fail":
			wire.WriteFrame(tc, &wire.Frame{Kind: wire.KindResponse, ID: f.ID, Error: wire.Invalid("username", "no user %q", "zed")})
		case "events":
			var req struct{ N int }
			json.Unmarshal(f.Body, &req)
			for i := range req.N {
				ev, _ := wire.NewEvent("tick", map[string]int{"seq": i})
				wire.WriteFrame(tc, ev)
			}
			reply(f.ID, wire.Empty{})
		case "hang":
			held, _ = wire.NewResponse(f.ID, "held")
		case "kill":
			wire.WriteFrame(tc, &wire.Frame{Kind: wire.KindError, Error: wire.Errorf(wire.CodeShuttingDown, "server is stopping")})
			return
		case "drop":
			return
		default:
			wire.WriteFrame(tc, &wire.Frame{Kind: wire.KindResponse, ID: f.ID, Error: wire.Errorf(wire.CodeUnknownOp, "no op %q", f.Op)})
		}
	}
}

// dial connects a pinned client that is closed with the test.
func (s *fakeServer) dial(t *testing.T, opts Options) *Client {
	t.Helper()
	if opts.Fingerprint == "" && !opts.TrustOnFirstUse && opts.RootCAs == nil {
		opts.Fingerprint = s.fp
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, s.addr, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func call(t *testing.T, c *Client, op string, req, resp any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Call(ctx, op, req, resp)
}

func waitDone(t *testing.T, c *Client) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("connection did not end")
	}
}
