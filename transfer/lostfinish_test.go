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

// lostFinish stands for a receiver killed right after it put entry 0 in
// place but before its Finish reached the disk: that Finish is dropped.
type lostFinish struct {
	Progress
	once     sync.Once
	finished chan struct{}
}

func (p *lostFinish) Finish(ctx context.Context, id string, entry int, path string) error {
	if entry == 0 {
		p.once.Do(func() { close(p.finished) })
		return nil
	}
	return p.Progress.Finish(ctx, id, entry, path)
}

// A file already in place whose Finish was lost is recognised when the
// transfer resumes: it is not put next to itself as "a (1).bin".
func TestLostFinishNoDuplicate(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	a := randomFile(t, filepath.Join(src, "a.bin"), 2<<20+5)
	b := randomFile(t, filepath.Join(src, "b.bin"), 6<<20)
	prog := transfertest.NewMemProgress()
	o, err := NewOffer(filepath.Join(src, "a.bin"), filepath.Join(src, "b.bin"))
	if err != nil {
		t.Fatal(err)
	}
	lf := &lostFinish{Progress: prog, finished: make(chan struct{})}
	ba := p.ba
	var once sync.Once
	r := newReceiver(t, dst, lf, func(c *ReceiverConfig) {
		c.writeHook = func(entry int, off int64, _ int) error {
			if entry == 1 && off >= 2*ChunkSize {
				select {
				case <-lf.finished:
				case <-time.After(10 * time.Second):
				}
				once.Do(func() { ba.CloseWithError(0, "test: receiver killed") })
			}
			return nil
		}
	})
	out := serveConn(t, r, p.ba)
	if _, err := Send(context.Background(), p.ab, o, SendOptions{}); err == nil {
		t.Fatal("first Send succeeded through a closed connection")
	}
	waitOutcome(t, out)
	r.Close()
	p.redial(t)
	if _, err := os.Stat(filepath.Join(dst, "a.bin")); err != nil {
		t.Fatalf("a.bin was not put in place by the first attempt: %v", err)
	}

	resume(t, p, o, dst, prog, SendOptions{}, nil)
	entries, _ := os.ReadDir(dst)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"a.bin", "b.bin"}) {
		t.Fatalf("destination holds %q, want just a.bin and b.bin", names)
	}
	mustEqual(t, "a.bin", readFile(t, filepath.Join(dst, "a.bin")), a)
	mustEqual(t, "b.bin", readFile(t, filepath.Join(dst, "b.bin")), b)
}
