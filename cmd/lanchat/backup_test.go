package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/home"
)

// runWithEnv runs the CLI in-process with the environment env.
func runWithEnv(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := runEnv(t.Context(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return result{out.String(), errb.String(), code}
}

// accountHome makes a data directory as a register leaves it.
func accountHome(t *testing.T) string {
	t.Helper()
	dir := shortHome(t)
	h, err := home.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.CreateIdentity(); err != nil {
		t.Fatal(err)
	}
	if err := h.SetAccount("alice"); err != nil {
		t.Fatal(err)
	}
	s, err := history.Open(context.Background(), h.HistoryPath())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	return dir
}

func TestBackupCommands(t *testing.T) {
	src := accountHome(t)
	file := filepath.Join(t.TempDir(), "alice.backup")
	const pass = "a passphrase of some length"

	// No way to read a passphrase: a usage error before any work.
	r := runWithEnv(t, nil, "--home", src, "backup", "create", file)
	if r.code != 2 || !strings.Contains(r.stderr, passphraseEnv) {
		t.Errorf("create without a passphrase: exit %d, %s", r.code, r.stderr)
	}
	// Too short.
	r = runWithEnv(t, map[string]string{passphraseEnv: "short"}, "--home", src, "backup", "create", file)
	if r.code != 1 || !strings.Contains(r.stderr, "at least") {
		t.Errorf("short passphrase: exit %d, %s", r.code, r.stderr)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("a refused backup left a file")
	}
	// Nothing to back up.
	r = runWithEnv(t, map[string]string{passphraseEnv: pass}, "--home", shortHome(t), "backup", "create", file)
	if r.code != 1 || !strings.Contains(r.stderr, "nothing to back up") {
		t.Errorf("empty home: exit %d, %s", r.code, r.stderr)
	}

	r = runWithEnv(t, map[string]string{passphraseEnv: pass}, "--json", "--home", src, "backup", "create", file)
	created := fromJSON[backupReply](t, r.ok(t))
	if created.User != "alice" || created.File != file || created.Bytes == 0 || created.Fingerprint == "" {
		t.Errorf("create reply %+v", created)
	}
	// Never over an existing file.
	r = runWithEnv(t, map[string]string{passphraseEnv: pass}, "--home", src, "backup", "create", file)
	if r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("create over a file: exit %d, %s", r.code, r.stderr)
	}

	// Restore with a passphrase file; a wrong one first.
	dst := filepath.Join(shortHome(t), "new")
	passFile := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(passFile, []byte("not it\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runWithEnv(t, nil, "--home", dst, "backup", "restore", file, "--passphrase-file", passFile)
	if r.code != 1 || !strings.Contains(r.stderr, "wrong passphrase") || !strings.Contains(r.stderr, "nothing was changed") {
		t.Errorf("wrong passphrase: exit %d, %s", r.code, r.stderr)
	}
	if err := os.WriteFile(passFile, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runWithEnv(t, nil, "--home", dst, "backup", "restore", file, "--passphrase-file", passFile).ok(t)
	contains(t, out, "restored alice", created.Fingerprint, "login alice")
	h, err := home.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	if has, _ := h.HasIdentity(); !has {
		t.Error("no identity after restore")
	}
	// A second restore into the same directory is refused.
	r = runWithEnv(t, nil, "--home", dst, "backup", "restore", file, "--passphrase-file", passFile)
	if r.code != 1 || !strings.Contains(r.stderr, "already holds an identity") {
		t.Errorf("restore over an identity: exit %d, %s", r.code, r.stderr)
	}
}

func TestReadPassphraseFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ content, want, err string }{
		{"one two three\nsecond line\n", "one two three", ""},
		{"crlf passphrase\r\n", "crlf passphrase", ""},
		{"no newline", "no newline", ""},
		{"\nsecond", "", "empty"},
		{"", "", "empty"},
		{strings.Repeat("x", maxPasswordLine+1), "", "over"},
	} {
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := readPassphraseFile(p)
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: %q, %v", tc.content, got, err)
		}
	}
}
