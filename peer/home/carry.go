package home

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// What a backup (package backup) carries to another machine: the identity
// key, the account and the pinned server, and a snapshot of the history
// database. The session token stays behind: the restored machine logs in
// with the password, which also signs the old machine out. So does
// listen.json: a port belongs to a machine.

// HistoryName is the history database's name in the directory, and in a
// backup.
const HistoryName = historyFile

// stagePrefix starts the name of a directory Stage makes.
const stagePrefix = ".restore-"

// CarriedFiles names the small files a backup carries, in the order
// Install puts them in place: the identity key comes last, so a directory
// with an identity key holds everything else too.
func CarriedFiles() []string { return []string{serverFile, accountFile, identityFile} }

// Required reports whether a backup must hold the carried file name: only
// the server pin may be missing (a daemon that never reached a server).
func Required(name string) bool { return name != serverFile }

// ReadCarried returns the content of name, one of CarriedFiles; an error
// wrapping fs.ErrNotExist when the directory has none.
func (h *Home) ReadCarried(name string) ([]byte, error) {
	if !carried(name) {
		return nil, fmt.Errorf("%s is not carried by a backup", name)
	}
	return h.readSmall(name)
}

// HasIdentity reports whether the directory holds an identity key (usable
// or not).
func (h *Home) HasIdentity() (bool, error) {
	_, err := os.Lstat(h.path(identityFile))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("identity key: %w", err)
	}
}

// Stage makes an empty private directory inside h for files that are to
// be installed with Install, and removes what an interrupted restore left
// of earlier ones. Inside h, it is on the same file system, so Install
// renames rather than copies, and no one else can read it. The caller
// holds h's lock.
func (h *Home) Stage() (string, error) {
	old, err := filepath.Glob(filepath.Join(h.dir, stagePrefix+"*"))
	if err != nil {
		return "", fmt.Errorf("stage: %w", err)
	}
	for _, dir := range old {
		if err := os.RemoveAll(dir); err != nil {
			return "", fmt.Errorf("remove an old stage: %w", err)
		}
	}
	dir, err := os.MkdirTemp(h.dir, stagePrefix)
	if err != nil {
		return "", fmt.Errorf("stage: %w", err)
	}
	return dir, nil
}

// Install moves the files of dir, a directory made by Stage and checked by
// the caller, into h: the history database (replacing the one a daemon
// started without an account may have made, with its WAL), then the
// carried files, the identity key last and never over an existing one.
// The stored session, if any, is forgotten. The caller holds h's lock,
// and h holds no identity key. Each move is a rename, so a crash leaves
// every file old or new; one before the identity key is in place leaves a
// directory without one, where the restore can simply run again.
func (h *Home) Install(dir string) error {
	if has, err := h.HasIdentity(); err != nil {
		return err
	} else if has {
		return fmt.Errorf("install: %s already holds an identity key", h.dir)
	}
	if filepath.Dir(dir) != h.dir {
		return fmt.Errorf("install: %s is not a stage of %s", dir, h.dir)
	}
	for _, name := range append(CarriedFiles(), historyFile) {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil && (Required(name) || !errors.Is(err, fs.ErrNotExist)) {
			return fmt.Errorf("install: %w", err)
		}
	}
	if err := syncFiles(dir, append(CarriedFiles(), historyFile)); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if err := h.ClearToken(); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(h.path(historyFile + suffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("install: remove the old history's %s: %w", suffix, err)
		}
	}
	if err := os.Rename(filepath.Join(dir, historyFile), h.path(historyFile)); err != nil {
		return fmt.Errorf("install history: %w", err)
	}
	for _, name := range CarriedFiles() {
		src := filepath.Join(dir, name)
		if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
			continue // checked above: not required
		}
		publish := os.Rename
		if name == identityFile {
			publish = os.Link // never replaces a key
		}
		if err := publish(src, h.path(name)); err != nil {
			return fmt.Errorf("install %s: %w", name, err)
		}
	}
	if err := syncDir(h.dir); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	return os.RemoveAll(dir)
}

// syncFiles makes the named files of dir that exist durable, so that a
// crash after they are renamed into place never leaves one empty.
func syncFiles(dir string, names []string) error {
	for _, name := range names {
		f, err := os.Open(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("sync %s: %w", name, err)
		}
	}
	return nil
}

func carried(name string) bool {
	for _, n := range CarriedFiles() {
		if n == name {
			return true
		}
	}
	return false
}
