package direct

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// certLifetime is how long one of our certificates is valid. Peers do not
// check validity dates (the key is the identity; the TLS handshake's
// CertificateVerify proves possession of it now), so this only keeps
// certificates short-lived as a matter of hygiene.
const certLifetime = 7 * 24 * time.Hour

// certBackdate covers clocks that run a little behind ours.
const certBackdate = time.Hour

// certRefresh is how long before expiry a Transport makes a new certificate.
const certRefresh = 24 * time.Hour

// newCertificate returns a self-signed X.509 certificate whose key is the
// user's Ed25519 identity key, valid for certLifetime from now. It
// carries no names: peers recognise each other by key alone.
func newCertificate(identity ed25519.PrivateKey, now time.Time) (tls.Certificate, error) {
	if len(identity) != ed25519.PrivateKeySize {
		return tls.Certificate{}, errors.New("certificate: identity must be a 64-byte Ed25519 private key")
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate: serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		NotBefore:             now.Add(-certBackdate),
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	pub := identity.Public()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, identity)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate: create: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate: parse own: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: identity, Leaf: leaf}, nil
}

// leafKey returns the Ed25519 identity key of a peer's certificate chain.
// The chain must be exactly one certificate, carrying an Ed25519 key and
// signed by that same key. crypto/tls has already checked that the peer
// holds the private key (CertificateVerify); this checks the certificate is
// one of ours, and the caller decides by the key, never by a name.
func leafKey(chain []*x509.Certificate) (ed25519.PublicKey, error) {
	if len(chain) != 1 {
		return nil, fmt.Errorf("%w: want 1 certificate, got %d", ErrBadCertificate, len(chain))
	}
	cert := chain[0]
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok || cert.PublicKeyAlgorithm != x509.Ed25519 {
		return nil, fmt.Errorf("%w: key is %v, not Ed25519", ErrBadCertificate, cert.PublicKeyAlgorithm)
	}
	// CheckSignatureFrom would demand a CA certificate; the self-signature
	// is checked directly against the certificate's own key instead.
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return nil, fmt.Errorf("%w: not self-signed: %v", ErrBadCertificate, err)
	}
	return pub, nil
}

// Fingerprint is a short, stable, printable name for a public key, for
// logs and error messages: the first 8 bytes of its SHA-256, in hex.
func Fingerprint(key ed25519.PublicKey) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// certSource hands out this peer's certificate, making a new one when the
// current one nears expiry, so a long-running daemon never presents an
// expired certificate.
type certSource struct {
	identity ed25519.PrivateKey

	mu   sync.Mutex
	cert *tls.Certificate
}

func newCertSource(identity ed25519.PrivateKey) (*certSource, error) {
	s := &certSource{identity: identity}
	if _, err := s.get(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *certSource) get() (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.cert != nil && now.Before(s.cert.Leaf.NotAfter.Add(-certRefresh)) {
		return s.cert, nil
	}
	c, err := newCertificate(s.identity, now)
	if err != nil {
		return nil, err
	}
	s.cert = &c
	return s.cert, nil
}
