package rendezvous

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadOrCreateCertificate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // not there yet: made on demand
	cert, created, err := LoadOrCreateCertificate(dir)
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	if !created {
		t.Fatal("first start: created = false")
	}
	fp := Fingerprint(cert)

	again, created, err := LoadOrCreateCertificate(dir)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if created {
		t.Fatal("second start made a new certificate")
	}
	if got := Fingerprint(again); got != fp {
		t.Fatalf("fingerprint changed across restart: %s then %s", fp, got)
	}
	if got, err := FingerprintFile(filepath.Join(dir, "server.crt")); err != nil || got != fp {
		t.Fatalf("FingerprintFile = %q, %v; want %q", got, err, fp)
	}

	// Modes are exact whatever the umask, and no temporary file is left.
	for name, want := range map[string]fs.FileMode{"server.key": 0o600, "server.crt": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %v, want %v", name, got, want)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"server.crt", "server.key"}) {
		t.Errorf("data directory holds %v, want only server.crt and server.key", names)
	}
}

func TestSelfSignedCertificateContents(t *testing.T) {
	cert, _, err := LoadOrCreateCertificate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	wantDNS := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && validHostname(strings.ToLower(h)) && strings.ToLower(h) != "localhost" {
		wantDNS = append(wantDNS, strings.ToLower(h))
	}
	if !slices.Equal(leaf.DNSNames, wantDNS) {
		t.Errorf("DNS names %v, want %v", leaf.DNSNames, wantDNS)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if !slices.Equal(ips, []string{"127.0.0.1", "::1"}) {
		t.Errorf("IP addresses %v, want [127.0.0.1 ::1]", ips)
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("key usage %v, want digital signature only", leaf.KeyUsage)
	}
	if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("extended key usage %v, want server auth", leaf.ExtKeyUsage)
	}
	if leaf.IsCA {
		t.Error("certificate is a CA")
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if now := time.Now(); leaf.NotBefore.After(now) || leaf.NotAfter.Before(now.AddDate(9, 11, 0)) {
		t.Errorf("valid %v to %v; want from now for about 10 years", leaf.NotBefore, leaf.NotAfter)
	}
	if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
}

func TestFingerprint(t *testing.T) {
	cert, _, err := LoadOrCreateCertificate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fp := Fingerprint(cert)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(fp) {
		t.Fatalf("fingerprint %q is not 64 lower-case hex digits", fp)
	}
	sum := sha256.Sum256(cert.Certificate[0])
	if want := hex.EncodeToString(sum[:]); fp != want {
		t.Fatalf("fingerprint %s, want SHA-256 of the leaf DER %s", fp, want)
	}
	if got := Fingerprint(tls.Certificate{}); got != "" {
		t.Errorf("Fingerprint(empty) = %q, want \"\"", got)
	}
}

func TestCertificateErrors(t *testing.T) {
	good := t.TempDir()
	if _, _, err := LoadOrCreateCertificate(good); err != nil {
		t.Fatal(err)
	}
	goodCrt, goodKey := filepath.Join(good, "server.crt"), filepath.Join(good, "server.key")
	other := t.TempDir()
	if _, _, err := LoadOrCreateCertificate(other); err != nil {
		t.Fatal(err)
	}

	write := func(t *testing.T, dir, name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	copyFile := func(t *testing.T, from, dir, name string) {
		t.Helper()
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		write(t, dir, name, string(b))
	}

	t.Run("garbage certificate", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "server.crt", "not a certificate")
		copyFile(t, goodKey, dir, "server.key")
		_, _, err := LoadOrCreateCertificate(dir)
		wantErr(t, err, filepath.Join(dir, "server.crt"), "PEM")
	})
	t.Run("garbage key", func(t *testing.T) {
		dir := t.TempDir()
		copyFile(t, goodCrt, dir, "server.crt")
		write(t, dir, "server.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
		_, _, err := LoadOrCreateCertificate(dir)
		wantErr(t, err, filepath.Join(dir, "server.key"))
	})
	t.Run("key of another certificate", func(t *testing.T) {
		dir := t.TempDir()
		copyFile(t, goodCrt, dir, "server.crt")
		copyFile(t, filepath.Join(other, "server.key"), dir, "server.key")
		_, _, err := LoadOrCreateCertificate(dir)
		wantErr(t, err, "does not match")
	})
	t.Run("lone key", func(t *testing.T) {
		dir := t.TempDir()
		copyFile(t, goodKey, dir, "server.key")
		_, created, err := LoadOrCreateCertificate(dir)
		wantErr(t, err, "only one of server.crt and server.key")
		if created {
			t.Error("created = true on error")
		}
		// The lone key was neither used nor overwritten.
		if b, _ := os.ReadFile(filepath.Join(dir, "server.key")); !strings.Contains(string(b), "PRIVATE KEY") {
			t.Error("lone key was changed")
		}
	})
	t.Run("lone certificate", func(t *testing.T) {
		dir := t.TempDir()
		copyFile(t, goodCrt, dir, "server.crt")
		_, _, err := LoadOrCreateCertificate(dir)
		wantErr(t, err, "only one of")
	})
	t.Run("data dir is a file", func(t *testing.T) {
		f := write(t, t.TempDir(), "file", "x")
		_, _, err := LoadOrCreateCertificate(f)
		wantErr(t, err, "certificate")
	})
	t.Run("missing operator files", func(t *testing.T) {
		_, err := LoadCertificate(filepath.Join(t.TempDir(), "nope.crt"), goodKey)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("LoadCertificate(missing cert) = %v, want fs.ErrNotExist", err)
		}
		_, err = LoadCertificate(goodCrt, filepath.Join(t.TempDir(), "nope.key"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("LoadCertificate(missing key) = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("fingerprint of garbage", func(t *testing.T) {
		dir := t.TempDir()
		_, err := FingerprintFile(write(t, dir, "a.crt", "garbage"))
		wantErr(t, err, "no PEM CERTIFICATE block")
		_, err = FingerprintFile(write(t, dir, "b.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
		wantErr(t, err, "b.crt", "x509")
		_, err = FingerprintFile(filepath.Join(dir, "missing.crt"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("FingerprintFile(missing) = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("fingerprint skips a key block", func(t *testing.T) {
		key, _ := os.ReadFile(goodKey)
		crt, _ := os.ReadFile(goodCrt)
		got, err := FingerprintFile(write(t, t.TempDir(), "both.pem", string(key)+string(crt)))
		want, _ := FingerprintFile(goodCrt)
		if err != nil || got != want {
			t.Errorf("FingerprintFile(key then cert) = %q, %v; want %q", got, err, want)
		}
	})
}

// wantErr fails unless err is non-nil and its message has every part.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestLoadCertificateOperatorSupplied(t *testing.T) {
	dir := t.TempDir()
	made, _, err := LoadOrCreateCertificate(dir)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := LoadCertificate(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(cert) != Fingerprint(made) {
		t.Fatal("LoadCertificate gave another certificate")
	}
}

// TestTLSConfigRequiresTLS13 runs a real listener with TLSConfig: a TLS
// 1.3 client that trusts the certificate gets through by name and by
// address, a client limited to TLS 1.2 does not.
func TestTLSConfigRequiresTLS13(t *testing.T) {
	cert, _, err := LoadOrCreateCertificate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", TLSConfig(cert))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// One connection at a time is enough here; the deadline
			// keeps a stuck client from holding the loop.
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if err := c.(*tls.Conn).Handshake(); err == nil {
				io.WriteString(c, "hi")
			}
			c.Close()
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)

	roots := x509.NewCertPool()
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots.AddCert(leaf)
	dialer := &net.Dialer{Timeout: 5 * time.Second}

	for _, name := range []string{"localhost", "127.0.0.1"} {
		c, err := tls.DialWithDialer(dialer, "tcp", addr.String(), &tls.Config{RootCAs: roots, ServerName: name})
		if err != nil {
			t.Fatalf("TLS 1.3 client (server name %s): %v", name, err)
		}
		st := c.ConnectionState()
		if st.Version != tls.VersionTLS13 {
			t.Errorf("negotiated %s, want TLS 1.3", tls.VersionName(st.Version))
		}
		if got := fingerprintDER(st.PeerCertificates[0].Raw); got != Fingerprint(cert) {
			t.Errorf("server presented %s, want %s", got, Fingerprint(cert))
		}
		if b, err := io.ReadAll(c); err != nil || string(b) != "hi" {
			t.Errorf("read %q, %v", b, err)
		}
		c.Close()
	}

	c, err := tls.DialWithDialer(dialer, "tcp", addr.String(), &tls.Config{
		RootCAs:    roots,
		ServerName: "localhost",
		MaxVersion: tls.VersionTLS12,
	})
	if err == nil {
		c.Close()
		t.Fatal("a TLS 1.2-only client connected")
	}
	if !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.2 client failed with %q, want a protocol version alert", err)
	}
}
