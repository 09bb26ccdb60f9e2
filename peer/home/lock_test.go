package home

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lockHelperEnv makes the test binary a helper process that locks the
// directory it names, says so on stdout and holds the lock until its stdin
// closes (or it is killed).
const lockHelperEnv = "LANCHAT_HOME_TEST_LOCK_HELPER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(lockHelperEnv); dir != "" {
		os.Exit(lockHelper(dir))
	}
	os.Exit(m.Run())
}

func lockHelper(dir string) int {
	h, err := Open(dir)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	unlock, err := h.Lock()
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	unlock()
	return 0
}

// lockInChild starts a process that holds the lock of dir; release ends it
// gracefully, kill abruptly.
func lockInChild(t *testing.T, dir string) (release, kill func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The helper prints one line once it holds the lock (or failed to).
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q, %v; want locked", line, err)
	}
	waited := make(chan error, 1)
	go func() {
		io.Copy(io.Discard, stdout) // Wait closes the pipe: drain it first
		waited <- cmd.Wait()
	}()
	wait := func() {
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			t.Fatal("helper process did not exit")
		}
	}
	var done bool
	release = func() {
		if !done {
			done = true
			stdin.Close()
			wait()
		}
	}
	kill = func() {
		if !done {
			done = true
			cmd.Process.Kill()
			wait()
		}
	}
	t.Cleanup(kill)
	return release, kill
}

func TestLock(t *testing.T) {
	h := open(t)
	unlock, err := h.Lock()
	if err != nil {
		t.Fatal(err)
	}
	if got := perm(t, filepath.Join(h.Dir(), lockFile)); got != 0o600 {
		t.Errorf("lock file mode %04o, want 0600", got)
	}

	// The same Home and another Open of the directory both find it taken:
	// each Lock opens its own file description, so flock tells them apart
	// even inside one process.
	h2, err := Open(h.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for name, hh := range map[string]*Home{"same Home": h, "second Open": h2} {
		u, err := hh.Lock()
		if !errors.Is(err, ErrLocked) {
			if u != nil {
				u()
			}
			t.Fatalf("%s: Lock() while locked: err = %v, want ErrLocked", name, err)
		}
		if !strings.Contains(err.Error(), h.Dir()) {
			t.Errorf("%s: err = %q, want it to name %s", name, err, h.Dir())
		}
	}

	unlock()
	unlock2, err := h2.Lock()
	if err != nil {
		t.Fatalf("Lock() after unlock: %v", err)
	}
	if _, err := h.Lock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("Lock() while the second Open holds it: err = %v, want ErrLocked", err)
	}
	unlock2()
	unlock3, err := h.Lock()
	if err != nil {
		t.Fatalf("Lock() after the second unlock: %v", err)
	}
	unlock3()
}

func TestLockOtherDirectories(t *testing.T) {
	a, b := open(t), open(t)
	ua, err := a.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer ua()
	ub, err := b.Lock()
	if err != nil {
		t.Fatalf("locking one directory blocked another: %v", err)
	}
	ub()
}

func TestLockAcrossProcesses(t *testing.T) {
	tests := []struct {
		name string
		end  func(release, kill func())
	}{
		{"released", func(release, kill func()) { release() }},
		// The kernel drops an flock when its process dies, however it
		// dies: no stale lock survives a crashed daemon.
		{"killed", func(release, kill func()) { kill() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := open(t)
			release, kill := lockInChild(t, h.Dir())
			if u, err := h.Lock(); !errors.Is(err, ErrLocked) {
				if u != nil {
					u()
				}
				t.Fatalf("Lock() while another process holds it: err = %v, want ErrLocked", err)
			}
			tt.end(release, kill)
			unlock, err := h.Lock()
			if err != nil {
				t.Fatalf("Lock() after the other process ended: %v", err)
			}
			unlock()
		})
	}
}
