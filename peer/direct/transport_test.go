package direct

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

func TestDialAccept(t *testing.T) {
	alice, bob, ab, ba := connected(t)
	if ab.User() != "bob" || !ab.PeerKey().Equal(bob.pub()) {
		t.Errorf("dialled side sees %q, key match %v", ab.User(), ab.PeerKey().Equal(bob.pub()))
	}
	if ba.User() != "alice" || !ba.PeerKey().Equal(alice.pub()) {
		t.Errorf("accepted side sees %q, key match %v", ba.User(), ba.PeerKey().Equal(alice.pub()))
	}
	// The dialled connection comes from the listening socket.
	if got, want := ba.RemoteAddr().String(), alice.addr(); got != want {
		t.Errorf("bob sees alice at %s, she listens on %s", got, want)
	}
	if ab.Context().Err() != nil || ba.Context().Err() != nil {
		t.Error("fresh connection already closed")
	}
}

func TestDialAcceptIPv6(t *testing.T) {
	if ln, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		ln.Close()
	}
	ca, cb := newContacts(), newContacts()
	alice := newPeerAt(t, "alice", "[::1]:0", ca, testOptions())
	bob := newPeerAt(t, "bob", "[::1]:0", cb, testOptions())
	ca.add("bob", bob.pub())
	cb.add("alice", alice.pub())
	ab, ba := dialAccept(t, alice, bob)
	if ab.User() != "bob" || ba.User() != "alice" {
		t.Fatalf("users %q / %q", ab.User(), ba.User())
	}
	// A socket bound to ::1 cannot reach 127.0.0.1; Dial says so at once.
	if _, err := alice.t.Dial(context.Background(), "127.0.0.1:9", "x", bob.pub()); err == nil {
		t.Fatal("dialled IPv4 from an IPv6 socket")
	}
}

func TestDialWrongKey(t *testing.T) {
	ca := newContacts()
	alice := newPeer(t, "alice", ca)
	bob := newPeer(t, "bob", nil)
	// The impostor trusts alice, listens where alice expects bob, but
	// holds another key.
	ci := newContacts()
	ci.add("alice", alice.pub())
	impostor := newPeer(t, "impostor", ci)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := alice.t.Dial(ctx, impostor.addr(), "bob", bob.pub())
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Dial = %v, want ErrWrongKey", err)
	}
	for _, fp := range []string{Fingerprint(bob.pub()), Fingerprint(impostor.pub())} {
		if !strings.Contains(err.Error(), fp) {
			t.Errorf("error %q does not name fingerprint %s", err, fp)
		}
	}
	expectNoAccept(t, impostor, 300*time.Millisecond)
}

func TestUnauthorizedRefused(t *testing.T) {
	ca := newContacts()
	alice := newPeer(t, "alice", ca)
	bob := newPeer(t, "bob", nil) // knows nobody
	ca.add("bob", bob.pub())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := alice.t.Dial(ctx, bob.addr(), "bob", bob.pub())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Dial = %v, want ErrUnauthorized", err)
	}
	expectNoAccept(t, bob, 300*time.Millisecond)
}

// A contact removed between the handshake and admission is refused with
// the "unauthorized" application code.
func TestUnauthorizedAfterHandshake(t *testing.T) {
	ca := newContacts()
	alice := newPeer(t, "alice", ca)
	bobKey := newIdentity(t)
	calls := 0
	authorize := func(key ed25519.PublicKey) (string, bool) {
		calls++ // handshake, then admission: only the first succeeds
		return "alice", calls == 1 && key.Equal(alice.pub())
	}
	tr, err := Listen("127.0.0.1:0", bobKey, authorize, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	bob := &peer{name: "bob", key: bobKey, t: tr}
	ca.add("bob", bob.pub())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = alice.t.Dial(ctx, bob.addr(), "bob", bob.pub())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Dial = %v, want ErrUnauthorized", err)
	}
	var aerr *quic.ApplicationError
	if !errors.As(err, &aerr) || ErrorCode(aerr.ErrorCode) != CodeUnauthorized {
		t.Errorf("Dial = %v, want application error %d", err, CodeUnauthorized)
	}
	expectNoAccept(t, bob, 300*time.Millisecond)
}

