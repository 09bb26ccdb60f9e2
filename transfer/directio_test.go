package transfer

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/lanchat/lanchat/internal/directio"
	"github.com/lanchat/lanchat/transfer/transfertest"
)

// directSupported reports whether dir's file system takes direct I/O, as
// openDirect asks for it.
func directSupported(t *testing.T, dir string) bool {
	t.Helper()
	if runtime.GOOS != "linux" {
		return false
	}
	if err := os.WriteFile(filepath.Join(dir, "probe"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(filepath.Join(dir, "probe"))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	f := openDirect(root, "probe")
	if f == nil {
		return false
	}
	defer f.Close()
	_, err = f.WriteAt(directio.Bytes(directio.Align), 0)
	return err == nil
}

// sendOne sends the file at path to a fresh receiver into dst, over the
// default data streams, with mod applied to the receiver's
// configuration, and returns the receiver's result.
func sendOne(t *testing.T, path, dst string, mod func(*ReceiverConfig)) *Result {
	t.Helper()
	p := newPair(t)
	r := newReceiver(t, dst, transfertest.NewMemProgress(), mod)
	out := serveConn(t, r, p.ba)
	o, err := NewOffer(path)
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
	return got.res
}

// A big file's whole chunks are written past the page cache, its short
// last chunk through it; a small file goes through it entirely.
func TestDirectWrites(t *testing.T) {
	dst := t.TempDir()
	if !directSupported(t, dst) {
		t.Skipf("the file system of %s takes no direct I/O", dst)
	}
	for _, tc := range []struct {
		name   string
		size   int
		direct int64
	}{
		{"big file", directMinSize + 777, directMinSize},
		{"small file", directMinSize - ChunkSize, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := t.TempDir(), t.TempDir()
			want := randomFile(t, filepath.Join(src, "f"), tc.size)
			res := sendOne(t, filepath.Join(src, "f"), dst, nil)
			mustEqual(t, "f", readFile(t, filepath.Join(dst, "f")), want)
			if res.Direct != tc.direct || res.Bytes != int64(tc.size) {
				t.Errorf("received %d bytes, %d of them with direct I/O: want %d, %d", res.Bytes, res.Direct, tc.size, tc.direct)
			}
			if len(partials(t, dst)) != 0 {
				t.Errorf("partial files left: %v", partials(t, dst))
			}
		})
	}
}

// A file system that refuses a direct write gets that chunk and the
// rest through the page cache, and the file arrives whole.
func TestDirectRefused(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	if !directSupported(t, dst) {
		t.Skipf("the file system of %s takes no direct I/O", dst)
	}
	want := randomFile(t, filepath.Join(src, "f"), directMinSize+3*ChunkSize)
	var refused atomic.Int64
	res := sendOne(t, filepath.Join(src, "f"), dst, func(c *ReceiverConfig) {
		c.writeHook = func(_ int, off int64, _ int) error {
			// The first write of the chunk at 2 MiB is the direct one.
			if off == 2*ChunkSize && refused.Add(1) == 1 {
				return syscall.EINVAL
			}
			return nil
		}
	})
	mustEqual(t, "f", readFile(t, filepath.Join(dst, "f")), want)
	if refused.Load() != 2 {
		t.Errorf("the chunk at 2 MiB was written %d times: want a refused direct write, then a buffered one", refused.Load())
	}
	if res.Direct >= int64(len(want)) || res.Direct%ChunkSize != 0 {
		t.Errorf("%d bytes with direct I/O of %d: want fewer, once refused", res.Direct, len(want))
	}
}
