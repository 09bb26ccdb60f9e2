package discovery

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Service types and the protocol version announced in TXT "v=".
const (
	// PeerService is the DNS-SD service type a lanchat daemon announces,
	// with its QUIC port.
	PeerService = "_lanchat._udp"
	// ServerService is the DNS-SD service type a rendezvous server
	// announces, with its TCP port and certificate fingerprint. Its name
	// has at most 15 characters, as RFC 6763 section 7.2 requires.
	ServerService = "_lanchat-server._tcp"
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
// identityPub announces today (UTC): InstanceIDOn(identityPub, time.Now()).
func InstanceID(identityPub ed25519.PublicKey) string {
	return InstanceIDOn(identityPub, time.Now())
}

// InstanceIDOn returns the instance name announced on the UTC day of t:
// 32 lower-case hex digits, the first 16 bytes of
// SHA-256("lanchat mdns v1\x00" || identityPub || "YYYY-MM-DD"). It
// reveals no username and changes every day, so a passive observer cannot
// follow a machine from one day to the next, yet anyone who knows the key
// (a contact) can compute it and recognise the daemon.
func InstanceIDOn(identityPub ed25519.PublicKey, t time.Time) string {
	h := sha256.New()
	h.Write([]byte(instancePrefix))
	h.Write(identityPub)
	h.Write([]byte(t.UTC().Format(time.DateOnly)))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Recognize reports whether instance is what identityPub announces on
// the UTC day of now, the day before or the day after: clocks on a LAN
// disagree around midnight.
func Recognize(identityPub ed25519.PublicKey, instance string, now time.Time) bool {
	for _, d := range []int{0, -1, 1} {
		if InstanceIDOn(identityPub, now.AddDate(0, 0, d)) == instance {
			return true
		}
	}
	return false
}

// nextDay returns how long until the UTC day after now begins.
func nextDay(now time.Time) time.Duration {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC).Sub(now)
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