// rawDial connects to p with a quic-go client configured by hand, as a
// foreign or malicious program would.
func rawDial(t *testing.T, p *peer, conf *tls.Config) (*quic.Conn, error) {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	qt := &quic.Transport{Conn: udp}
	t.Cleanup(func() { qt.Close(); udp.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return qt.Dial(ctx, p.t.LocalAddr(), conf, &quic.Config{HandshakeIdleTimeout: 2 * time.Second})
}

func TestForeignClientsRefused(t *testing.T) {
	alice := newIdentity(t)
	cb := newContacts()
	bob := newPeer(t, "bob", cb)
	cb.add("alice", alice.Public().(ed25519.PublicKey))

	aliceCert, err := newCertificate(alice, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecCert := makeCert(t, &ecKey.PublicKey, ecKey, nil, false)
	other := newIdentity(t)
	ca := makeCert(t, other.Public(), other, nil, true)
	leaf := makeCert(t, alice.Public(), other, ca, false)

	// TLS alerts, as QUIC carries them: CRYPTO_ERROR 0x100 + alert.
	const (
		badCertificate      = 0x100 + 42
		certificateRequired = 0x100 + 116
		noALPN              = 0x100 + 120
	)
	tests := []struct {
		name   string
		protos []string
		certs  []tls.Certificate
		alert  quic.TransportErrorCode
	}{
		{"other ALPN", []string{"h3"}, []tls.Certificate{aliceCert}, noALPN},
		{"no ALPN", nil, []tls.Certificate{aliceCert}, noALPN},
		{"no client certificate", []string{alpn}, nil, certificateRequired},
		{"ECDSA certificate", []string{alpn}, []tls.Certificate{{Certificate: [][]byte{ecCert.Raw}, PrivateKey: ecKey}}, badCertificate},
		{"two-certificate chain", []string{alpn}, []tls.Certificate{{Certificate: [][]byte{leaf.Raw, ca.Raw}, PrivateKey: alice}}, badCertificate},
		{"stranger's key", []string{alpn}, []tls.Certificate{mustCert(t, other)}, badCertificate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qc, err := rawDial(t, bob, &tls.Config{
				InsecureSkipVerify: true,
				NextProtos:         tt.protos,
				Certificates:       tt.certs,
			})
			if err == nil {
				// TLS 1.3 clients finish before the server checks their
				// certificate: the refusal closes the connection.
				select {
				case <-qc.Context().Done():
					err = context.Cause(qc.Context())
				case <-time.After(3 * time.Second):
					t.Fatal("connection from a foreign client stayed open")
				}
			}
			var terr *quic.TransportError
			if !errors.As(err, &terr) || !terr.Remote || terr.ErrorCode != tt.alert {
				t.Errorf("refused with %v, want remote %v", err, tt.alert)
			}
			expectNoAccept(t, bob, 100*time.Millisecond)
		})
	}
	// The same client with alice's certificate and our ALPN gets in: the
	// refusals above are not an accident of the raw client.
	qc, err := rawDial(t, bob, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{alpn}, Certificates: []tls.Certificate{aliceCert}})
	if err != nil {
		t.Fatalf("well-formed raw client: %v", err)
	}
	defer qc.CloseWithError(0, "")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := bob.t.Accept(ctx)
	if err != nil {
		t.Fatalf("well-formed raw client not accepted: %v", err)
	}
	if c.User() != "alice" {
		t.Fatalf("accepted %q", c.User())
	}
}

func mustCert(t *testing.T, id ed25519.PrivateKey) tls.Certificate {
	t.Helper()
	c, err := newCertificate(id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Dialling a server that is not a lanchat peer fails at the handshake.
func TestForeignServerRefused(t *testing.T) {
	ca := newContacts()
	alice := newPeer(t, "alice", ca)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecCert := makeCert(t, &ecKey.PublicKey, ecKey, nil, false)
	ln, err := quic.ListenAddr("127.0.0.1:0", &tls.Config{
		NextProtos:   []string{alpn},
		Certificates: []tls.Certificate{{Certificate: [][]byte{ecCert.Raw}, PrivateKey: ecKey}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = alice.t.Dial(ctx, ln.Addr().String(), "bob", newIdentity(t).Public().(ed25519.PublicKey))
	if !errors.Is(err, ErrBadCertificate) {
		t.Fatalf("Dial = %v, want ErrBadCertificate", err)
	}
}

// QUIC cannot carry TLS 1.2 at all; this checks that our server
// configuration would refuse it on its own too.
func TestServerConfigRefusesTLS12(t *testing.T) {
	certs, err := newCertSource(newIdentity(t))
	if err != nil {
		t.Fatal(err)
	}
	everyone := func(ed25519.PublicKey) (string, bool) { return "x", true }
	server := serverTLS(certs, everyone, slog.New(slog.DiscardHandler))
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	go tls.Server(c1, server).Handshake()
	client := tls.Client(c2, &tls.Config{
		InsecureSkipVerify: true,
		MaxVersion:         tls.VersionTLS12,
		NextProtos:         []string{alpn},
		Certificates:       []tls.Certificate{mustCert(t, newIdentity(t))},
	})
	client.SetDeadline(time.Now().Add(3 * time.Second))
	if err := client.Handshake(); err == nil {
		t.Fatal("TLS 1.2 handshake succeeded")
	} else if !strings.Contains(err.Error(), "protocol version") {
		t.Fatalf("handshake error %v, want a protocol version alert", err)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	alice, bob, ab, ba := connected(t)

	accepted := make(chan error, 1)
	go func() {
		_, err := bob.t.Accept(context.Background())
		accepted <- err
	}()
	streamErr := make(chan error, 1)
	go func() {
		_, _, err := ba.AcceptStream(context.Background())
		streamErr <- err
	}()

	if err := bob.t.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := bob.t.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for name, ch := range map[string]chan error{"Accept": accepted, "AcceptStream": streamErr} {
		select {
		case err := <-ch:
			if err == nil {
				t.Errorf("%s returned no error after Close", name)
			}
			if name == "Accept" && !errors.Is(err, net.ErrClosed) {
				t.Errorf("Accept after Close = %v, want net.ErrClosed", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("%s still blocked after Close", name)
		}
	}
	// Alice hears that bob shut down.
	select {
	case <-ab.Context().Done():
		var aerr *quic.ApplicationError
		if cause := context.Cause(ab.Context()); !errors.As(cause, &aerr) || ErrorCode(aerr.ErrorCode) != CodeShutdown {
			t.Errorf("alice's connection closed with %v, want code %d", cause, CodeShutdown)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("alice's connection still open after bob closed")
	}
	if _, err := bob.t.Dial(context.Background(), alice.addr(), "alice", alice.pub()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Dial after Close = %v, want net.ErrClosed", err)
	}
	// The socket is released: the port can be bound again.
	again, err := Listen(bob.addr(), bob.key, newContacts().authorize, testOptions())
	if err != nil {
		t.Fatalf("listen again on %s: %v", bob.addr(), err)
	}
	again.Close()

	alice.t.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left over (%d before):\n%s", n-before, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestListenRejectsBadArguments(t *testing.T) {
	id := newIdentity(t)
	auth := newContacts().authorize
	if _, err := Listen("127.0.0.1:0", id, nil, Options{}); err == nil {
		t.Error("nil Authorizer accepted")
	}
	if _, err := Listen("127.0.0.1:0", id[:10], auth, Options{}); err == nil {
		t.Error("short identity accepted")
	}
	if _, err := Listen("127.0.0.1:0", id, auth, Options{KeepAlivePeriod: time.Minute, MaxIdleTimeout: time.Second}); err == nil {
		t.Error("keep-alive longer than idle timeout accepted")
	}
	if _, err := Listen("256.0.0.1:0", id, auth, Options{}); err == nil {
		t.Error("bad address accepted")
	}
	p := newPeer(t, "p", nil)
	if _, err := p.t.Dial(context.Background(), "127.0.0.1:1", "x", []byte{1, 2, 3}); err == nil {
		t.Error("short expected key accepted")
	}
	if _, err := p.t.Dial(context.Background(), "127.0.0.1", "x", newIdentity(t).Public().(ed25519.PublicKey)); err == nil {
		t.Error("address without port accepted")
	}
}

// After a crash and restart on the same port, the peer learns at once
// that its old connection is gone (a stateless reset, keyed from the
// identity) instead of waiting for the idle timeout.
func TestRestartResetsOldConnections(t *testing.T) {
	_, bob, ab, _ := connected(t)
	// Crash: drop the socket without telling anyone.
	bob.t.qt.Close()
	bob.t.udp.Close()
	restarted, err := Listen(bob.addr(), bob.key, newContacts().authorize, testOptions())
	if err != nil {
		t.Fatalf("restart on %s: %v", bob.addr(), err)
	}
	defer restarted.Close()

	s, err := ab.OpenStream(context.Background(), StreamMessage)
	if err != nil {
		t.Fatal(err)
	}
	s.Write(make([]byte, 100)) // makes alice send a packet to the new socket
	select {
	case <-ab.Context().Done():
		var reset *quic.StatelessResetError
		if cause := context.Cause(ab.Context()); !errors.As(cause, &reset) {
			t.Fatalf("old connection closed with %v, want a stateless reset", cause)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("old connection still open after the peer restarted")
	}
}

// Dialling a peer that speaks another version of the peer protocol (an
// older daemon, offering only lanchat/1) fails with ErrVersion, not as
// a refusal of our key.
func TestDialOtherVersion(t *testing.T) {
	alice := newPeer(t, "alice", nil)
	bobKey := newIdentity(t)
	certs, err := newCertSource(bobKey)
	if err != nil {
		t.Fatal(err)
	}
	everyone := func(ed25519.PublicKey) (string, bool) { return "alice", true }
	conf := serverTLS(certs, everyone, slog.New(slog.DiscardHandler))
	conf.NextProtos = []string{"lanchat/1"}
	ln, err := quic.ListenAddr("127.0.0.1:0", conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = alice.t.Dial(ctx, ln.Addr().String(), "bob", bobKey.Public().(ed25519.PublicKey))
	if !errors.Is(err, ErrVersion) || errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Dial = %v, want ErrVersion", err)
	}
}
