package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/lanchat/lanchat/peer/backup/internal/archive"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/home"
)

const pass = "correct horse battery staple"

func TestMain(m *testing.M) {
	workFactor = 10 // 2^10: fast; the format is the same
	os.Exit(m.Run())
}

// fixture is alice's data directory while her daemon runs: an identity
// key, an account, a pinned server, a session, a listen port, and a
// history store that is open (and the directory locked) for the test.
type fixture struct {
	h     *home.Home
	key   ed25519.PrivateKey
	store *history.Store
}

func newSource(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	h, err := home.Open(filepath.Join(t.TempDir(), "alice"))
	mustNil(t, err)
	key, err := h.CreateIdentity()
	mustNil(t, err)
	mustNil(t, h.SetAccount("alice"))
	mustNil(t, h.SaveServer(home.ServerPin{Addr: "10.0.0.1:7777", Fingerprint: strings.Repeat("ab", 32)}))
	mustNil(t, h.SaveToken("alice", "secret-session-token"))
	mustNil(t, h.SaveListenPort(40123))
	unlock, err := h.Lock() // as the running daemon does
	mustNil(t, err)
	t.Cleanup(unlock)
	s, err := history.Open(ctx, h.HistoryPath())
	mustNil(t, err)
	t.Cleanup(func() { s.Close() })
	now := time.Now()
	mustNil(t, s.SavePrekey(ctx, history.Prekey{ID: "pk-old", Secret: bytes.Repeat([]byte("P"), 64), Created: now.Add(-time.Hour), Expires: now.Add(7 * 24 * time.Hour)}))
	for i := range 20 {
		_, err := s.AddIncoming(ctx, history.Message{
			ID: fmt.Sprintf("%032x", i+1), Conversation: history.Direct("bob"), From: "bob",
			Body: fmt.Sprintf("message %d from bob", i), Sent: now, Received: now, Via: history.ViaDirect,
		})
		mustNil(t, err)
	}
	return &fixture{h: h, key: key, store: s}
}

func (s *fixture) backup(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "alice.lanchat-backup")
	m, err := Create(context.Background(), s.h, file, pass)
	mustNil(t, err)
	if m.User != "alice" || m.Version != Version || Fingerprint(m) == "" {
		t.Fatalf("manifest %+v", m)
	}
	return file
}

func TestRoundTrip(t *testing.T) {
	src := newSource(t)
	file := src.backup(t)
	fi, err := os.Stat(file)
	mustNil(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %04o, want 0600", fi.Mode().Perm())
	}
	noLeftovers(t, src.h.Dir())
	noLeftovers(t, filepath.Dir(file))

	dst, err := home.Open(filepath.Join(t.TempDir(), "new-machine"))
	mustNil(t, err)
	m, err := Restore(context.Background(), dst, file, pass)
	mustNil(t, err)
	if m.User != "alice" {
		t.Errorf("manifest user %q", m.User)
	}
	key, err := dst.Identity()
	mustNil(t, err)
	if !key.Equal(src.key) {
		t.Fatal("the restored identity key differs")
	}
	if u, _ := dst.Account(); u != "alice" {
		t.Errorf("account %q", u)
	}
	if p, err := dst.Server(); err != nil || p.Addr != "10.0.0.1:7777" {
		t.Errorf("server pin %+v, %v", p, err)
	}
	if u, tok, _ := dst.Token(); u != "" || tok != "" {
		t.Errorf("the session token was carried: %q %q", u, tok)
	}
	if p := dst.ListenPort(); p != 0 {
		t.Errorf("the listen port was carried: %d", p)
	}
	noLeftovers(t, dst.Dir())
	checkModes(t, dst.Dir())

	ctx := context.Background()
	s, err := history.Open(ctx, dst.HistoryPath())
	mustNil(t, err)
	defer s.Close()
	ms, err := s.History(ctx, history.Direct("bob"), 100, "")
	mustNil(t, err)
	if len(ms) != 20 {
		t.Errorf("restored history holds %d messages, want 20", len(ms))
	}
	pk, err := s.Prekey(ctx, "pk-old")
	mustNil(t, err)
	if !bytes.Equal(pk.Secret, bytes.Repeat([]byte("P"), 64)) {
		t.Error("the prekey secret was not restored")
	}
}

