package history

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSnapshotWhileOpen copies a database that is open and being written
// to: the copy is sound, holds the prekey secrets and a prefix of the
// messages, and the writer never waited for it.
func TestSnapshotWhileOpen(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	pk := Prekey{ID: "pk1", Secret: secret('1'), Created: at(0), Expires: at(7 * day)}
	mustNil(t, s.SavePrekey(ctx, pk))
	for i := range 50 {
		addIn(t, s, in(i, "bob", "before the snapshot", time.Duration(i)*time.Second))
	}

	// A writer keeps adding messages during the copy.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1000; i < 1500; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.AddIncoming(ctx, in(i, "bob", "during", time.Hour)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	dst := filepath.Join(t.TempDir(), "copy.db")
	err := Snapshot(ctx, path, dst)
	close(stop)
	wg.Wait()
	mustNil(t, err)

	fi, err := os.Stat(dst)
	mustNil(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode %04o, want 0600", fi.Mode().Perm())
	}
	mustNil(t, Verify(ctx, dst))
	c, err := Open(ctx, dst)
	mustNil(t, err)
	defer c.Close()
	got, err := c.Prekey(ctx, "pk1")
	mustNil(t, err)
	if !bytes.Equal(got.Secret, pk.Secret) {
		t.Error("the prekey secret did not survive the snapshot")
	}
	ms, err := c.History(ctx, Direct("bob"), 10000, "")
	mustNil(t, err)
	if len(ms) < 50 {
		t.Fatalf("snapshot holds %d messages, want at least the 50 written before", len(ms))
	}
	// A consistent snapshot is a prefix of what was written: every
	// message written before the last one it holds is there too.
	seen := map[string]bool{}
	for _, m := range ms {
		seen[m.ID] = true
	}
	last := 1000 + (len(ms) - 50) - 1
	for i := 1000; i <= last; i++ {
		if !seen[id(i)] {
			t.Fatalf("snapshot of %d messages lacks %s: not one commit's state", len(ms), id(i))
		}
	}
}

func TestSnapshotErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	if err := Snapshot(ctx, missing, filepath.Join(dir, "out.db")); err == nil {
		t.Error("snapshot of a missing database succeeded")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("snapshot created the database it was to copy")
	}
	if _, err := os.Stat(filepath.Join(dir, "out.db")); err == nil {
		t.Error("a failed snapshot left its output")
	}

	_, path := openTest(t)
	taken := filepath.Join(dir, "taken.db")
	mustNil(t, os.WriteFile(taken, []byte("mine"), 0o600))
	if err := Snapshot(ctx, path, taken); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("snapshot over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(taken); string(b) != "mine" {
		t.Error("snapshot overwrote an existing file")
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	for i := range 200 {
		addIn(t, s, in(i, "bob", strings.Repeat("words ", 50), time.Duration(i)*time.Second))
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	mustNil(t, Snapshot(ctx, path, dst))
	mustNil(t, Verify(ctx, dst))

	// Not a database at all.
	junk := filepath.Join(t.TempDir(), "junk.db")
	mustNil(t, os.WriteFile(junk, bytes.Repeat([]byte("junk"), 4096), 0o600))
	if err := Verify(ctx, junk); err == nil {
		t.Error("junk verified")
	}
	// A database with pages overwritten in the middle.
	b, err := os.ReadFile(dst)
	mustNil(t, err)
	if len(b) < 8*4096 {
		t.Fatalf("snapshot only %d bytes", len(b))
	}
	for i := 3 * 4096; i < 6*4096; i++ {
		b[i] = 0xa5
	}
	broken := filepath.Join(t.TempDir(), "broken.db")
	mustNil(t, os.WriteFile(broken, b, 0o600))
	if err := Verify(ctx, broken); err == nil {
		t.Error("a damaged database verified")
	}
	if err := Verify(ctx, filepath.Join(t.TempDir(), "none.db")); err == nil {
		t.Error("a missing database verified")
	}
}
