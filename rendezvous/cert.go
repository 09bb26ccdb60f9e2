package rendezvous

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names of the server's own certificate in its data directory.
const (
	certFileName = "server.crt"
	keyFileName  = "server.key"
)

// certValidity is how long a self-signed certificate lasts. Peers pin its
// fingerprint, so a new certificate means every peer must re-pin: it
// should outlive the installation.
const certValidity = 10 * 365 * 24 * time.Hour

// LoadOrCreateCertificate loads the server certificate from server.crt
// and server.key in dataDir. When neither exists (first start) it makes a
// self-signed ECDSA P-256 certificate for localhost, 127.0.0.1, ::1 and
// this machine's host name, valid for 10 years, writes it there (the key
// with mode 0600) and reports created. When only one of the two exists it
// refuses rather than overwrite anything.
func LoadOrCreateCertificate(dataDir string) (cert tls.Certificate, created bool, err error) {
	certPath, keyPath := filepath.Join(dataDir, certFileName), filepath.Join(dataDir, keyFileName)
	certExists, err := exists(certPath)
	if err != nil {
		return cert, false, fmt.Errorf("certificate: %w", err)
	}
	keyExists, err := exists(keyPath)
	if err != nil {
		return cert, false, fmt.Errorf("certificate key: %w", err)
	}
	switch {
	case certExists && keyExists:
		cert, err = LoadCertificate(certPath, keyPath)
		return cert, false, err
	case certExists || keyExists:
		return cert, false, fmt.Errorf("certificate: only one of %s and %s exists in %s; remove it to make a new pair, or supply the other",
			certFileName, keyFileName, dataDir)
	}

	certPEM, keyPEM, err := selfSigned(time.Now())
	if err != nil {
		return cert, false, fmt.Errorf("make certificate: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return cert, false, fmt.Errorf("make certificate: %w", err)
	}
	// Key first: a crash between the two writes leaves a lone key, which
	// the check above reports, never a certificate without its key.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return cert, false, fmt.Errorf("save certificate key: %w", err)
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		os.Remove(keyPath)
		return cert, false, fmt.Errorf("save certificate: %w", err)
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return cert, false, fmt.Errorf("load new certificate: %w", err)
	}
	return cert, true, nil
}

// exists reports whether path exists; errors other than "not found"
// (permission, I/O) are returned.
func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}

// selfSigned makes a PEM-encoded self-signed certificate and PKCS#8 key.
func selfSigned(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("serial number: %w", err)
	}
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil {
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if h != "localhost" && validHostname(h) {
			names = append(names, h)
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "lanchat rendezvous"},
		// An hour of slack for clients whose clocks run a little behind.
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// validHostname reports whether h can go into a certificate as a DNS
// name: ASCII letters, digits and hyphens in dot-separated labels. A host
// name that cannot (some machines have odd ones) is simply left out.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// writeFileAtomic writes data to path with the given mode through a
// temporary file in the same directory and a rename, so path never holds
// a partial file, and syncs the directory so the rename survives a crash.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	// CreateTemp makes the file 0600; Chmod sets the mode exactly,
	// whatever the umask.
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
	return nil
}

// LoadCertificate loads a PEM certificate (chain) and its private key,
// such as one an operator supplies in place of the self-signed one.
func LoadCertificate(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("read certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("read certificate key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load certificate %s with key %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// Fingerprint returns the SHA-256 of cert's leaf (first) certificate in
// DER form, as 64 lower-case hex digits: what peers pin. It returns ""
// for a certificate with no leaf.
func Fingerprint(cert tls.Certificate) string {
	if len(cert.Certificate) == 0 {
		return ""
	}
	return fingerprintDER(cert.Certificate[0])
}

func fingerprintDER(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// FingerprintFile returns the Fingerprint of the first certificate in a
// PEM file, so an operator can print it without the private key.
func FingerprintFile(certFile string) (string, error) {
	rest, err := os.ReadFile(certFile)
	if err != nil {
		return "", fmt.Errorf("read certificate: %w", err)
	}
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return "", fmt.Errorf("fingerprint %s: no PEM CERTIFICATE block found", certFile)
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return "", fmt.Errorf("fingerprint %s: %w", certFile, err)
		}
		return fingerprintDER(block.Bytes), nil
	}
}

// TLSConfig returns the server's TLS configuration for cert: TLS 1.3 only.
// Go's default key exchanges, which include the post-quantum hybrid
// X25519MLKEM768, are left as they are.
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
	}
}