// TestStandardContainer opens a backup with age and archive/tar alone:
// the format is theirs, with named files.
func TestStandardContainer(t *testing.T) {
	file := newSource(t).backup(t)
	f, err := os.Open(file)
	mustNil(t, err)
	defer f.Close()
	id, err := age.NewScryptIdentity(pass)
	mustNil(t, err)
	r, err := age.Decrypt(f, id)
	mustNil(t, err)
	tr := tar.NewReader(r)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		mustNil(t, err)
		names = append(names, hdr.Name)
		if hdr.Mode != 0o600 {
			t.Errorf("%s: mode %o", hdr.Name, hdr.Mode)
		}
		if hdr.Name == "session.json" {
			t.Error("the session token is in the backup")
		}
	}
	want := []string{archive.ManifestName, "server.json", "account.json", "identity.key", "history.db"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("members %v, want %v", names, want)
	}
}

// TestRestoreRefusesBadFiles: a wrong passphrase, a cut file and a
// changed byte each fail with a clear error and change nothing, in a new
// directory and in one a daemon ran in without an account.
func TestRestoreRefusesBadFiles(t *testing.T) {
	file := newSource(t).backup(t)
	good, err := os.ReadFile(file)
	mustNil(t, err)

	cases := []struct {
		name string
		data []byte
		pass string
		want error
	}{
		{"wrong passphrase", good, "not the passphrase", ErrPassphrase},
		{"empty", nil, pass, ErrDamaged},
		{"not age", []byte("lanchat backup?\n"), pass, ErrDamaged},
	}
	// Cut at the header, inside the payload, and one byte short.
	for _, n := range []int{40, len(good) / 2, len(good) - 1} {
		cases = append(cases, struct {
			name string
			data []byte
			pass string
			want error
		}{fmt.Sprintf("cut at %d of %d", n, len(good)), good[:n], pass, ErrDamaged})
	}
	// A changed byte in the payload (first chunk, middle, last byte).
	hdrEnd := bytes.Index(good, []byte("\n--- ")) + 6
	for _, at := range []int{hdrEnd + 100, len(good) / 2, len(good) - 1} {
		b := bytes.Clone(good)
		b[at] ^= 0x01
		cases = append(cases, struct {
			name string
			data []byte
			pass string
			want error
		}{fmt.Sprintf("byte %d changed", at), b, pass, ErrDamaged})
	}
	// A changed byte in the header's MAC line.
	b := bytes.Clone(good)
	b[hdrEnd] ^= 0x01
	cases = append(cases, struct {
		name string
		data []byte
		pass string
		want error
	}{"header MAC changed", b, pass, ErrDamaged})
	// Something appended after the end.
	cases = append(cases, struct {
		name string
		data []byte
		pass string
		want error
	}{"appended", append(bytes.Clone(good), "more"...), pass, ErrDamaged})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad")
			mustNil(t, os.WriteFile(bad, tc.data, 0o600))
			for _, dir := range []string{"fresh", "daemon-ran"} {
				h, err := home.Open(filepath.Join(t.TempDir(), dir))
				mustNil(t, err)
				if dir == "daemon-ran" {
					daemonRan(t, h)
				}
				before := dirState(t, h.Dir())
				_, err = Restore(context.Background(), h, bad, tc.pass)
				if !errors.Is(err, tc.want) {
					t.Fatalf("%s: err = %v, want %v", dir, err, tc.want)
				}
				t.Logf("%s: %v", dir, err)
				if !strings.Contains(err.Error(), "nothing was changed") {
					t.Errorf("error does not say nothing changed: %v", err)
				}
				if after := dirState(t, h.Dir()); after != before {
					t.Errorf("%s changed:\nbefore %s\nafter  %s", dir, before, after)
				}
				if has, _ := h.HasIdentity(); has {
					t.Error("an identity appeared")
				}
			}
		})
	}
}

// daemonRan leaves in h what a daemon started without an account does:
// a history database (open WAL files included), a listen port, the lock.
func daemonRan(t *testing.T, h *home.Home) {
	t.Helper()
	s, err := history.Open(context.Background(), h.HistoryPath())
	mustNil(t, err)
	mustNil(t, s.Close())
	mustNil(t, h.SaveListenPort(40999))
	unlock, err := h.Lock()
	mustNil(t, err)
	unlock()
}

func TestRestoreIntoDirectoryADaemonUsed(t *testing.T) {
	file := newSource(t).backup(t)
	h, err := home.Open(filepath.Join(t.TempDir(), "used"))
	mustNil(t, err)
	daemonRan(t, h)
	// A stale WAL of the old database must not be applied to the new one.
	mustNil(t, os.WriteFile(h.HistoryPath()+"-wal", bytes.Repeat([]byte{7}, 4096), 0o600))
	mustNil(t, os.WriteFile(filepath.Join(h.Dir(), ".restore-123"), nil, 0o600)) // an interrupted restore's leftover
	_, err = Restore(context.Background(), h, file, pass)
	mustNil(t, err)
	if p := h.ListenPort(); p != 40999 {
		t.Errorf("listen port %d, want this machine's 40999 kept", p)
	}
	mustNil(t, history.Verify(context.Background(), h.HistoryPath()))
	s, err := history.Open(context.Background(), h.HistoryPath())
	mustNil(t, err)
	defer s.Close()
	ms, err := s.History(context.Background(), history.Direct("bob"), 100, "")
	mustNil(t, err)
	if len(ms) != 20 {
		t.Errorf("%d messages after restore, want 20", len(ms))
	}
	noLeftovers(t, h.Dir())
}

