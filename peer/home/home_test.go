package home

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// open opens a data directory that is removed with the test.
func open(t *testing.T) *Home {
	t.Helper()
	h, err := Open(filepath.Join(t.TempDir(), "lanchat"))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// perm returns the permission bits of path.
func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) // makes what exists before Open
		wantErr string
	}{
		{name: "creates missing directories", prepare: func(t *testing.T, dir string) {}},
		{name: "tightens 0755", prepare: func(t *testing.T, dir string) { mkdir(t, dir, 0o755) }},
		{name: "tightens 0770", prepare: func(t *testing.T, dir string) { mkdir(t, dir, 0o770) }},
		{name: "tightens 0701", prepare: func(t *testing.T, dir string) { mkdir(t, dir, 0o701) }},
		{name: "keeps 0700", prepare: func(t *testing.T, dir string) { mkdir(t, dir, 0o700) }},
		{
			name: "refuses a regular file",
			prepare: func(t *testing.T, dir string) {
				mkdir(t, filepath.Dir(dir), 0o700)
				if err := os.WriteFile(dir, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "not a directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a", "b", "lanchat")
			tt.prepare(t, dir)
			h, err := Open(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open: err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if h.Dir() != dir {
				t.Errorf("Dir() = %q, want %q", h.Dir(), dir)
			}
			if got := perm(t, dir); got != 0o700 {
				t.Errorf("directory mode %04o, want 0700", got)
			}
		})
	}
}

func mkdir(t *testing.T, dir string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Chmod, since MkdirAll's mode is filtered by the umask.
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRelative(t *testing.T) {
	t.Chdir(t.TempDir())
	h, err := Open("data")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(h.Dir()) || filepath.Base(h.Dir()) != "data" {
		t.Fatalf("Dir() = %q, want an absolute path ending in data", h.Dir())
	}
	// The Home keeps working from another working directory.
	t.Chdir(t.TempDir())
	if err := h.SaveToken("alice", "tok"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(h.Dir(), sessionFile)); err != nil {
		t.Fatalf("session not saved in the data directory: %v", err)
	}
}

func TestPaths(t *testing.T) {
	h := open(t)
	for name, p := range map[string]string{
		"HistoryPath": h.HistoryPath(),
		"SocketPath":  h.SocketPath(),
	} {
		if filepath.Dir(p) != h.Dir() {
			t.Errorf("%s() = %q, not in %q", name, p, h.Dir())
		}
	}
	if h.HistoryPath() == h.SocketPath() {
		t.Errorf("history and socket share the path %q", h.HistoryPath())
	}
}

// TestAtomicWritesLeaveNoTemporaries checks that saving files leaves only
// the files themselves, each private to the user.
func TestAtomicWritesLeaveNoTemporaries(t *testing.T) {
	h := open(t)
	for range 3 {
		if err := h.SaveToken("alice", "tok"); err != nil {
			t.Fatal(err)
		}
		if err := h.SaveServer(ServerPin{Addr: "chat:7443", Fingerprint: "ab"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.CreateIdentity(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(h.Dir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if got := perm(t, filepath.Join(h.Dir(), e.Name())); got != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", e.Name(), got)
		}
	}
	want := []string{identityFile, serverFile, sessionFile} // ReadDir sorts
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("directory holds %q, want %q", names, want)
	}
}

// TestWriteReplacesReadOnlyFile checks that a save replaces the file
// rather than writing into it, so it works even when the old file is
// read-only and a reader never sees half a file.
func TestWriteReplacesReadOnlyFile(t *testing.T) {
	h := open(t)
	if err := h.SaveToken("alice", "old"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(h.Dir(), sessionFile)
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if err := h.SaveToken("alice", "new"); err != nil {
		t.Fatal(err)
	}
	if _, tok, err := h.Token(); err != nil || tok != "new" {
		t.Fatalf("Token() = %q, %v; want new", tok, err)
	}
	if got := perm(t, path); got != 0o600 {
		t.Fatalf("mode %04o after save, want 0600", got)
	}
}

func TestReadSmallRefusesLargeFile(t *testing.T) {
	h := open(t)
	big := make([]byte, maxSmallFile+1)
	if err := os.WriteFile(filepath.Join(h.Dir(), serverFile), big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Server(); err == nil || !strings.Contains(err.Error(), "not a lanchat file") {
		t.Fatalf("Server() err = %v, want a refusal of the oversized file", err)
	}
}
