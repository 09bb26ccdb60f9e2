package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lanchat/lanchat/peer/backup"
	"github.com/lanchat/lanchat/peer/home"
)

// passphraseEnv gives scripts a way to pass a backup's passphrase that
// does not show in the process list, as a flag value would.
const passphraseEnv = "LANCHAT_BACKUP_PASSPHRASE"

// minPassphrase is the shortest passphrase a new backup takes: the file
// holds the identity key, and scrypt only slows guessing down.
const minPassphrase = 10

// backupReply is the --json output of backup create and restore.
type backupReply struct {
	File        string    `json:"file"`
	Home        string    `json:"home"`
	User        string    `json:"user"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created"`
	Bytes       int64     `json:"bytes,omitempty"`
}

func cmdBackupCreate(e *env, c *command, args []string) error {
	fs := e.flags(c)
	passFile := fs.String("passphrase-file", "", "read the passphrase from the first line of this file")
	pos, err := e.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	if _, err := os.Stat(e.home); err != nil {
		return fmt.Errorf("nothing to back up: no data directory %s (%w)", e.home, err)
	}
	h, err := home.Open(e.home)
	if err != nil {
		return err
	}
	file, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	if err := backup.CanCreate(h, file); err != nil {
		return err
	}
	pass, err := e.backupPassphrase(c, *passFile, true)
	if err != nil {
		return err
	}
	m, err := backup.Create(e.ctx, h, file, pass)
	if err != nil {
		return err
	}
	r := backupReply{File: file, Home: h.Dir(), User: m.User, Fingerprint: backup.Fingerprint(m), Created: m.Created}
	if fi, err := os.Stat(file); err == nil {
		r.Bytes = fi.Size()
	}
	return e.reply(r, "backed up %s (identity key %s) from %s to %s (%d bytes)\n"+
		"it holds your identity: keep the file and its passphrase safe, and apart",
		r.User, r.Fingerprint, r.Home, r.File, r.Bytes)
}

func cmdBackupRestore(e *env, c *command, args []string) error {
	fs := e.flags(c)
	passFile := fs.String("passphrase-file", "", "read the passphrase from the first line of this file")
	pos, err := e.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	file, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	if fi, err := os.Stat(file); err != nil {
		return fmt.Errorf("backup file: %w", err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("backup file %s is not a regular file", file)
	}
	h, err := home.Open(e.home)
	if err != nil {
		return err
	}
	if err := backup.CanRestore(h); err != nil {
		return err
	}
	pass, err := e.backupPassphrase(c, *passFile, false)
	if err != nil {
		return err
	}
	m, err := backup.Restore(e.ctx, h, file, pass)
	if err != nil {
		return err
	}
	r := backupReply{File: file, Home: h.Dir(), User: m.User, Fingerprint: backup.Fingerprint(m), Created: m.Created}
	return e.reply(r, "restored %s (identity key %s, backup of %s) into %s\n"+
		"next: start the daemon and log in with your password:\n"+
		"  lanchat --home %s daemon\n"+
		"  lanchat --home %s login %s\n"+
		"contacts see the same key; the old machine is signed out",
		r.User, r.Fingerprint, r.Created.Local().Format("2006-01-02 15:04"), r.Home, r.Home, r.Home, r.User)
}

// backupPassphrase returns the passphrase from --passphrase-file, else
// $LANCHAT_BACKUP_PASSPHRASE, else asks on the terminal without echo (twice
// for a new backup). Never from a flag's value: other users see those.
func (e *env) backupPassphrase(c *command, file string, isNew bool) (string, error) {
	var pass string
	switch {
	case file != "":
		p, err := readPassphraseFile(file)
		if err != nil {
			return "", err
		}
		pass = p
	case e.getenv != nil && e.getenv(passphraseEnv) != "":
		pass = e.getenv(passphraseEnv)
	default:
		if _, ok := terminalFd(e.stdin); !ok {
			return "", usageError(c, "stdin is not a terminal: give the passphrase with --passphrase-file FILE or $%s", passphraseEnv)
		}
		p := e.passwords(false)
		var err error
		if pass, err = p.read("passphrase", "Backup passphrase: "); err != nil {
			return "", err
		}
		if isNew {
			if err := checkPassphrase(pass); err != nil {
				return "", err
			}
			again, err := p.read("passphrase", "Repeat the backup passphrase: ")
			if err != nil {
				return "", err
			}
			if again != pass {
				return "", errors.New("the passphrases do not match")
			}
		}
	}
	if isNew {
		if err := checkPassphrase(pass); err != nil {
			return "", err
		}
	}
	return pass, nil
}

// checkPassphrase refuses a passphrase too short to protect a key.
func checkPassphrase(p string) error {
	if n := utf8.RuneCountInString(p); n < minPassphrase {
		return fmt.Errorf("the passphrase has %d characters; a backup needs at least %d (a few words are best)", n, minPassphrase)
	}
	return nil
}

// readPassphraseFile returns the first line of file.
func readPassphraseFile(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("passphrase file: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, maxPasswordLine).ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", fmt.Errorf("passphrase file %s: the first line is over %d bytes", file, maxPasswordLine)
	case err != nil && !errors.Is(err, io.EOF):
		return "", fmt.Errorf("passphrase file: %w", err)
	}
	pass := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
	if pass == "" {
		return "", fmt.Errorf("passphrase file %s: the first line is empty", file)
	}
	return pass, nil
}
