package backup

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"

	"github.com/lanchat/lanchat/peer/backup/internal/archive"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/home"
)

// CanCreate checks, before a passphrase is asked for, that h can be backed
// up into file: h has an identity key and an account, and file does not
// exist yet.
func CanCreate(h *home.Home, file string) error {
	_, _, err := source(h)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(file); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s already exists; choose another name (a backup never overwrites a file)", file)
	}
	return nil
}

// source returns h's identity key and account.
func source(h *home.Home) (ed25519.PrivateKey, string, error) {
	key, err := h.Identity()
	if errors.Is(err, home.ErrNoIdentity) {
		return nil, "", fmt.Errorf("nothing to back up in %s: %w (register or log in first)", h.Dir(), ErrNoIdentity)
	}
	if err != nil {
		return nil, "", err
	}
	user, err := h.Account()
	if err != nil {
		return nil, "", err
	}
	if user == "" {
		return nil, "", fmt.Errorf("nothing to back up in %s: no account yet (register or log in first)", h.Dir())
	}
	return key, user, nil
}

// Create writes a backup of h into the new file (mode 0600), encrypted
// with passphrase. A daemon may be running on h meanwhile: the history is
// copied as one consistent snapshot. The file appears only once complete
// (written beside it, synced, then linked into place), and never replaces
// an existing one.
func Create(ctx context.Context, h *home.Home, file, passphrase string) (Manifest, error) {
	if err := CanCreate(h, file); err != nil {
		return Manifest{}, err
	}
	key, user, err := source(h)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{
		Version:     Version,
		User:        user,
		IdentityKey: hex.EncodeToString(key.Public().(ed25519.PublicKey)),
		Created:     time.Now().UTC(),
	}
	var members []archive.Member
	for _, name := range home.CarriedFiles() {
		data, err := h.ReadCarried(name)
		if errors.Is(err, fs.ErrNotExist) && !home.Required(name) {
			continue
		}
		if err != nil {
			return Manifest{}, fmt.Errorf("read %s: %w", name, err)
		}
		members = append(members, archive.Member{Name: name, Data: data})
	}

	// The snapshot is plaintext (prekey secrets too): it stays inside the
	// private data directory, beside the database it copies.
	tmpDir, err := os.MkdirTemp(h.Dir(), ".backup-")
	if err != nil {
		return Manifest{}, fmt.Errorf("back up history: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	snap := filepath.Join(tmpDir, home.HistoryName)
	if err := history.Snapshot(ctx, h.HistoryPath(), snap); err != nil {
		return Manifest{}, err
	}
	members = append(members, archive.Member{Name: home.HistoryName, Path: snap})

	if err := writeFile(file, passphrase, m, members); err != nil {
		return Manifest{}, fmt.Errorf("write backup %s: %w", file, err)
	}
	return m, nil
}

// writeFile encrypts the archive into a temporary file beside file and
// links it into place.
func writeFile(file, passphrase string, m Manifest, members []archive.Member) error {
	rcpt, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return err
	}
	rcpt.SetWorkFactor(workFactor)
	dir, base := filepath.Split(file)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the link, drops the extra name
	err = func() error {
		defer tmp.Close()
		w, err := age.Encrypt(tmp, rcpt)
		if err != nil {
			return err
		}
		if err := archive.Pack(w, m, members); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		return tmp.Sync()
	}()
	if err != nil {
		return err
	}
	if err := publish(tmp.Name(), file); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// publish puts the finished file tmp in place as file, never over an
// existing file: a hard link fails if the name is taken. File systems
// without hard links (FAT on a USB stick) get a rename after a last look.
func publish(tmp, file string) error {
	err := os.Link(tmp, file)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s appeared meanwhile; not replaced", file)
	}
	if _, serr := os.Lstat(file); !errors.Is(serr, fs.ErrNotExist) {
		return fmt.Errorf("%s appeared meanwhile; not replaced", file)
	}
	return os.Rename(tmp, file)
}
