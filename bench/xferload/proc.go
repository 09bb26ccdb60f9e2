package main

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

	"github.com/lanchat/lanchat/bench/internal/sysinfo"
)

// stopWait is how long a process may take to stop after SIGTERM before it
// is killed.
const stopWait = 10 * time.Second

// proc is one child process xferload started, its output going to a log
// file. xferload signals only these, by their process ids.
type proc struct {
	name string
	args []string // the command line as run, ip netns exec included
	log  string   // path of the file holding its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // what Wait said, valid after done
	peak *peakWatch    // its VmHWM, followed until it exits

	stopOnce sync.Once
	stopErr  error
}

// procs starts processes and remembers them, so that every one still
// running when the benchmark ends is stopped.
type procs struct {
	dir string // where the logs go

	mu   sync.Mutex
	all  []*proc
	seen map[string]int // log names used, for unique file names
}

// start runs bin with args, in network namespace ns unless ns is "",
// with env added to xferload's environment, its output in a log file
// named after name.
func (ps *procs) start(name, ns string, env []string, bin string, args ...string) (*proc, error) {
	argv := append([]string{bin}, args...)
	if ns != "" {
		// ip execs the command after entering the namespace, so the
		// process id is the command's own.
		argv = append([]string{"ip", "netns", "exec", ns}, argv...)
	}
	ps.mu.Lock()
	if ps.seen == nil {
		ps.seen = map[string]int{}
	}
	ps.seen[name]++
	logPath := fmt.Sprintf("%s/%s.%d.log", ps.dir, strings.ReplaceAll(name, "/", "_"), ps.seen[name])
	ps.mu.Unlock()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer f.Close() // the child has its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, args: argv, log: logPath, cmd: cmd, done: make(chan struct{})}
	p.peak = followPeak(cmd.Process.Pid, p.done)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.all = append(ps.all, p)
	ps.mu.Unlock()
	return p, nil
}

// stopAll stops every process still running, newest first.
func (ps *procs) stopAll() error {
	ps.mu.Lock()
	all := append([]*proc(nil), ps.all...)
	ps.mu.Unlock()
	var errs []error
	for i := len(all) - 1; i >= 0; i-- {
		if p := all[i]; !p.exited() {
			errs = append(errs, p.stop())
		}
	}
	return errors.Join(errs...)
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

// wait waits up to timeout for the process to exit by itself and returns
// how it ended. If it does not, or ctx ends first, it is stopped.
func (p *proc) wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s: %v; its output ends:\n%s", p.name, p.err, p.tail(15))
		}
		return nil
	case <-ctx.Done():
		p.stop()
		return fmt.Errorf("%s: %w", p.name, context.Cause(ctx))
	case <-t.C:
		p.stop()
		return fmt.Errorf("%s did not finish in %v and was stopped; its output ends:\n%s", p.name, timeout, p.tail(15))
	}
}

// waitOutput waits until the process's output has a line matching re and
// returns the match's last submatch (or the whole match).
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
// within stopWait, and waits for it. It reports a process that had to
// be killed. Calls after the first return the first one's answer.
func (p *proc) stop() error {
	p.stopOnce.Do(func() {
		if p.exited() {
			return
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			p.stopErr = fmt.Errorf("stop %s (pid %d): %w", p.name, p.pid(), err)
			return
		}
		select {
		case <-p.done:
			return
		case <-time.After(stopWait):
		}
		p.cmd.Process.Kill()
		<-p.done
		p.stopErr = fmt.Errorf("%s (pid %d) ignored SIGTERM for %v and was killed", p.name, p.pid(), stopWait)
	})
	return p.stopErr
}

// usage returns the CPU time (user and system, from wait4) and the peak
// resident set size (VmHWM, last read at most sampleEvery before the
// exit) of a process that has exited, or -1 for what is unknown. The
// rusage's maxrss is no use here: a child that Go starts shares
// xferload's memory until it execs, and Linux counts that in.
func (p *proc) usage() (cpu time.Duration, maxRSS int64) {
	if !p.exited() || p.cmd.ProcessState == nil {
		return -1, -1
	}
	cpu = p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	return cpu, p.peak.max()
}

// output returns everything the process printed.
func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// tail returns the last n lines of the process's output.
func (p *proc) tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.output(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// command is the process's command line as it could be typed again.
func (p *proc) command() string { return sysinfo.ShellQuote(p.args) }

// run runs a short command (ip, tc, df) and returns its output; a
// failure carries the output.
func run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %v: %s", sysinfo.ShellQuote(append([]string{name}, args...)), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// warnings returns how many lines of the process's output are slog
// warnings or errors, and the first few of them.
func (p *proc) warnings(first int) (int, []string) {
	n := 0
	var out []string
	for _, line := range strings.Split(p.output(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			n++
			if len(out) < first {
				out = append(out, strings.TrimSpace(line))
			}
		}
	}
	return n, out
}
