package daemon

import (
	"crypto/ed25519"
	"strings"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// verification is what verify shows of contact c: the number and
// fingerprint of the pending key after a change, else of the pinned one.
func verification(me string, mine ed25519.PublicKey, c history.Contact) api.Verification {
	v := api.Verification{User: c.Username, Verified: c.Verified, SameKey: c.SameKey}
	key := c.IdentityKey
	if c.PendingKey != nil {
		key, v.KeyChanged, v.Verified = c.PendingKey, true, false
	}
	v.SafetyNumber = safetyNumber(me, mine, c.Username, key)
	v.Fingerprint = keyFingerprint(key)
	return v
}

func requestFingerprint(req api.KeyRequest) (string, error) {
	fp, ok := parseFingerprint(req.Fingerprint)
	if !ok {
		return "", api.Errorf(api.CodeInvalid, "fingerprint %q is not a key fingerprint (64 hex digits, as lanchat verify shows)", req.Fingerprint)
	}
	return fp, nil
}

func keyChangedAgain(user string) error {
	return api.Errorf(api.CodeKeyChanged, "the key changed again since you compared it; run lanchat verify %s", user)
}

func sharedKeyError(c history.Contact) error {
	return api.Errorf(api.CodeHeld, "%s's identity key is also pinned for %s; a key belongs to one account, so none of them is admitted: ask your server's admin", c.Username, strings.Join(c.SameKey, ", "))
}

// sharedWarnEvery spaces the warnings about one set of contacts sharing
// a key: a contact that keeps dialling is refused each time, but said
// once a minute.
const sharedWarnEvery = time.Minute

// maxSharedWarned bounds the sets remembered by warnSharedKey.
const maxSharedWarned = 256
