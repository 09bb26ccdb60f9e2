// Package backup moves a user to another machine without a new identity:
// Create writes the data directory's identity key, account, pinned server
// and a snapshot of the history database into one file encrypted with a
// passphrase, and Restore puts them into the data directory of another
// machine, whose daemon then logs in with the same key, so contacts see no
// key change.
//
// The file is an age file (filippo.io/age) with one scrypt recipient, the
// passphrase; its plaintext is a tar stream (archive/tar) of named files:
// the manifest lanchat-backup.json first, then identity.key, account.json,
// server.json (if the directory had pinned a server) and history.db. So
// `age -d FILE | tar t` lists it. The history snapshot includes the
// prekey secrets, so envelopes the relay holds, sealed to the old
// machine's prekeys, still open after the restore. The session token is
// left out: the new machine logs in with the password.
package backup

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"

	"github.com/lanchat/lanchat/peer/backup/internal/archive"
	"github.com/lanchat/lanchat/peer/direct"
)

// Version is the backup format's version (one version; another is
// refused).
const Version = archive.Version

// workFactor is the scrypt work factor (log2 N) a backup is made with, and
// the most Restore accepts: age's default, about a second and 256 MiB.
// Accepting no more bounds the memory and time a crafted file can cost.
// Tests lower it.
var workFactor = 18

var (
	// ErrPassphrase means the passphrase does not open the file (or the
	// file is not a passphrase-encrypted age file).
	ErrPassphrase = errors.New("wrong passphrase")
	// ErrDamaged means the file is not a whole, unchanged lanchat backup:
	// cut short, altered, or not a backup at all.
	ErrDamaged = errors.New("the backup file is damaged, cut short or was changed")
	// ErrHasIdentity means the data directory to restore into already
	// holds an identity: a restore never replaces one.
	ErrHasIdentity = errors.New("the data directory already holds an identity key")
	// ErrNoIdentity means the data directory to back up has no identity
	// key: nothing to back up yet.
	ErrNoIdentity = errors.New("the data directory has no identity key yet")
)

// Manifest describes a backup: its format version, the user, the public
// identity key and when it was made.
type Manifest = archive.Manifest

// Fingerprint is the short printable name of m's identity key, as lanchat
// shows it elsewhere (register, status).
func Fingerprint(m Manifest) string {
	b, err := hex.DecodeString(m.IdentityKey)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return ""
	}
	return direct.Fingerprint(ed25519.PublicKey(b))
}
