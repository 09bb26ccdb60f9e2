package api

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestSocketReadyWhenVisible checks that the socket file never appears
// before it is ready: a client that sees the path must find it private
// (mode 0600) and accepting connections. Clients (the CLI, test
// harnesses) wait for the file, so a file that shows up early makes them
// fail with "no daemon running".
func TestSocketReadyWhenVisible(t *testing.T) {
	dir, err := os.MkdirTemp("", "lclisten")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for i := range 300 {
		path := filepath.Join(dir, "d.sock")
		var (
			wg       sync.WaitGroup
			stop     = make(chan struct{})
			badMode  os.FileMode
			dialFail error
		)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				fi, err := os.Lstat(path)
				if err != nil {
					continue
				}
				if fi.Mode().Perm() != 0o600 {
					badMode = fi.Mode().Perm()
				}
				c, err := net.Dial("unix", path)
				if err != nil {
					dialFail = err
				} else {
					c.Close()
				}
				return
			}
		}()
		ln, err := listen(path)
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatal(err)
		}
		wg.Wait()
		close(stop)
		ln.Close()
		os.Remove(path)
		if badMode != 0 {
			t.Fatalf("run %d: socket visible with mode %o before it was made private", i, badMode)
		}
		if dialFail != nil {
			t.Fatalf("run %d: socket visible before it accepted connections: %v", i, dialFail)
		}
	}
}
