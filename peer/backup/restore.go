package backup

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/lanchat/lanchat/peer/backup/internal/archive"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/home"
)

// CanRestore checks, before a passphrase is asked for, that h can take a
// restore: no daemon runs on it and it holds no identity key.
func CanRestore(h *home.Home) error {
	unlock, err := lockForRestore(h)
	if err != nil {
		return err
	}
	unlock()
	return nil
}

// lockForRestore takes h's lock, so no daemon starts on h during the
// restore, and checks that h holds no identity.
func lockForRestore(h *home.Home) (func(), error) {
	unlock, err := h.Lock()
	if errors.Is(err, home.ErrLocked) {
		return nil, fmt.Errorf("a lanchat daemon is running for %s; stop it first (a restore needs the data directory to itself)", h.Dir())
	}
	if err != nil {
		return nil, err
	}
	has, err := h.HasIdentity()
	if err == nil && has {
		err = fmt.Errorf("%w (%s); a restore never replaces one: restore into a new data directory (lanchat --home DIR backup restore FILE)", ErrHasIdentity, h.Dir())
	}
	if err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// Restore decrypts the backup file with passphrase and installs it into
// h, which no daemon may be running on and which must hold no identity
// key. Everything is decrypted into a directory of its own inside h and
// checked first: the whole age stream authenticated to its end, the
// manifest, the identity key against it, the account, the pinned server,
// the history database's integrity. Only then are the files moved into
// place. On any error nothing in h has changed.
func Restore(ctx context.Context, h *home.Home, file, passphrase string) (Manifest, error) {
	m, err := restore(ctx, h, file, passphrase)
	if err != nil {
		return Manifest{}, fmt.Errorf("restore %s: %w; nothing was changed", file, err)
	}
	return m, nil
}

func restore(ctx context.Context, h *home.Home, file, passphrase string) (Manifest, error) {
	unlock, err := lockForRestore(h)
	if err != nil {
		return Manifest{}, err
	}
	defer unlock()
	owner, err := h.Account()
	if err != nil {
		return Manifest{}, err
	}

	f, err := os.Open(file)
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return Manifest{}, err
	} else if !fi.Mode().IsRegular() {
		return Manifest{}, errors.New("not a regular file")
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return Manifest{}, err
	}
	id.SetMaxWorkFactor(workFactor)
	plain, err := age.Decrypt(bufio.NewReaderSize(f, 64<<10), id)
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch):
		return Manifest{}, ErrPassphrase
	case err != nil:
		return Manifest{}, fmt.Errorf("%w (%v)", ErrDamaged, err)
	}

	stage, err := h.Stage()
	if err != nil {
		return Manifest{}, err
	}
	installed := false
	defer func() {
		if !installed {
			os.RemoveAll(stage)
		}
	}()
	m, err := archive.Unpack(plain, archive.CreateIn(stage))
	switch {
	case errors.Is(err, archive.ErrFormat):
		return Manifest{}, err
	case err != nil:
		return Manifest{}, fmt.Errorf("%w (%v)", ErrDamaged, err)
	}
	if owner != "" && owner != m.User {
		return Manifest{}, fmt.Errorf("%s belongs to %s, the backup to %s", h.Dir(), owner, m.User)
	}
	if err := checkStage(ctx, stage, m); err != nil {
		return Manifest{}, err
	}
	if err := h.Install(stage); err != nil {
		return Manifest{}, err
	}
	installed = true
	return m, nil
}

// checkStage checks the unpacked files' contents: the identity key is the
// one the manifest names, the account is the manifest's user, the server
// pin (if any) reads, and the history database is sound and brought to
// this program's schema.
func checkStage(ctx context.Context, stage string, m Manifest) error {
	sh, err := home.Open(stage)
	if err != nil {
		return err
	}
	key, err := sh.Identity()
	if err != nil {
		return fmt.Errorf("%w: %v", archive.ErrFormat, err)
	}
	if hex.EncodeToString(key.Public().(ed25519.PublicKey)) != m.IdentityKey {
		return fmt.Errorf("%w: the identity key is not the one the manifest names", archive.ErrFormat)
	}
	user, err := sh.Account()
	if err != nil {
		return fmt.Errorf("%w: %v", archive.ErrFormat, err)
	}
	if user != m.User {
		return fmt.Errorf("%w: account %q, manifest %q", archive.ErrFormat, user, m.User)
	}
	if _, err := sh.Server(); err != nil && !errors.Is(err, home.ErrNoServer) {
		return fmt.Errorf("%w: %v", archive.ErrFormat, err)
	}
	db := filepath.Join(stage, home.HistoryName)
	if err := history.Verify(ctx, db); err != nil {
		return fmt.Errorf("%w: %v", archive.ErrFormat, err)
	}
	// Verify closed the database, which folds its write-ahead log back in;
	// Install moves history.db alone.
	if _, err := os.Lstat(db + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the history's write-ahead log was left open after the check")
	}
	return nil
}
