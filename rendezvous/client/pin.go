package client

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrFingerprintMismatch reports that the server presented a certificate
// other than the pinned one: either the server's certificate was replaced
// or someone is intercepting the connection.
var ErrFingerprintMismatch = errors.New("server certificate fingerprint does not match the pinned fingerprint")

// Fingerprint returns the fingerprint of a DER-encoded certificate: the
// SHA-256 of der as 64 lower-case hex digits, as the server prints it.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// NormalizeFingerprint turns a fingerprint as a person may type or paste it
// into the form Fingerprint returns. It accepts upper- or lower-case hex,
// bytes separated by colons ("AB:CD:..."), and an optional "sha256:"
// prefix.
func NormalizeFingerprint(s string) (string, error) {
	fp := strings.TrimSpace(s)
	if len(fp) >= 7 && strings.EqualFold(fp[:7], "sha256:") {
		fp = fp[7:]
	}
	if strings.Contains(fp, ":") {
		parts := strings.Split(fp, ":")
		for _, p := range parts {
			if len(p) != 2 {
				return "", fmt.Errorf("fingerprint %q: colons must separate pairs of hex digits", s)
			}
		}
		fp = strings.Join(parts, "")
	}
	fp = strings.ToLower(fp)
	if len(fp) != 2*sha256.Size {
		return "", fmt.Errorf("fingerprint %q: want %d hex digits (SHA-256), got %d characters", s, 2*sha256.Size, len(fp))
	}
	if _, err := hex.DecodeString(fp); err != nil {
		return "", fmt.Errorf("fingerprint %q: not hex", s)
	}
	return fp, nil
}

// tlsConfig builds the client TLS configuration for opts. In the pinned
// and trust-on-first-use modes the usual chain verification is replaced by
// a check of the leaf certificate's fingerprint, since the server's
// certificate is normally self-signed.
func tlsConfig(serverName string, opts *Options) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS13,
		ServerName: serverName,
		RootCAs:    opts.RootCAs,
	}
	var pin string
	if opts.Fingerprint != "" {
		var err error
		if pin, err = NormalizeFingerprint(opts.Fingerprint); err != nil {
			return nil, err
		}
	} else if !opts.TrustOnFirstUse {
		return cfg, nil
	}
	cfg.InsecureSkipVerify = true // replaced by VerifyConnection below
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("server sent no certificate")
		}
		if pin == "" {
			return nil // trust on first use: the caller records the fingerprint
		}
		got := Fingerprint(cs.PeerCertificates[0].Raw)
		if subtle.ConstantTimeCompare([]byte(got), []byte(pin)) != 1 {
			return fmt.Errorf("%w: server presented %s, pinned %s", ErrFingerprintMismatch, got, pin)
		}
		return nil
	}
	return cfg, nil
}
