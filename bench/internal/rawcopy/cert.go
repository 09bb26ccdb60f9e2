package rawcopy

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	"time"
)

// certificate makes a throw-away self-signed Ed25519 certificate, the
// kind lanchat peers present.
func certificate() (tls.Certificate, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// ServerTLS is a TLS 1.3 server configuration with a fresh certificate
// that asks the client for one too (mutual TLS, as between lanchat
// peers). Keys are not pinned: a baseline needs the cost of the
// handshake, not its checks.
func ServerTLS(alpn string) (*tls.Config, error) {
	c, err := baseTLS(alpn)
	if err != nil {
		return nil, err
	}
	c.ClientAuth = tls.RequireAnyClientCert
	return c, nil
}

// ClientTLS is the matching client configuration.
func ClientTLS(alpn string) (*tls.Config, error) {
	c, err := baseTLS(alpn)
	if err != nil {
		return nil, err
	}
	c.InsecureSkipVerify = true // throw-away keys on both ends; see ServerTLS
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if cs.Version != tls.VersionTLS13 || len(cs.PeerCertificates) == 0 {
			return errors.New("want TLS 1.3 with a certificate")
		}
		return nil
	}
	return c, nil
}

// baseTLS is what both ends' configurations share: TLS 1.3, the
// protocol alpn and a fresh certificate.
func baseTLS(alpn string) (*tls.Config, error) {
	cert, err := certificate()
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: []string{alpn}, Certificates: []tls.Certificate{cert}}, nil
}

// CipherSuite names the suite a connection negotiated.
func CipherSuite(cs tls.ConnectionState) string {
	return tls.CipherSuiteName(cs.CipherSuite)
}
