package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// backupPassphrase is alice's backup passphrase in these tests.
const backupPassphrase = "seven words make a decent backup passphrase"

// lcEnv runs "lanchat --home HOME args..." with extra environment
// variables and returns stdout, stderr and the exit code.
func (u *user) lcEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	return u.lcWith(t, env, "", args...)
}

// TestBackupRestoreKeepsTrust moves alice to a new machine with a backup:
// made while her daemon runs, restored into a new data directory, where
// she logs in with her password. bob sees no key change, her history is
// there, and a message bob relayed while she moved, sealed to her old
// machine's prekey, opens on the new one. A wrong passphrase and a
// running daemon are refused without changing anything.
func TestBackupRestoreKeepsTrust(t *testing.T) {
	srv, alice, bob := startFriends(t)
	alice.must(t, "send", "bob", "before the move")
	bob.waitMessage(t, "alice", "before the move", 10*time.Second)
	bob.must(t, "send", "alice", "a reply before the move")
	alice.waitMessage(t, "bob", "a reply before the move", 10*time.Second)
	var before api.Verification
	bob.mustJSON(t, &before, "verify", "alice")

	// The backup is made while alice's daemon runs.
	file := filepath.Join(t.TempDir(), "alice.lanchat-backup")
	if out, errs, code := alice.lcEnv(t, []string{"LANCHAT_BACKUP_PASSPHRASE=" + backupPassphrase}, "backup", "create", file); code != 0 || !strings.Contains(out, "backed up alice") {
		t.Fatalf("backup create: exit %d\n%s%s", code, out, errs)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v", fi, err)
	}
	alice.stop(t)

	// While alice moves, bob writes: the relay keeps it, sealed to the
	// prekey of her old machine.
	moving := "sent while you move"
	if out := bob.must(t, "send", "alice", moving); !strings.Contains(out, "(relayed)") {
		t.Fatalf("send to alice while she moves: %q; want relayed", out)
	}
	bob.waitState(t, "alice", moving, "sent", 10*time.Second)

	laptop := newUser(t, srv, "alice")
	passFile := filepath.Join(t.TempDir(), "passphrase")
	writePass := func(p string) {
		t.Helper()
		if err := os.WriteFile(passFile, []byte(p+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// A wrong passphrase: a clear error, and the new directory gets no
	// identity. (A cut or changed file: peer/backup's tests.)
	writePass("not the passphrase at all")
	errs := laptop.fails(t, "backup", "restore", file, "--passphrase-file", passFile)
	if !strings.Contains(errs, "wrong passphrase") || !strings.Contains(errs, "nothing was changed") {
		t.Fatalf("restore with a wrong passphrase: %q", errs)
	}
	if _, err := os.Stat(filepath.Join(laptop.home, "identity.key")); err == nil {
		t.Fatalf("a failed restore left an identity key")
	}

	writePass(backupPassphrase)
	out := laptop.must(t, "backup", "restore", file, "--passphrase-file", passFile)
	if !strings.Contains(out, "restored alice") {
		t.Fatalf("restore: %q", out)
	}
	if _, err := os.Stat(filepath.Join(laptop.home, "session.json")); err == nil {
		t.Fatal("the restore brought a session token")
	}

	watch := start(t, "lanchat", "--home", bob.home, "--json", "watch")
	time.Sleep(500 * time.Millisecond) // let the stream open
	laptop.start(t)
	if errs := laptop.fails(t, "backup", "restore", file, "--passphrase-file", passFile); !strings.Contains(errs, "daemon is running") {
		t.Fatalf("restore while the daemon runs: %q", errs)
	}
	if out, errs, code := laptop.lc(t, alice.password+"\n", "login", "alice", "--password-stdin"); code != 0 {
		t.Fatalf("login on the new machine: exit %d\n%s%s", code, out, errs)
	}

	// The message relayed during the move opens with the restored prekey.
	got := laptop.waitMessage(t, "bob", moving, 20*time.Second)
	if got.Via != "relay" {
		t.Fatalf("the message from the move came via %q", got.Via)
	}
	// History from the old machine is there, once each.
	hist := laptop.history(t, "bob")
	for _, text := range []string{"before the move", "a reply before the move"} {
		if n := len(withText(hist, text)); n != 1 {
			t.Fatalf("the new machine has %d copies of %q, want 1", n, text)
		}
	}
	// Both ways work at once, with nothing held.
	laptop.must(t, "send", "bob", "hello from the new machine")
	bob.waitMessage(t, "alice", "hello from the new machine", 15*time.Second)
	bob.must(t, "send", "alice", "welcome back")
	laptop.waitMessage(t, "bob", "welcome back", 15*time.Second)

	// bob saw no key change.
	var fs []api.Friend
	bob.mustJSON(t, &fs, "friends")
	if len(fs) != 1 || fs[0].Username != "alice" || fs[0].Held {
		t.Fatalf("bob's friends after the move: %+v", fs)
	}
	var after api.Verification
	bob.mustJSON(t, &after, "verify", "alice")
	if after.KeyChanged || after.SafetyNumber != before.SafetyNumber {
		t.Fatalf("bob's view of alice changed: before %+v, after %+v", before, after)
	}
	if strings.Contains(watch.output(), `"`+api.EventKeyChanged+`"`) {
		t.Fatalf("bob's daemon reported a key change:\n%s", watch.output())
	}
}
