package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// randomFile writes size pseudo-random bytes to path and returns their
// SHA-256.
func randomFile(t *testing.T, path string, size int64, seed uint64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	src := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := int64(len(buf))
		if left < n {
			n = left
		}
		src.Read(buf[:n])
		f.Write(buf[:n])
		h.Write(buf[:n])
		left -= n
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// partials lists the partial files left under dir.
func partials(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".lanchat-partial") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// transfersOf returns u's transfers.
func (u *user) transfers(t *testing.T) []api.Transfer {
	t.Helper()
	var ts []api.Transfer
	u.mustJSON(t, &ts, "transfers")
	return ts
}

// waitTransfer waits until u's transfer id satisfies cond.
func (u *user) waitTransfer(t *testing.T, id string, timeout time.Duration, what string, cond func(api.Transfer) bool) api.Transfer {
	t.Helper()
	var got api.Transfer
	eventually(t, timeout, func() (bool, string) {
		for _, tr := range u.transfers(t) {
			if tr.ID == id {
				got = tr
				return cond(tr), fmt.Sprintf("%s's transfer %s is %+v; want %s", u.name, id, tr, what)
			}
		}
		return false, fmt.Sprintf("%s has no transfer %s", u.name, id)
	})
	return got
}

var reTransferID = regexp.MustCompile(`transfer ([0-9a-f]{32})`)

// sendNoWait offers paths with --no-wait and returns the transfer id.
func (u *user) sendNoWait(t *testing.T, to string, paths ...string) string {
	t.Helper()
	out := u.must(t, append([]string{"send-file", "--no-wait", to}, paths...)...)
	m := reTransferID.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("send-file printed no transfer id: %q", out)
	}
	return m[1]
}

// pairForFiles starts alice and bob, friends, bob taking files into his
// own downloads folder.
func pairForFiles(t *testing.T, bobFlags ...string) (srv *rendezvous, alice, bob *user, downloads string) {
	t.Helper()
	srv = startServer(t)
	alice, bob = newUser(t, srv, "alice"), newUser(t, srv, "bob")
	downloads = filepath.Join(t.TempDir(), "bob-downloads")
	bob.extra = append([]string{"--downloads", downloads}, bobFlags...)
	alice.start(t)
	bob.start(t)
	alice.register(t)
	bob.register(t)
	befriendUsers(t, alice, bob)
	return srv, alice, bob, downloads
}

