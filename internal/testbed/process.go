package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StopWait is how long a process may take to stop after SIGTERM before
// Stop kills it.
const StopWait = 10 * time.Second

// Process is one child process, its stdout and stderr going to a log
// file. The bed signals only its own processes, by their process ids.
type Process struct {
	Name string
	Args []string // the command line as run, binary first
	Log  string   // path of the file holding its output

	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and is reaped
	err  error         // what Wait said, valid after done
	peak *peakWatch    // its VmHWM, followed until it exits

	stopOnce sync.Once
	stopErr  error
}

// Start runs bin with args, its output in the file logPath.
func Start(name, logPath, bin string, args ...string) (*Process, error) {
	return StartCmd(name, logPath, exec.Command(bin, args...))
}

// StartCmd runs cmd (which must not have been started), its output in
// the file logPath. Its environment and attributes are the caller's;
// where it sets none, the child gets SIGTERM should this process die.
func StartCmd(name, logPath string, cmd *exec.Cmd) (*Process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer f.Close() // the child has its own descriptor
	cmd.Stdout, cmd.Stderr = f, f
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = childAttr()
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, Args: cmd.Args, Log: logPath, cmd: cmd, done: make(chan struct{})}
	p.peak = followPeak(cmd.Process.Pid, p.done)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Cmd is the command the process was started from.
func (p *Process) Cmd() *exec.Cmd { return p.cmd }

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is how the process ended (nil for exit status 0); valid once Done
// is closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// ExitCode is the process's exit status, -1 if a signal ended it; it
// waits for the process to end.
func (p *Process) ExitCode() int {
	<-p.done
	return p.cmd.ProcessState.ExitCode()
}

// Signal sends sig to the process unless it has already exited.
func (p *Process) Signal(sig os.Signal) {
	if !p.Exited() {
		p.cmd.Process.Signal(sig)
	}
}

// Wait waits up to timeout for the process to exit by itself and returns
// how it ended. If it does not, or ctx ends first, it is stopped.
func (p *Process) Wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s: %v; its output ends:\n%s", p.Name, p.err, p.Tail(15))
		}
		return nil
	case <-ctx.Done():
		p.Stop()
		return fmt.Errorf("%s: %w", p.Name, context.Cause(ctx))
	case <-t.C:
		p.Stop()
		return fmt.Errorf("%s did not finish in %v and was stopped; its output ends:\n%s", p.Name, timeout, p.Tail(15))
	}
}

// WaitLine waits until the process's output matches re and returns the
// match's last submatch (or the whole match).
func (p *Process) WaitLine(ctx context.Context, re *regexp.Regexp, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		exited := p.Exited() // before reading: what it printed is then all there
		out := p.Output()
		if !exited {
			out = out[:strings.LastIndexByte(out, '\n')+1] // whole lines only
		}
		if m := re.FindStringSubmatch(out); m != nil {
			return m[len(m)-1], nil
		}
		if exited {
			return "", fmt.Errorf("%s exited (%v) before printing %s; its output:\n%s", p.Name, p.err, re, p.Tail(20))
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s did not print %s in %v; its output:\n%s", p.Name, re, timeout, p.Tail(20))
		case <-t.C:
		}
	}
}

// Stop ends the process with SIGTERM, then SIGKILL if it does not go
// within StopWait, and waits for it. It reports a process that had to be
// killed or that failed after SIGTERM. Calls after the first return the
// first one's answer.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		if p.Exited() {
			return
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			p.stopErr = fmt.Errorf("stop %s (pid %d): %w", p.Name, p.PID(), err)
			return
		}
		select {
		case <-p.done:
			if p.err != nil {
				p.stopErr = fmt.Errorf("%s (pid %d) exited after SIGTERM: %v", p.Name, p.PID(), p.err)
			}
			return
		case <-time.After(StopWait):
		}
		p.cmd.Process.Kill()
		<-p.done
		p.stopErr = fmt.Errorf("%s (pid %d) ignored SIGTERM for %v and was killed", p.Name, p.PID(), StopWait)
	})
	return p.stopErr
}

// Kill ends the process with SIGKILL and waits for it.
func (p *Process) Kill() {
	p.Signal(syscall.SIGKILL)
	<-p.done
}

// Usage returns the CPU time (user and system, from wait4) and the peak
// resident set size (VmHWM, last read at most SampleEvery before the
// exit) of a process that has exited, or -1 for what is unknown. The
// rusage's maxrss is no use here: a child that Go starts shares its
// parent's memory until it execs, and Linux counts that in.
func (p *Process) Usage() (cpu time.Duration, maxRSS int64) {
	if !p.Exited() || p.cmd.ProcessState == nil {
		return -1, -1
	}
	cpu = p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	return cpu, p.peak.max()
}

// Output returns everything the process has printed so far.
func (p *Process) Output() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}

// Tail returns the last n lines of the process's output.
func (p *Process) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.Output(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Warnings returns how many lines of the process's output are slog
// warnings or errors, and the first few of them.
func (p *Process) Warnings(first int) (int, []string) {
	n := 0
	var out []string
	for _, line := range strings.Split(p.Output(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			n++
			if len(out) < first {
				out = append(out, strings.TrimSpace(line))
			}
		}
	}
	return n, out
}

// Command is the process's command line as it could be typed again.
func (p *Process) Command() string { return ShellQuote(p.Args) }

// ShellQuote joins args into one line a POSIX shell would split back
// into them.
func ShellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,+@%", r))
		}) < 0 {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

// Run runs a short command (ip, tc, df) and returns its output; a
// failure carries the output.
func Run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %v: %s", ShellQuote(append([]string{name}, args...)), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
