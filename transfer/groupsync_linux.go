//go:build linux

package transfer

import (
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// groupSyncer makes the data of many small complete files durable with
// one syncfs(2) of the destination's file system per group, instead of
// one fsync per file: files whose data is written and whose partial file
// is closed wait in wait; the first starts a sync, and those arriving
// while it runs form the next group. A sync starts after every file of
// its group was closed, so it covers their data, size, mode and time.
type groupSyncer struct {
	dir *os.File // the destination, open before any file was written

	mu      sync.Mutex
	pending []chan error // the next group
	running bool         // a sync is in flight or about to start
}

// A group waits up to groupDelay for files to join it, unless it has
// groupFiles already.
const (
	groupFiles = 64
	groupDelay = 2 * time.Millisecond
)

// newGroupSyncer opens the destination folder of root for syncfs. It
// must be called before the files it will sync are written: syncfs
// reports the write-back errors seen since this descriptor was opened.
func newGroupSyncer(root *os.Root) *groupSyncer {
	d, err := root.Open(".")
	if err != nil {
		return nil // seal falls back to a sync per file
	}
	return &groupSyncer{dir: d}
}

// wait returns once a syncfs started after the call has completed.
func (g *groupSyncer) wait() error {
	ch := make(chan error, 1)
	g.mu.Lock()
	g.pending = append(g.pending, ch)
	if !g.running {
		g.running = true
		go g.loop()
	}
	g.mu.Unlock()
	return <-ch
}

// loop syncs group after group until no file waits.
func (g *groupSyncer) loop() {
	for {
		g.mu.Lock()
		if n := len(g.pending); n > 0 && n < groupFiles {
			// Let the files on their way join the group.
			g.mu.Unlock()
			time.Sleep(groupDelay)
			g.mu.Lock()
		}
		group := g.pending
		g.pending = nil
		if len(group) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		err := unix.Syncfs(int(g.dir.Fd()))
		if err != nil {
			err = fmt.Errorf("syncfs: %w", err)
		}
		for _, ch := range group {
			ch <- err
		}
	}
}

// close releases the destination folder; no wait may be in progress.
func (g *groupSyncer) close() {
	if g != nil {
		g.dir.Close()
	}
}
