package home

import (
	"os"
	"path/filepath"
	"testing"
)

// stageFiles fills a stage with the files Install expects.
func stageFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("new "+n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInstall(t *testing.T) {
	h, err := Open(filepath.Join(t.TempDir(), "home"))
	if err != nil {
		t.Fatal(err)
	}
	// What a daemon started without an account leaves, plus a session.
	for name, data := range map[string]string{historyFile: "old db", historyFile + "-wal": "old wal", historyFile + "-shm": "old shm", sessionFile: "{}", listenFile: `{"port":4000}`} {
		if err := os.WriteFile(h.path(name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := h.Stage()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 || filepath.Dir(dir) != h.Dir() {
		t.Fatalf("stage %s: %v %v", dir, fi, err)
	}
	// A stage missing a required file is refused, nothing moved.
	stageFiles(t, dir, historyFile, accountFile)
	if err := h.Install(dir); err == nil {
		t.Fatal("installed a stage without an identity key")
	}
	if b, _ := os.ReadFile(h.path(historyFile)); string(b) != "old db" {
		t.Fatal("a refused install moved the history")
	}
	stageFiles(t, dir, identityFile) // server.json may be missing
	if err := h.Install(dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{historyFile: "new history.db", accountFile: "new account.json", identityFile: "new identity.key", listenFile: `{"port":4000}`} {
		if b, _ := os.ReadFile(h.path(name)); string(b) != want {
			t.Errorf("%s = %q, want %q", name, b, want)
		}
	}
	for _, gone := range []string{historyFile + "-wal", historyFile + "-shm", sessionFile, serverFile} {
		if _, err := os.Lstat(h.path(gone)); err == nil {
			t.Errorf("%s is still there", gone)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("the stage is still there")
	}

	// Never over an identity key.
	dir, err = h.Stage()
	if err != nil {
		t.Fatal(err)
	}
	stageFiles(t, dir, historyFile, accountFile, identityFile)
	if err := h.Install(dir); err == nil {
		t.Fatal("installed over an identity key")
	}
	if b, _ := os.ReadFile(h.path(identityFile)); string(b) != "new identity.key" {
		t.Error("the identity key was replaced")
	}
	// Stage clears what an interrupted restore left.
	again, err := h.Stage()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("Stage left an old stage")
	}
	// A directory elsewhere is not a stage.
	if err := os.Remove(h.path(identityFile)); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	stageFiles(t, other, historyFile, accountFile, identityFile)
	if err := h.Install(other); err == nil {
		t.Error("installed from outside the directory")
	}
	os.RemoveAll(again)
}

func TestReadCarried(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SaveToken("alice", "tok"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ReadCarried(sessionFile); err == nil {
		t.Error("the session file is carried")
	}
	if err := h.SetAccount("alice"); err != nil {
		t.Fatal(err)
	}
	if b, err := h.ReadCarried(accountFile); err != nil || len(b) == 0 {
		t.Errorf("account: %q, %v", b, err)
	}
}
