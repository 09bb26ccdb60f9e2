package link

import "github.com/lanchat/lanchat/rendezvous/client"

// ErrFingerprintMismatch reports that the server presented a certificate
// other than the pinned one. The link is the daemon's only way to the
// server, so it names the client's error for its users.
var ErrFingerprintMismatch = client.ErrFingerprintMismatch

// NormalizeFingerprint turns a fingerprint as a person types or pastes it
// (hex in either case, colon-separated pairs, an optional "sha256:"
// prefix) into the form the link pins: 64 lower-case hex digits.
func NormalizeFingerprint(s string) (string, error) { return client.NormalizeFingerprint(s) }
