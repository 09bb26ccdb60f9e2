package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNormalizeFingerprint(t *testing.T) {
	const fp = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	colons := strings.ToUpper(fp[0:2])
	for i := 2; i < len(fp); i += 2 {
		colons += ":" + strings.ToUpper(fp[i:i+2])
	}
	good := []string{fp, strings.ToUpper(fp), "sha256:" + fp, "SHA256:" + strings.ToUpper(fp), colons, "sha256:" + colons, "  " + fp + "\n"}
	for _, in := range good {
		got, err := NormalizeFingerprint(in)
		if err != nil || got != fp {
			t.Errorf("NormalizeFingerprint(%q) = %q, %v; want %q", in, got, err, fp)
		}
	}
	bad := []string{"", fp[:63], fp + "0", "g" + fp[1:], "sha1:" + fp, fp[:1] + ":" + fp[1:], colons + ":", "md5:" + fp[:32]}
	for _, in := range bad {
		if got, err := NormalizeFingerprint(in); err == nil {
			t.Errorf("NormalizeFingerprint(%q) = %q, want error", in, got)
		}
	}
}

func TestFingerprint(t *testing.T) {
	// SHA-256 of the empty string.
	if got, want := Fingerprint(nil), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("Fingerprint(nil) = %s, want %s", got, want)
	}
}

func TestDialPinned(t *testing.T) {
	s := startFake(t, nil)
	// The pin may be written as a person would paste it.
	c := s.dial(t, Options{Fingerprint: "SHA256:" + strings.ToUpper(s.fp), ClientName: "test"})
	if c.Fingerprint() != s.fp {
		t.Errorf("Fingerprint() = %s, want %s", c.Fingerprint(), s.fp)
	}
	if h := c.Hello(); h != s.hello {
		t.Errorf("Hello() = %+v, want %+v", h, s.hello)
	}
	var got map[string]string
	if err := call(t, c, "echo", map[string]string{"a": "b"}, &got); err != nil {
		t.Fatal(err)
	}
	if got["a"] != "b" {
		t.Errorf("echo = %v", got)
	}
	if err := call(t, c, "echo", nil, nil); err != nil {
		t.Fatalf("echo with nil body and reply: %v", err)
	}
}

func TestDialPinMismatch(t *testing.T) {
	s := startFake(t, nil)
	wrong := strings.Repeat("ab", 32)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, s.addr, Options{Fingerprint: wrong})
	if err == nil {
		c.Close()
		t.Fatal("dial with a wrong pin succeeded")
	}
	if !errors.Is(err, ErrFingerprintMismatch) {
		t.Errorf("err = %v, want ErrFingerprintMismatch", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "fingerprint") || !strings.Contains(msg, s.fp) || !strings.Contains(msg, wrong) {
		t.Errorf("error %q should name both fingerprints", msg)
	}
}

func TestDialBadPin(t *testing.T) {
	_, err := Dial(context.Background(), "127.0.0.1:1", Options{Fingerprint: "not-a-fingerprint"})
	if err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Fatalf("err = %v, want a fingerprint format error", err)
	}
}

func TestDialTrustOnFirstUse(t *testing.T) {
	s := startFake(t, nil)
	c := s.dial(t, Options{TrustOnFirstUse: true})
	if c.Fingerprint() != s.fp {
		t.Errorf("Fingerprint() = %q, want %q", c.Fingerprint(), s.fp)
	}
}

func TestDialRootCAs(t *testing.T) {
	s := startFake(t, nil)
	pool := x509.NewCertPool()
	pool.AddCert(testCert().Leaf)
	c := s.dial(t, Options{RootCAs: pool})
	if c.Fingerprint() != s.fp {
		t.Errorf("Fingerprint() = %q, want %q", c.Fingerprint(), s.fp)
	}
	s.dial(t, Options{RootCAs: pool, ServerName: "lanchat.test"})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, opts := range map[string]Options{
		"system roots": {},
		"wrong name":   {RootCAs: pool, ServerName: "other.test"},
		"empty pool":   {RootCAs: x509.NewCertPool()},
	} {
		c, err := Dial(ctx, s.addr, opts)
		if err == nil {
			c.Close()
			t.Errorf("%s: dial of a self-signed server succeeded", name)
			continue
		}
		var verr *tls.CertificateVerificationError
		if !errors.As(err, &verr) {
			t.Errorf("%s: err = %v, want a certificate verification error", name, err)
		}
	}
}