func TestRestoreRefusesDirectory(t *testing.T) {
	file := newSource(t).backup(t)
	ctx := context.Background()

	// A directory with an identity key: never replaced, even by itself.
	other := newSource(t)
	other.store.Close()
	before := dirState(t, other.h.Dir())
	if _, err := Restore(ctx, other.h, file, pass); err == nil || !strings.Contains(err.Error(), "daemon is running") {
		t.Errorf("restore while the daemon holds the lock: %v", err)
	}
	if err := CanRestore(other.h); err == nil {
		t.Error("CanRestore while the daemon holds the lock")
	}
	if after := dirState(t, other.h.Dir()); after != before {
		t.Errorf("changed while refused:\n%s\n%s", before, after)
	}

	h, err := home.Open(filepath.Join(t.TempDir(), "has-key"))
	mustNil(t, err)
	_, err = h.CreateIdentity()
	mustNil(t, err)
	before = dirState(t, h.Dir())
	if _, err := Restore(ctx, h, file, pass); !errors.Is(err, ErrHasIdentity) {
		t.Errorf("restore over an identity: %v", err)
	}
	if err := CanRestore(h); !errors.Is(err, ErrHasIdentity) {
		t.Errorf("CanRestore over an identity: %v", err)
	}
	if after := dirState(t, h.Dir()); after != before {
		t.Errorf("changed while refused:\n%s\n%s", before, after)
	}

	// A directory that belongs to another account.
	h, err = home.Open(filepath.Join(t.TempDir(), "bobs"))
	mustNil(t, err)
	mustNil(t, h.SetAccount("bob"))
	if _, err := Restore(ctx, h, file, pass); err == nil || !strings.Contains(err.Error(), "belongs to bob") {
		t.Errorf("restore into bob's directory: %v", err)
	}
	if has, _ := h.HasIdentity(); has {
		t.Error("an identity appeared in bob's directory")
	}
}

func TestCreateRefuses(t *testing.T) {
	ctx := context.Background()
	h, err := home.Open(filepath.Join(t.TempDir(), "empty"))
	mustNil(t, err)
	file := filepath.Join(t.TempDir(), "b")
	if _, err := Create(ctx, h, file, pass); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("backup of an empty directory: %v", err)
	}
	if _, err := os.Stat(file); err == nil {
		t.Error("a refused backup left a file")
	}

	src := newSource(t)
	mustNil(t, os.WriteFile(file, []byte("keep me"), 0o600))
	if _, err := Create(ctx, src.h, file, pass); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("backup over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Error("an existing file was overwritten")
	}
	if _, err := Create(ctx, src.h, filepath.Join(t.TempDir(), "c"), ""); err == nil {
		t.Error("an empty passphrase was taken")
	}
}

// TestRestoreRefusesForeignWorkFactor: a file that asks for more scrypt
// work than lanchat makes is refused before the work is done.
func TestRestoreRefusesForeignWorkFactor(t *testing.T) {
	src := newSource(t)
	old := workFactor
	workFactor = old + 2
	file := src.backup(t)
	workFactor = old
	h, err := home.Open(filepath.Join(t.TempDir(), "new"))
	mustNil(t, err)
	if _, err := Restore(context.Background(), h, file, pass); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "work factor") {
		t.Errorf("restore of a file with a larger work factor: %v", err)
	}
}

// dirState describes every file in dir (name, mode, content hash), all
// but the lock file, which taking the lock may create.
func dirState(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "daemon.lock" {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v", rel, fi.Mode())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x", b)
		}
		lines = append(lines, line)
		return nil
	})
	mustNil(t, err)
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func noLeftovers(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	mustNil(t, err)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("leftover %s in %s", e.Name(), dir)
		}
	}
}

func checkModes(t *testing.T, dir string) {
	t.Helper()
	fi, err := os.Stat(dir)
	mustNil(t, err)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("%s mode %04o, want 0700", dir, fi.Mode().Perm())
	}
	ents, err := os.ReadDir(dir)
	mustNil(t, err)
	for _, e := range ents {
		fi, err := e.Info()
		mustNil(t, err)
		if fi.Mode().IsRegular() && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %04o, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
