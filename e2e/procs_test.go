// Package e2e runs lanchat's real binaries as separate processes on
// loopback and checks what a user or operator would see. The processes,
// the server and the LAN of network namespaces come from the test bed
// (internal/testbed); this file and lan_test.go give them the helper
// names the tests use.
package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/pgtest"
	"github.com/lanchat/lanchat/internal/testbed"
)

// binDir holds the binaries built once for all tests.
var binDir string

func TestMain(m *testing.M) {
	if helperMode() {
		return // a helper re-run of this binary (see forge_test.go) exits itself
	}
	dir, err := os.MkdirTemp("", "lanchat-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	if _, err := testbed.Build(context.Background(), dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := pgtest.Main(m) // m.Run, then stop the PostgreSQL cluster if a test started one
	os.RemoveAll(dir)
	os.Exit(code)
}

// bin returns the path of a built binary.
func bin(name string) string { return filepath.Join(binDir, name) }

// proc is a running child process whose output is collected.
type proc struct {
	*testbed.Process
	cmd *exec.Cmd
}

// start runs a binary with args, stopping it (by PID) when the test ends.
func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startCmd(t, exec.Command(bin(name), args...))
}

// startCmd runs cmd, collecting its output, and kills it (by PID) when the
// test ends.
func startCmd(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	name := filepath.Base(cmd.Path)
	p, err := testbed.StartCmd(name, filepath.Join(t.TempDir(), name+".log"), cmd)
	if err != nil {
		t.Fatal(err)
	}
	return own(t, p)
}

// own kills p (by PID) when the test ends and shows its output if the
// test failed.
func own(t *testing.T, p *testbed.Process) *proc {
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("output of %s:\n%s", p.Command(), p.Output())
		}
	})
	return &proc{Process: p, cmd: p.Cmd()}
}

func (p *proc) output() string { return p.Output() }

func (p *proc) signal(sig syscall.Signal) { p.Signal(sig) }

// waitOutput waits until the output matches re and returns the first
// submatch (or the whole match).
func (p *proc) waitOutput(t *testing.T, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	got, err := p.WaitLine(context.Background(), re, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(timeout):
		t.Fatalf("process still running after %v", timeout)
	}
	return p.ExitCode()
}

// freeAddr returns a loopback address with a port that was free just now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var (
	reListening   = testbed.ReListening
	reFingerprint = testbed.ReFingerprint
)

// rendezvous is a running server process.
type rendezvous struct {
	*proc
	addr string
	fp   string
	data string
}

// startRendezvous starts the server on addr with data directory data.
func startRendezvous(t *testing.T, addr, data string, extra ...string) *rendezvous {
	t.Helper()
	return startRendezvousIn(t, "", addr, data, extra...)
}

// startRendezvousIn starts the server through the test bed in network
// namespace ns ("" for this one), on addr with data directory data.
func startRendezvousIn(t *testing.T, ns, addr, data string, extra ...string) *rendezvous {
	t.Helper()
	s, err := testbed.StartServerCmd(context.Background(), ns, binDir, addr, data, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return &rendezvous{proc: own(t, s.Process), addr: s.Addr, fp: s.Fingerprint, data: data}
}

// run runs a binary to completion and returns its output and exit code.
func run(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin(name), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("run %s: %v", name, err)
		}
	}
	return string(out), cmd.ProcessState.ExitCode()
}
