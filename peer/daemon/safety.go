package daemon

import (
	"crypto/sha512"
	"encoding/binary"
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
