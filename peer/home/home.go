// Package home is a user's data directory: the identity key, the session
// token, the pinned server certificate, the history database and the
// daemon's socket and lock. Every file in it is private to the user
// (directory 0700, files 0600), and every write is atomic, so a daemon
// killed at any instant leaves either the old file or the new one.
package home

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File names inside the directory.
const (
	identityFile = "identity.key"
	sessionFile  = "session.json"
	accountFile  = "account.json"
	listenFile   = "listen.json"
	serverFile   = "server.json"
	historyFile  = "history.db"
	socketFile   = "daemon.sock"
	lockFile     = "daemon.lock"
)

// maxSmallFile bounds what is read of the small JSON and PEM files: they
// are a few hundred bytes; anything larger is not ours.
const maxSmallFile = 64 << 10

var (
	// ErrNoIdentity means the directory has no identity key yet.
	ErrNoIdentity = errors.New("no identity key")
	// ErrNoServer means no server certificate has been pinned yet.
	ErrNoServer = errors.New("no pinned server")
	// ErrLocked means another daemon runs for this directory.
	ErrLocked = errors.New("another lanchat daemon is running for this data directory")
)

// Home is an open data directory.
type Home struct {
	dir string
}

// Open opens the data directory dir, creating it (mode 0700) if needed.
// An existing directory that others may read or write is tightened to
// 0700, since it holds the user's private key.
func Open(dir string) (*Home, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("data directory %s is not a directory", abs)
	}
	if err := makePrivate(abs, fi); err != nil {
		return nil, fmt.Errorf("make data directory private: %w", err)
	}
	return &Home{dir: abs}, nil
}

// Dir returns the directory's absolute path.
func (h *Home) Dir() string { return h.dir }

// HistoryPath is the SQLite history database.
func (h *Home) HistoryPath() string { return h.path(historyFile) }

// SocketPath is the daemon's local API socket.
func (h *Home) SocketPath() string { return h.path(socketFile) }

func (h *Home) path(name string) string { return filepath.Join(h.dir, name) }

// readSmall reads one of the directory's small files, refusing one that is
// not a regular file or is implausibly large.
func (h *Home) readSmall(name string) ([]byte, error) {
	f, err := os.Open(h.path(name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	if fi.Size() > maxSmallFile {
		return nil, fmt.Errorf("%s is %d bytes; not a lanchat file", name, fi.Size())
	}
	buf := make([]byte, fi.Size())
	if _, err := f.ReadAt(buf, 0); err != nil && fi.Size() > 0 {
		return nil, err
	}
	return buf, nil
}

// writeAtomic replaces name with data (mode 0600): it writes a temporary
// file, syncs it, renames it over the old one and syncs the directory.
func (h *Home) writeAtomic(name string, data []byte) error {
	return h.write(name, data, os.Rename)
}

// writeNew is writeAtomic for a file that must never be replaced: a hard
// link, unlike a rename, fails with fs.ErrExist when the name is taken, so
// of two racing writers only one succeeds.
func (h *Home) writeNew(name string, data []byte) error {
	return h.write(name, data, os.Link)
}

// write writes data to a temporary file and publishes it as name.
func (h *Home) write(name string, data []byte, publish func(tmp, path string) error) error {
	tmp, err := os.CreateTemp(h.dir, "."+name+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a rename this finds nothing; after a link it drops the extra name
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := publish(tmp.Name(), h.path(name)); err != nil {
		return err
	}
	return syncDir(h.dir)
}
