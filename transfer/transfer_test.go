package transfer

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/transfer/transfertest"
)

func TestSendFile(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	want := randomFile(t, filepath.Join(src, "big.bin"), 5<<20+12345)

	var mu sync.Mutex
	var statuses []Status
	r := newReceiver(t, dst, transfertest.NewMemProgress(), func(c *ReceiverConfig) {
		c.ProgressInterval = 10 * time.Millisecond
		c.OnProgress = func(s Status) { mu.Lock(); statuses = append(statuses, s); mu.Unlock() }
	})
	out := serveConn(t, r, p.ba)

	o, err := NewOffer(filepath.Join(src, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var sent Status
	res, err := Send(context.Background(), p.ab, o, SendOptions{OnProgress: func(s Status) {
		if s.Final {
			sent = s
		}
	}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Bytes != int64(len(want)) || res.Chunks != 6 || res.Resumed != 0 {
		t.Errorf("send result %+v", res)
	}
	got := waitOutcome(t, out)
	if got.err != nil {
		t.Fatalf("receive: %v", got.err)
	}
	if !slices.Equal(got.res.Paths, []string{"big.bin"}) || got.res.Bytes != int64(len(want)) {
		t.Errorf("receive result %+v", got.res)
	}
	mustEqual(t, "big.bin", readFile(t, filepath.Join(dst, "big.bin")), want)
	if len(partials(t, dst)) != 0 {
		t.Errorf("partial files left: %v", partials(t, dst))
	}

	if !sent.Final || sent.Err != nil || sent.Bytes != int64(len(want)) || sent.Files != 1 || !sent.Sending {
		t.Errorf("final sender status %+v", sent)
	}
	mu.Lock()
	defer mu.Unlock()
	last := statuses[len(statuses)-1]
	if !last.Final || last.Err != nil || last.Bytes != int64(len(want)) || last.Total != int64(len(want)) || last.Files != 1 || last.FilesTotal != 1 {
		t.Errorf("final receiver status %+v", last)
	}
	for i := 1; i < len(statuses); i++ {
		if statuses[i].Bytes < statuses[i-1].Bytes {
			t.Errorf("progress went backwards: %+v then %+v", statuses[i-1], statuses[i])
		}
	}
}

// A folder tree with nested folders, empty files and folders, and a
// symbolic link, on two data streams: the link is skipped and listed,
// everything else arrives as it was, modes and times included.
func TestSendFolder(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	tree := filepath.Join(src, "project")
	randomFile(t, filepath.Join(tree, "README"), 1000)
	randomFile(t, filepath.Join(tree, "src", "main.go"), 3<<20+7)
	randomFile(t, filepath.Join(tree, "src", "deep", "er", "x.dat"), 1<<20)
	randomFile(t, filepath.Join(tree, "src", "deep", "small"), 1)
	randomFile(t, filepath.Join(tree, "empty.txt"), 0)
	if err := os.MkdirAll(filepath.Join(tree, "empty-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(tree, "src", "deep", "small"), 0o755); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	os.Chtimes(filepath.Join(tree, "README"), mtime, mtime)
	if err := os.Symlink("/etc/passwd", filepath.Join(tree, "link")); err != nil {
		t.Fatal(err)
	}

	r := newReceiver(t, dst, transfertest.NewMemProgress(), nil)
	out := serveConn(t, r, p.ba)
	o, err := NewOffer(tree)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Skipped) != 1 || o.Skipped[0].Path != filepath.Join(tree, "link") || o.Skipped[0].Reason != "symbolic link" {
		t.Errorf("skipped %+v", o.Skipped)
	}
	if _, err := Send(context.Background(), p.ab, o, SendOptions{Streams: 2}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := waitOutcome(t, out); got.err != nil {
		t.Fatalf("receive: %v", got.err)
	}
	os.Remove(filepath.Join(tree, "link"))
	sameTree(t, src, dst)
	info, err := os.Stat(filepath.Join(dst, "project", "src", "deep", "small"))
	// Executable there, executable here for its owner: TestReceivedFileMode.
	if want := os.FileMode(0o766) &^ os.FileMode(r.umask); err != nil || info.Mode().Perm() != want {
		t.Errorf("mode of small: %v, %v; want %v", info.Mode(), err, want)
	}
	info, err = os.Stat(filepath.Join(dst, "project", "README"))
	if err != nil || !info.ModTime().Equal(mtime) {
		t.Errorf("mtime of README: %v, %v", info.ModTime(), err)
	}
}

// Files and folders that exist are never overwritten or merged into:
// what arrives takes the next free name.
func TestNoOverwrite(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	report := randomFile(t, filepath.Join(src, "report.pdf"), 2000)
	photo := randomFile(t, filepath.Join(src, "photos", "a.jpg"), 3000)
	oldReport := randomFile(t, filepath.Join(dst, "report.pdf"), 10)
	randomFile(t, filepath.Join(dst, "report (1).pdf"), 10)
	oldPhoto := randomFile(t, filepath.Join(dst, "photos", "a.jpg"), 10)

	r := newReceiver(t, dst, transfertest.NewMemProgress(), nil)
	out := serveConn(t, r, p.ba)
	o, err := NewOffer(filepath.Join(src, "report.pdf"), filepath.Join(src, "photos"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Send(context.Background(), p.ab, o, SendOptions{}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := waitOutcome(t, out)
	if got.err != nil {
		t.Fatalf("receive: %v", got.err)
	}
	if want := []string{"report (2).pdf", "photos (1)", "photos (1)/a.jpg"}; !slices.Equal(got.res.Paths, want) {
		t.Errorf("paths %q, want %q", got.res.Paths, want)
	}
	mustEqual(t, "new report", readFile(t, filepath.Join(dst, "report (2).pdf")), report)
	mustEqual(t, "new photo", readFile(t, filepath.Join(dst, "photos (1)", "a.jpg")), photo)
	mustEqual(t, "old report", readFile(t, filepath.Join(dst, "report.pdf")), oldReport)
	mustEqual(t, "old photo", readFile(t, filepath.Join(dst, "photos", "a.jpg")), oldPhoto)
}

// Two transfers at once on one connection, into one folder, with the
// same file name: both complete, neither overwrites the other.
func TestConcurrentTransfers(t *testing.T) {
	p := newPair(t)
	src1, src2, dst := t.TempDir(), t.TempDir(), t.TempDir()
	a := randomFile(t, filepath.Join(src1, "same.bin"), 3<<20+1)
	b := randomFile(t, filepath.Join(src2, "same.bin"), 2<<20+2)
	r := newReceiver(t, dst, transfertest.NewMemProgress(), nil)
	out := serveConn(t, r, p.ba)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, src := range []string{src1, src2} {
		o, err := NewOffer(filepath.Join(src, "same.bin"))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { _, errs[i] = Send(context.Background(), p.ab, o, SendOptions{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	for range 2 {
		if got := waitOutcome(t, out); got.err != nil {
			t.Fatalf("receive: %v", got.err)
		}
	}
	x, y := readFile(t, filepath.Join(dst, "same.bin")), readFile(t, filepath.Join(dst, "same (1).bin"))
	if len(x) != len(a) {
		x, y = y, x
	}
	mustEqual(t, "first", x, a)
	mustEqual(t, "second", y, b)
}
