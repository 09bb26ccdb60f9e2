package direct

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"testing"
	"time"
)

// FuzzLeafKey feeds arbitrary certificates, as a peer controls them, to
// the certificate check: it must never panic, and whatever it accepts
// must carry a key that signed its own certificate.
func FuzzLeafKey(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	own, err := newCertificate(priv, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(own.Certificate[0])
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		key, err := leafKey([]*x509.Certificate{cert})
		if err != nil {
			return
		}
		if cert.CheckSignature(x509.PureEd25519, cert.RawTBSCertificate, cert.Signature) != nil || len(key) != 32 {
			t.Fatal("accepted a certificate that is not self-signed with Ed25519")
		}
	})
}