// TestSendFileAndFolder sends a 256 MiB file and a folder tree: both
// arrive byte-identical; the symbolic link in the folder is skipped, and
// send-file says so.
func TestSendFileAndFolder(t *testing.T) {
	_, alice, _, downloads := pairForFiles(t)
	src := t.TempDir()
	big := filepath.Join(src, "big.bin")
	bigHash := randomFile(t, big, 256<<20, 1)
	tree := filepath.Join(src, "tree")
	for _, d := range []string{"a/b", "empty-dir"} {
		os.MkdirAll(filepath.Join(tree, d), 0o755)
	}
	randomFile(t, filepath.Join(tree, "a/b/deep.bin"), 3<<20+17, 2)
	randomFile(t, filepath.Join(tree, "a/top.bin"), 4096, 3)
	os.WriteFile(filepath.Join(tree, "empty.txt"), nil, 0o644)
	os.Symlink("a", filepath.Join(tree, "link"))

	out, errs, code := alice.lc(t, "", "send-file", "bob", big, tree)
	if code != 0 || !strings.Contains(out, "done") {
		t.Fatalf("send-file: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if !strings.Contains(errs, "skipped") || !strings.Contains(errs, "link") {
		t.Fatalf("send-file did not say the symlink was skipped: %q", errs)
	}
	if got := fileHash(t, filepath.Join(downloads, "big.bin")); got != bigHash {
		t.Fatalf("big.bin arrived with hash %s, want %s", got, bigHash)
	}
	for _, rel := range []string{"a/b/deep.bin", "a/top.bin", "empty.txt"} {
		if fileHash(t, filepath.Join(downloads, "tree", rel)) != fileHash(t, filepath.Join(tree, rel)) {
			t.Errorf("tree/%s differs", rel)
		}
	}
	if fi, err := os.Stat(filepath.Join(downloads, "tree", "empty-dir")); err != nil || !fi.IsDir() {
		t.Errorf("the empty folder did not arrive: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(downloads, "tree", "link")); err == nil {
		t.Errorf("the symbolic link was sent")
	}
	if p := partials(t, downloads); len(p) != 0 {
		t.Errorf("partial files left: %v", p)
	}
	// The big file was striped over two data streams, and each carried a
	// good part of it.
	m := regexp.MustCompile(`msg="transfer attempt ended" .* striped=1 stream_bytes="\[(\d+) (\d+)\]"`).FindStringSubmatch(alice.daemon.output())
	if m == nil {
		t.Fatalf("no attempt striped over two data streams in alice's log:\n%s", alice.daemon.output())
	}
	for _, s := range m[1:] {
		if n, _ := strconv.ParseInt(s, 10, 64); n < 256<<20/5 {
			t.Errorf("a data stream carried %d of 256 MiB: %s", n, m[0])
		}
	}

	// Sending the same again never overwrites: a free name is chosen.
	if _, errs, code := alice.lc(t, "", "send-file", "bob", filepath.Join(tree, "a", "top.bin")); code != 0 {
		t.Fatalf("second send: %s", errs)
	}
	alice.must(t, "send-file", "bob", filepath.Join(tree, "a", "top.bin"))
	if _, err := os.Stat(filepath.Join(downloads, "top (1).bin")); err != nil {
		t.Errorf("the second copy did not get a free name: %v", err)
	}
}

// TestTransferResumesAfterKill kills the receiving daemon with SIGKILL
// about half way through a 256 MiB file: once it is back, the transfer
// resumes by itself, completes with the right hash, and re-sends at most
// a few chunks of what had arrived.
func TestTransferResumesAfterKill(t *testing.T) {
	_, alice, bob, downloads := pairForFiles(t)
	const size = 256 << 20
	src := filepath.Join(t.TempDir(), "video.mp4")
	want := randomFile(t, src, size, 7)
	id := alice.sendNoWait(t, "bob", src)
	bob.waitTransfer(t, id, 60*time.Second, "about half done", func(tr api.Transfer) bool { return tr.Done >= size*2/5 })
	bob.daemon.signal(syscall.SIGKILL)
	bob.daemon.wait(t, 10*time.Second)
	bob.daemon = nil
	ps := partials(t, downloads)
	if len(ps) != 1 {
		t.Fatalf("partial files after the kill: %v", ps)
	}
	fi, err := os.Stat(ps[0])
	if err != nil {
		t.Fatal(err)
	}
	had := fi.Size()

	bob.start(t)
	alice.waitTransfer(t, id, 90*time.Second, "done", func(tr api.Transfer) bool { return tr.State == api.TransferDone })
	if got := fileHash(t, filepath.Join(downloads, "video.mp4")); got != want {
		t.Fatalf("hash after resume %s, want %s", got, want)
	}
	// The sender logs each attempt's counters; the last one resumed.
	m := regexp.MustCompile(`msg="transfer attempt ended" id=`+id+` .*bytes=(\d+) .*resumed=(\d+)`).FindAllStringSubmatch(alice.daemon.output(), -1)
	if len(m) == 0 {
		t.Fatalf("no attempt counters in alice's log:\n%s", alice.daemon.output())
	}
	last := m[len(m)-1]
	resumed, _ := strconv.ParseInt(last[2], 10, 64)
	const chunk = 1 << 20
	if resent := had - resumed; resent > 4*chunk {
		t.Fatalf("bob had %d bytes on disk, the resume kept %d: %d bytes (%d chunks) re-sent, want at most 4 chunks",
			had, resumed, resent, resent/chunk)
	}
	if p := partials(t, downloads); len(p) != 0 {
		t.Errorf("partial files left: %v", p)
	}
}

// TestRejectAndCancel: an offer rejected by the receiver and a transfer
// cancelled half way by the sender both leave no partial file behind.
func TestRejectAndCancel(t *testing.T) {
	_, alice, bob, downloads := pairForFiles(t, "--ask-files")
	src := t.TempDir()
	small := filepath.Join(src, "minutes.txt")
	os.WriteFile(small, []byte("minutes of the meeting\n"), 0o644)
	id := alice.sendNoWait(t, "bob", small)
	bob.waitTransfer(t, id, 15*time.Second, "offered", func(tr api.Transfer) bool { return tr.State == api.TransferOffered })
	if out := bob.must(t, "transfers"); !strings.Contains(out, "lanchat accept ID") {
		t.Fatalf("transfers does not say how to accept:\n%s", out)
	}
	bob.must(t, "reject", id[:8])
	alice.waitTransfer(t, id, 15*time.Second, "rejected", func(tr api.Transfer) bool { return tr.State == api.TransferRejected })
	if entries, _ := os.ReadDir(downloads); len(entries) != 0 {
		t.Fatalf("a rejected offer left files: %v", entries)
	}

	// Accepted into a folder of the user's choice.
	id = alice.sendNoWait(t, "bob", small)
	bob.waitTransfer(t, id, 15*time.Second, "offered", func(tr api.Transfer) bool { return tr.State == api.TransferOffered })
	elsewhere := filepath.Join(t.TempDir(), "incoming")
	bob.must(t, "accept", id, "--to", elsewhere)
	alice.waitTransfer(t, id, 15*time.Second, "done", func(tr api.Transfer) bool { return tr.State == api.TransferDone })
	if b, err := os.ReadFile(filepath.Join(elsewhere, "minutes.txt")); err != nil || string(b) != "minutes of the meeting\n" {
		t.Fatalf("accepted file: %q, %v", b, err)
	}

	// Cancelled by the sender half way.
	big := filepath.Join(src, "big.bin")
	randomFile(t, big, 256<<20, 9)
	id = alice.sendNoWait(t, "bob", big)
	bob.waitTransfer(t, id, 15*time.Second, "offered", func(tr api.Transfer) bool { return tr.State == api.TransferOffered })
	bob.must(t, "accept", id)
	bob.waitTransfer(t, id, 60*time.Second, "started", func(tr api.Transfer) bool { return tr.Done > 0 })
	alice.must(t, "cancel", id)
	alice.waitTransfer(t, id, 15*time.Second, "cancelled", func(tr api.Transfer) bool { return tr.State == api.TransferCancelled })
	bob.waitTransfer(t, id, 15*time.Second, "cancelled", func(tr api.Transfer) bool { return tr.State == api.TransferCancelled })
	eventually(t, 10*time.Second, func() (bool, string) {
		p := partials(t, downloads)
		return len(p) == 0, fmt.Sprintf("partial files after cancel: %v", p)
	})
	if _, err := os.Stat(filepath.Join(downloads, "big.bin")); err == nil {
		t.Fatalf("a cancelled file was put in place")
	}
}

// TestTwoTransfersAndOffline: two transfers at once both complete, and a
// transfer to a recipient whose daemon is stopped is queued and goes by
// itself when he is back.
func TestTwoTransfersAndOffline(t *testing.T) {
	_, alice, bob, downloads := pairForFiles(t)
	src := t.TempDir()
	one, two := filepath.Join(src, "one.bin"), filepath.Join(src, "two.bin")
	h1, h2 := randomFile(t, one, 32<<20, 11), randomFile(t, two, 32<<20, 12)
	id1, id2 := alice.sendNoWait(t, "bob", one), alice.sendNoWait(t, "bob", two)
	for _, id := range []string{id1, id2} {
		alice.waitTransfer(t, id, 60*time.Second, "done", func(tr api.Transfer) bool { return tr.State == api.TransferDone })
	}
	if fileHash(t, filepath.Join(downloads, "one.bin")) != h1 || fileHash(t, filepath.Join(downloads, "two.bin")) != h2 {
		t.Fatalf("concurrent transfers arrived corrupted")
	}

	bob.stop(t)
	later := filepath.Join(src, "later.bin")
	h3 := randomFile(t, later, 8<<20, 13)
	out := alice.must(t, "send-file", "bob", later)
	if !strings.Contains(out, "queued") {
		t.Fatalf("send-file to a stopped daemon: %q", out)
	}
	bob.start(t)
	eventually(t, 60*time.Second, func() (bool, string) {
		_, err := os.Stat(filepath.Join(downloads, "later.bin"))
		return err == nil, "later.bin has not arrived"
	})
	if fileHash(t, filepath.Join(downloads, "later.bin")) != h3 {
		t.Fatalf("queued transfer arrived corrupted")
	}
}
