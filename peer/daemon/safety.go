package daemon

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// safetyIterations makes each half of a safety number costly to search
// for a colliding key.
const safetyIterations = 5200

// safetyNumber is what two users compare out of band to be sure they see
// each other's real identity keys: 30 digits derived from each user's name
// and key, the two halves in username order so both sides print the same
// 60 digits, in groups of five.
func safetyNumber(userA string, keyA []byte, userB string, keyB []byte) string {
	a, b := safetyHalf(userA, keyA), safetyHalf(userB, keyB)
	if userB < userA {
		a, b = b, a
	}
	digits := a + b
	var groups []string
	for i := 0; i < len(digits); i += 5 {
		groups = append(groups, digits[i:i+5])
	}
	return strings.Join(groups, " ")
}

// safetyHalf hashes one user's name and key, iterated, and reads six
// five-digit numbers from the digest.
func safetyHalf(user string, key []byte) string {
	h := sha512.New()
	h.Write([]byte("lanchat safety number v1\x00"))
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write(key)
	sum := h.Sum(nil)
	for range safetyIterations {
		h.Reset()
		h.Write(sum)
		h.Write(key)
		sum = h.Sum(sum[:0])
	}
	var sb strings.Builder
	for i := range 6 {
		chunk := sum[i*5 : i*5+5]
		n := uint64(chunk[0])<<32 | uint64(binary.BigEndian.Uint32(chunk[1:]))
		fmt.Fprintf(&sb, "%05d", n%100000)
	}
	return sb.String()
}

// keyFingerprint names an identity key for the user and the API: the
// SHA-256 of the key in hex. verify shows it beside the safety number,
// and trust and verify --confirm take it back, so they act only on the
// key whose number the user compared.
func keyFingerprint(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:])
}

// parseFingerprint reads a fingerprint as a user or a script may give it:
// case, spaces and colons do not matter.
func parseFingerprint(s string) (string, bool) {
	s = strings.ToLower(strings.Map(func(r rune) rune {
		if r == ' ' || r == ':' || r == '\t' {
			return -1
		}
		return r
	}, s))
	if len(s) != 2*sha256.Size {
		return "", false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", false
	}
	return s, true
}
