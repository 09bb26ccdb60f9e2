package discovery

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
)

// Service types and the protocol version announced in TXT "v=".
const (
	// PeerService is the DNS-SD service type a lanchat daemon announces,
	// with its QUIC port.
	PeerService = "_lanchat._udp"
	// ServerService is the DNS-SD service type a rendezvous server
	// announces, with its TCP port and certificate fingerprint.
	ServerService = "_lanchat-rendezvous._tcp"
	// Version is the discovery protocol version, TXT "v=1". Entries with
	// another version are ignored.
	Version = 1
)

// domain is the mDNS domain every name lives under.
const domain = "local."

// instancePrefix separates InstanceID's hash from every other use of the
// identity key.
const instancePrefix = "lanchat mdns v1\x00"

// InstanceID returns the opaque instance name a daemon with identity key
// identityPub announces: 32 lower-case hex digits, the first 16 bytes of
// SHA-256("lanchat mdns v1\x00" || identityPub). It reveals no username,
// yet anyone who knows the key (a contact) can compute it and recognise
// the daemon.
func InstanceID(identityPub ed25519.PublicKey) string {
	h := sha256.New()
	h.Write([]byte(instancePrefix))
	h.Write(identityPub)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// isInstanceID reports whether s has the form InstanceID returns.
func isInstanceID(s string) bool {
	return len(s) == 32 && isLowerHex(s)
}

// isFingerprint reports whether s has the form of a certificate
// fingerprint: 64 lower-case hex digits (SHA-256).
func isFingerprint(s string) bool {
	return len(s) == 64 && isLowerHex(s)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
