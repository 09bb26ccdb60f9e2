// Package e2e runs lanchat's real binaries as separate processes on
// loopback and checks what a user or operator would see.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
	cmd := exec.Command("go", "build", "-o", dir+"/", "../cmd/...")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bin returns the path of a built binary.
func bin(name string) string { return filepath.Join(binDir, name) }

// proc is a running child process whose output is collected.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
	err  error
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
	args := cmd.Args[1:]
	p := &proc{cmd: cmd, done: make(chan struct{})}
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	go func() {
		p.err = p.cmd.Wait()
		pw.Close()
		<-scanned // all output is in p.out before done
		close(p.done)
	}()
	t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("output of %s %s:\n%s", name, strings.Join(args, " "), p.output())
		}
	})
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *proc) signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(sig)
	}
}

// waitOutput waits until the output matches re and returns the first
// submatch (or the whole match).
func (p *proc) waitOutput(t *testing.T, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.output()); m != nil {
			return m[len(m)-1]
		}
		select {
		case <-p.done:
			if m := re.FindStringSubmatch(p.output()); m != nil {
				return m[len(m)-1]
			}
			t.Fatalf("process exited (%v) before printing %s; output:\n%s", p.err, re, p.output())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no %s within %v; output:\n%s", re, timeout, p.output())
	return ""
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("process still running after %v", timeout)
	}
	return p.cmd.ProcessState.ExitCode()
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
	reListening   = regexp.MustCompile(`rendezvous listening on (\S+)`)
	reFingerprint = regexp.MustCompile(`certificate fingerprint \(sha256\): ([0-9a-f]{64})`)
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
	args := append([]string{"serve", "--listen", addr, "--data", data}, extra...)
	p := start(t, "rendezvous", args...)
	fp := p.waitOutput(t, reFingerprint, 20*time.Second)
	got := p.waitOutput(t, reListening, 20*time.Second)
	return &rendezvous{proc: p, addr: got, fp: fp, data: data}
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
