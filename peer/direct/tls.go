package direct

import (
	"crypto/ed25519"
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync"
)

// alpn is the application protocol both sides must offer in the TLS
// handshake, and with it the version of the peer protocol (the stream
// kinds, the welcome, direct messages; transfers also check their own
// version). A peer speaking anything else is refused by crypto/tls, and
// Dial reports ErrVersion. There is one version: a change to the peer
// protocol bumps it, with a line here, and keeps no other.
//
//   - lanchat/1: a direct message was a JSON object of its own, and
//     receipts an operation of their own.
//   - lanchat/2: a direct message is the relay's message value
//     (envelope.Encode), receipts are messages of kind receipt.
const alpn = "lanchat/2"

// Authorizer maps the identity key of a peer that connects to us to the
// contact it belongs to. It returns ok=false for unknown keys and for
// contacts that may not reach us (not friends, key change pending); such
// connections are refused. It is called from the handshake and again when
// the connection is admitted, possibly from several goroutines at once, so
// it must be safe for concurrent use and quick.
type Authorizer func(key ed25519.PublicKey) (user string, ok bool)

// peerKey checks the parts of a finished handshake that do not depend on
// who we expected, and returns the peer's identity key. QUIC mandates TLS
// 1.3 and crypto/tls enforces our ALPN; checking both again costs nothing
// and keeps this package correct if a configuration is ever edited.
func peerKey(cs tls.ConnectionState) (ed25519.PublicKey, error) {
	if cs.Version != tls.VersionTLS13 {
		return nil, fmt.Errorf("%w: TLS version %#x, want 1.3", ErrBadCertificate, cs.Version)
	}
	if cs.NegotiatedProtocol != alpn {
		return nil, fmt.Errorf("%w: application protocol %q, want %q", ErrBadCertificate, cs.NegotiatedProtocol, alpn)
	}
	return leafKey(cs.PeerCertificates)
}

// serverTLS is the TLS configuration for connections peers open to us.
// Every client must present a certificate (RequireAnyClientCert: there is
// no CA, so crypto/tls checks only that the client holds the certificate's
// key); VerifyConnection then checks that it is a lanchat certificate and
// that the key belongs to a friend. A failure aborts the handshake, so an
// unknown key never reaches Accept.
func serverTLS(certs *certSource, authorize Authorizer, log *slog.Logger) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{alpn},
		ClientAuth: tls.RequireAnyClientCert,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return certs.get()
		},
		// Every connection runs the full handshake, so the client's
		// certificate is checked every time.
		SessionTicketsDisabled: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			key, err := peerKey(cs)
			if err != nil {
				log.Info("refused incoming connection", "err", err)
				return err
			}
			if _, ok := authorize(key); !ok {
				log.Info("refused incoming connection: not a friend", "fingerprint", Fingerprint(key))
				return fmt.Errorf("%w: key %s", ErrUnauthorized, Fingerprint(key))
			}
			return nil
		},
	}
}

// pin records why a dial's key check failed, for Dial to report: the
// error quic-go returns for a failed handshake is a TLS alert code.
type pin struct {
	want ed25519.PublicKey

	mu  sync.Mutex
	err error
}

// verify is the dialling side's VerifyConnection: the peer must prove
// exactly the key we expect.
func (p *pin) verify(cs tls.ConnectionState) error {
	key, err := peerKey(cs)
	if err == nil && !key.Equal(p.want) {
		err = fmt.Errorf("%w: want %s, got %s", ErrWrongKey, Fingerprint(p.want), Fingerprint(key))
	}
	if err != nil {
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
	}
	return err
}

func (p *pin) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// clientTLS is the TLS configuration for dialling a peer expected to hold
// p.want. InsecureSkipVerify turns off only the CA chain and host name
// checks, which mean nothing here: peers have no CA and no names. The key
// pinning in VerifyConnection replaces them and crypto/tls always calls it,
// so no connection is accepted without the key check.
func clientTLS(certs *certSource, p *pin) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		NextProtos:         []string{alpn},
		InsecureSkipVerify: true,
		VerifyConnection:   p.verify,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return certs.get()
		},
	}
}
