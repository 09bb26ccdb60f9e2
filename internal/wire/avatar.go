package wire

import (
	"crypto/sha256"
	"encoding/hex"
)

// AvatarID names an avatar by its content: the first 16 bytes of its
// SHA-256, in lower-case hex. Contacts compare it with the one they hold
// to know when to fetch the avatar again.
func AvatarID(avatar []byte) string {
	if len(avatar) == 0 {
		return ""
	}
	sum := sha256.Sum256(avatar)
	return hex.EncodeToString(sum[:16])
}
