package direct

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"
	"time"
)

// makeCert builds a certificate for pub, signed by signer, optionally by a
// parent certificate (nil: self-signed).
func makeCert(t *testing.T, pub any, signer any, parent *x509.Certificate, isCA bool) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestLeafKey(t *testing.T) {
	id := newIdentity(t)
	other := newIdentity(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	own, err := newCertificate(id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ca := makeCert(t, other.Public(), other, nil, true)
	signedByCA := makeCert(t, id.Public(), other, ca, false)

	tests := []struct {
		name  string
		chain []*x509.Certificate
		ok    bool
	}{
		{"own certificate", []*x509.Certificate{own.Leaf}, true},
		{"self-signed by hand", []*x509.Certificate{makeCert(t, id.Public(), id, nil, false)}, true},
		{"empty chain", nil, false},
		{"two certificates", []*x509.Certificate{own.Leaf, own.Leaf}, false},
		{"leaf and its CA", []*x509.Certificate{signedByCA, ca}, false},
		{"ECDSA key", []*x509.Certificate{makeCert(t, &ecKey.PublicKey, ecKey, nil, false)}, false},
		{"signed by another key", []*x509.Certificate{signedByCA}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := leafKey(tt.chain)
			if tt.ok {
				if err != nil {
					t.Fatalf("leafKey: %v", err)
				}
				if !key.Equal(id.Public()) {
					t.Fatal("leafKey returned another key")
				}
				return
			}
			if !errors.Is(err, ErrBadCertificate) {
				t.Fatalf("leafKey = %v, want ErrBadCertificate", err)
			}
		})
	}
}

func TestNewCertificateRejectsBadKey(t *testing.T) {
	if _, err := newCertificate(ed25519.PrivateKey(make([]byte, 10)), time.Now()); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestCertSourceRefreshes(t *testing.T) {
	id := newIdentity(t)
	s, err := newCertSource(id)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := s.get()
	if again, _ := s.get(); again != first {
		t.Fatal("fresh certificate replaced")
	}
	// Pretend the current certificate was made long ago.
	old, err := newCertificate(id, time.Now().Add(-certLifetime+certRefresh/2))
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.cert = &old
	s.mu.Unlock()
	renewed, err := s.get()
	if err != nil {
		t.Fatal(err)
	}
	if renewed == &old || !renewed.Leaf.NotAfter.After(old.Leaf.NotAfter) {
		t.Fatal("certificate near expiry not renewed")
	}
}

func TestFingerprint(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	fa := Fingerprint(a.Public().(ed25519.PublicKey))
	if len(fa) != 16 {
		t.Fatalf("fingerprint %q: want 16 hex digits", fa)
	}
	if fa != Fingerprint(a.Public().(ed25519.PublicKey)) {
		t.Fatal("fingerprint not stable")
	}
	if fa == Fingerprint(b.Public().(ed25519.PublicKey)) {
		t.Fatal("two keys share a fingerprint")
	}
}
