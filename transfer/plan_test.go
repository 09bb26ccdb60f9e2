package transfer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNumbered(t *testing.T) {
	for _, tt := range []struct {
		name string
		n    int
		want string
	}{
		{"report.pdf", 0, "report.pdf"},
		{"report.pdf", 1, "report (1).pdf"},
		{"archive.tar.gz", 2, "archive.tar (2).gz"},
		{"photos", 12, "photos (12)"},
		{".bashrc", 1, ".bashrc (1)"},
		{strings.Repeat("n", 251) + ".pdf", 3, strings.Repeat("n", 247) + " (3).pdf"},
	} {
		if got := numbered(tt.name, tt.n); got != tt.want || len(got) > MaxNameBytes {
			t.Errorf("numbered(%q, %d) = %q, want %q", tt.name, tt.n, got, tt.want)
		}
	}
}

func TestPartialName(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef"
	if got := partialName("dir/report.pdf", id, 7); got != "dir/.report.pdf.01234567-7.lanchat-partial" {
		t.Errorf("partialName = %q", got)
	}
	long := partialName(strings.Repeat("x", 255), id, 99999)
	if len(long) > MaxNameBytes || !strings.HasSuffix(long, "-99999"+partialSuffix) {
		t.Errorf("long partial name %q (%d bytes)", long, len(long))
	}
	// No sanitised name is ever a partial name.
	if s, _ := Sanitize(partialName("a", id, 1)); s == partialName("a", id, 1) {
		t.Errorf("Sanitize lets a partial name through: %q", s)
	}
}

func TestPlanner(t *testing.T) {
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "photos", "old.jpg"), 1)
	randomFile(t, filepath.Join(dir, "notes.txt"), 1)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	p := newPlanner(root)
	for _, tt := range []struct {
		dir     bool
		offered string
		want    string
	}{
		{true, "photos", "photos (1)"},
		{false, "photos/old.jpg", "photos (1)/old.jpg"},
		{false, "photos/OLD.jpg", "photos (1)/OLD (1).jpg"}, // case-insensitive disks
		{false, "notes.txt", "notes (1).txt"},
		{false, "notes.txt", "notes (2).txt"},
		{false, "a", "a"},
		{false, "a/b", "a (1)/b"}, // "a" is a file: the folder takes another name
		{false, "x/y/z", "x/y/z"}, // parents planned on the way
		{true, "x/y", "x/y"},
	} {
		var got string
		var err error
		if tt.dir {
			got, err = p.dir(tt.offered)
		} else {
			got, err = p.file(tt.offered)
		}
		if err != nil || got != tt.want {
			t.Errorf("plan %q = %q, %v; want %q", tt.offered, got, err, tt.want)
		}
	}
}

func TestMakeDirsRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "real"), 0o755)
	os.Symlink("real", filepath.Join(dir, "link"))
	randomFile(t, filepath.Join(dir, "file"), 1)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := makeDirs(root, []string{"new/sub", "new"}); err != nil {
		t.Fatalf("makeDirs: %v", err)
	}
	if info, err := os.Stat(filepath.Join(dir, "new", "sub")); err != nil || !info.IsDir() {
		t.Fatalf("folder not made: %v", err)
	}
	for _, bad := range [][]string{{"link"}, {"link/x", "link"}, {"file"}} {
		if err := makeDirs(root, bad); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("makeDirs(%q) = %v, want ErrUnsafePath", bad, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "real", "x")); err == nil {
		t.Error("folder made through a link")
	}
}

func TestPlaceNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	old := randomFile(t, filepath.Join(dir, "a.txt"), 10)
	randomFile(t, filepath.Join(dir, "a (1).txt"), 10)
	neu := randomFile(t, filepath.Join(dir, ".a.partial"), 20)
	got, err := place(root, ".a.partial", "a.txt")
	if err != nil || got != "a (2).txt" {
		t.Fatalf("place = %q, %v", got, err)
	}
	mustEqual(t, "old file", readFile(t, filepath.Join(dir, "a.txt")), old)
	mustEqual(t, "placed file", readFile(t, filepath.Join(dir, "a (2).txt")), neu)
	if _, err := os.Stat(filepath.Join(dir, ".a.partial")); err == nil {
		t.Error("partial file left")
	}
}
