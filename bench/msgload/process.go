package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// stopWait is how long a process may take to stop after SIGTERM before it
// is killed.
const stopWait = 10 * time.Second

// proc is one child process msgload started, its output going to a log
// file. msgload signals only these, by their process ids.
type proc struct {
	name string
	args []string // the command line, binary first
	log  string   // path of the file holding its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // what Wait said, valid after done

	stopped bool // stop was called
}

// startProc runs bin with args, its output in logPath.
func startProc(name, logPath, bin string, args ...string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer f.Close() // the child has its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, args: append([]string{bin}, args...), log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid is the process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitOutput waits until the process's output has a line matching re and
// returns the line's first submatch (or the whole match).
func (p *proc) waitOutput(ctx context.Context, re *regexp.Regexp, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		b, _ := os.ReadFile(p.log)
		if m := re.FindSubmatch(b); m != nil {
			return string(m[len(m)-1]), nil
		}
		if p.exited() {
			return "", fmt.Errorf("%s exited (%v) before printing %q; its output:\n%s", p.name, p.err, re, p.tail(20))
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s did not print %q in %v; its output:\n%s", p.name, re, timeout, p.tail(20))
		case <-t.C:
		}
	}
}

// stop ends the process with SIGTERM, then SIGKILL if it does not go
// within stopWait, and waits for it. It reports how the process ended
// when that was not a clean exit after SIGTERM. Calls after the first do
// nothing.
func (p *proc) stop() error {
	if p.stopped {
		return nil
	}
	p.stopped = true
	if p.exited() {
		return fmt.Errorf("%s had already exited: %v", p.name, p.err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s (pid %d): %w", p.name, p.pid(), err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s (pid %d) exited after SIGTERM: %v", p.name, p.pid(), p.err)
		}
		return nil
	case <-time.After(stopWait):
	}
	p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s (pid %d) ignored SIGTERM for %v and was killed", p.name, p.pid(), stopWait)
}

// tail returns the last n lines of the process's output.
func (p *proc) tail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return "(no output: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// warnings returns how many lines of the process's output are slog
// warnings or errors, and the first few of them.
func (p *proc) warnings(first int) (int, []string) {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return 0, nil
	}
	n := 0
	var out []string
	for line := range bytes.Lines(b) {
		if bytes.Contains(line, []byte("level=WARN")) || bytes.Contains(line, []byte("level=ERROR")) {
			n++
			if len(out) < first {
				out = append(out, strings.TrimSpace(string(line)))
			}
		}
	}
	return n, out
}
