package direct

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// dialDataAccept has from open a data connection to to and returns both
// ends.
func dialDataAccept(t testing.TB, from, to *peer) (dialled, accepted *Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	acc := make(chan *Conn, 1)
	go func() {
		c, err := to.t.Accept(ctx)
		if err != nil {
			t.Errorf("%s accepts: %v", to.name, err)
		}
		acc <- c
	}()
	dialled, err := from.t.DialData(ctx, to.addr(), to.name, to.pub())
	if err != nil {
		t.Fatalf("%s dials a data connection to %s: %v", from.name, to.name, err)
	}
	accepted = <-acc
	if accepted == nil {
		t.FailNow()
	}
	return dialled, accepted
}

func TestDialData(t *testing.T) {
	alice, bob, ab, ba := connected(t)
	if ab.IsData() || ba.IsData() {
		t.Fatalf("a contact's connection is a data connection: dialled %v, accepted %v", ab.IsData(), ba.IsData())
	}
	dab, dba := dialDataAccept(t, alice, bob)
	if !dab.IsData() || !dba.IsData() {
		t.Fatalf("data connection not seen as one: dialled %v, accepted %v", dab.IsData(), dba.IsData())
	}
	if dab.User() != "bob" || !dab.PeerKey().Equal(bob.pub()) {
		t.Errorf("dialled side sees %q, key match %v", dab.User(), dab.PeerKey().Equal(bob.pub()))
	}
	if dba.User() != "alice" || !dba.PeerKey().Equal(alice.pub()) {
		t.Errorf("accepted side sees %q, key match %v", dba.User(), dba.PeerKey().Equal(alice.pub()))
	}
	// Both connections stay up side by side, and the data one carries
	// streams like any other.
	if ab.Context().Err() != nil || ba.Context().Err() != nil {
		t.Fatal("the contact's connection closed when a data connection opened")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := dab.OpenStream(ctx, StreamTransfer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte("chunk")); err != nil {
		t.Fatal(err)
	}
	s.CloseWrite()
	kind, rs, err := dba.AcceptStream(ctx)
	if err != nil || kind != StreamTransfer {
		t.Fatalf("AcceptStream = %v, %v", kind, err)
	}
	got, err := io.ReadAll(rs)
	if err != nil || string(got) != "chunk" {
		t.Fatalf("read %q, %v", got, err)
	}
	rs.Close()
}

// A data connection is authenticated exactly like a contact's: the key is
// pinned on the dialling side and authorized on the listening side.
func TestDialDataAuthenticated(t *testing.T) {
	ca := newContacts()
	alice := newPeer(t, "alice", ca)
	stranger := newPeer(t, "stranger", nil) // knows nobody
	ca.add("stranger", stranger.pub())
	ci := newContacts()
	ci.add("alice", alice.pub())
	impostor := newPeer(t, "impostor", ci)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := alice.t.DialData(ctx, impostor.addr(), "bob", newIdentity(t).Public().(ed25519.PublicKey)); !errors.Is(err, ErrWrongKey) {
		t.Errorf("DialData to the wrong key = %v, want ErrWrongKey", err)
	}
	expectNoAccept(t, impostor, 200*time.Millisecond)
	if _, err := alice.t.DialData(ctx, stranger.addr(), "stranger", stranger.pub()); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("DialData to a peer that does not know us = %v, want ErrUnauthorized", err)
	}
	expectNoAccept(t, stranger, 200*time.Millisecond)
}

// A peer that speaks only "lanchat/1" (an older version) refuses a data
// connection in the handshake, so the dialler can go on without one.
func TestDialDataOldPeer(t *testing.T) {
	ca := newContacts()
	alice := newPeer(t, "alice", ca)
	bobKey := newIdentity(t)
	certs, err := newCertSource(bobKey)
	if err != nil {
		t.Fatal(err)
	}
	everyone := func(ed25519.PublicKey) (string, bool) { return "alice", true }
	conf := serverTLS(certs, everyone, slog.New(slog.DiscardHandler))
	conf.NextProtos = []string{alpn}
	ln, err := quic.ListenAddr("127.0.0.1:0", conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	bobPub := bobKey.Public().(ed25519.PublicKey)
	ca.add("bob", bobPub)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = alice.t.DialData(ctx, ln.Addr().String(), "bob", bobPub)
	const noALPN = 0x100 + 120
	var terr *quic.TransportError
	if !errors.As(err, &terr) || !terr.Remote || terr.ErrorCode != noALPN {
		t.Fatalf("DialData to a peer without the data protocol = %v, want remote %#x", err, noALPN)
	}
}

// The listening side takes either protocol from any client, and prefers a
// contact's connection when a client offers both.
func TestAcceptProtocols(t *testing.T) {
	alice := newIdentity(t)
	cb := newContacts()
	bob := newPeer(t, "bob", cb)
	cb.add("alice", alice.Public().(ed25519.PublicKey))
	aliceCert := mustCert(t, alice)
	tests := []struct {
		protos []string
		data   bool
	}{
		{[]string{alpn}, false},
		{[]string{alpnData}, true},
		{[]string{alpnData, alpn}, false},
	}
	for _, tt := range tests {
		qc, err := rawDial(t, bob, &tls.Config{InsecureSkipVerify: true, NextProtos: tt.protos, Certificates: []tls.Certificate{aliceCert}})
		if err != nil {
			t.Fatalf("%q: %v", tt.protos, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		c, err := bob.t.Accept(ctx)
		cancel()
		if err != nil {
			t.Fatalf("%q: not accepted: %v", tt.protos, err)
		}
		if c.IsData() != tt.data {
			t.Errorf("%q: IsData = %v, want %v", tt.protos, c.IsData(), tt.data)
		}
		qc.CloseWithError(0, "")
	}
}

// The protocol check after the handshake accepts only what this side
// offered.
func TestPeerKeyProtocol(t *testing.T) {
	id := newIdentity(t)
	leaf, err := x509.ParseCertificate(mustCert(t, id).Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		negotiated string
		offered    []string
		ok         bool
	}{
		{alpn, serverProtos, true},
		{alpnData, serverProtos, true},
		{"h3", serverProtos, false},
		{"", serverProtos, false},
		{alpn, []string{alpn}, true},
		{alpnData, []string{alpn}, false},
		{alpn, []string{alpnData}, false},
		{alpnData, []string{alpnData}, true},
	}
	for _, tt := range tests {
		cs := tls.ConnectionState{Version: tls.VersionTLS13, NegotiatedProtocol: tt.negotiated, PeerCertificates: []*x509.Certificate{leaf}}
		key, err := peerKey(cs, tt.offered)
		if tt.ok && (err != nil || !key.Equal(id.Public())) {
			t.Errorf("peerKey(%q, offered %q) = %v", tt.negotiated, tt.offered, err)
		}
		if !tt.ok && !errors.Is(err, ErrBadCertificate) {
			t.Errorf("peerKey(%q, offered %q) = %v, want ErrBadCertificate", tt.negotiated, tt.offered, err)
		}
		p := &pin{want: id.Public().(ed25519.PublicKey), proto: tt.offered[0]}
		if err := p.verify(cs); (err == nil) != (tt.negotiated == tt.offered[0]) {
			t.Errorf("pin for %q verifies %q: %v", tt.offered[0], tt.negotiated, err)
		}
	}
}
