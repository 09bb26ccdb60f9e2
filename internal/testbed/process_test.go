package testbed

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestProcessWaitLineAndStop(t *testing.T) {
	dir := t.TempDir()
	// A shell that prints a line, then waits to be told to stop.
	p, err := Start("sh", filepath.Join(dir, "sh.log"), "sh", "-c", `echo "ready on port 4242"; trap 'echo bye; exit 0' TERM; while :; do sleep 0.05; done`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.WaitLine(context.Background(), regexp.MustCompile(`ready on port (\d+)`), 10*time.Second)
	if err != nil || got != "4242" {
		t.Fatalf("WaitLine = %q, %v; want 4242", got, err)
	}
	if p.Exited() {
		t.Fatal("exited before Stop")
	}
	if s, err := ReadProc(itoa(p.PID())); err != nil || s.RSS <= 0 {
		t.Errorf("ReadProc of a running child = %+v, %v", s, err)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !p.Exited() || p.ExitCode() != 0 {
		t.Fatalf("after Stop: exited %v, code %d", p.Exited(), p.ExitCode())
	}
	if !strings.Contains(p.Output(), "bye") {
		t.Errorf("the log misses what the process printed on SIGTERM: %q", p.Output())
	}
	if cpu, _ := p.Usage(); cpu < 0 {
		t.Errorf("Usage of an exited process: cpu %v", cpu)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
}

func TestProcessWaitLineExited(t *testing.T) {
	p, err := Start("false", filepath.Join(t.TempDir(), "log"), "sh", "-c", "echo oops; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.WaitLine(context.Background(), regexp.MustCompile(`never`), 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "oops") {
		t.Fatalf("WaitLine on a process that exits = %v; want an error naming the exit and the output", err)
	}
	if p.ExitCode() != 3 {
		t.Errorf("exit code %d, want 3", p.ExitCode())
	}
}

func TestProcessKilledAfterStopWait(t *testing.T) {
	if testing.Short() {
		t.Skip("waits StopWait")
	}
	p, err := Start("stubborn", filepath.Join(t.TempDir(), "log"), "sh", "-c", `trap '' TERM; echo up; while :; do sleep 0.05; done`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitLine(context.Background(), regexp.MustCompile(`up`), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Stop of a process ignoring SIGTERM = %v; want it reported killed", err)
	}
}

func TestShellQuote(t *testing.T) {
	got := ShellQuote([]string{"ip", "netns", "exec", "a b", "it's", ""})
	want := `ip netns exec 'a b' 'it'\''s' ''`
	if got != want {
		t.Errorf("ShellQuote = %s, want %s", got, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestChildUsage(t *testing.T) {
	// A child that does nothing must not be charged with its parent's
	// memory, which it shares until it execs.
	small, err := Start("small", filepath.Join(t.TempDir(), "log"), "sleep", "0.3")
	if err != nil {
		t.Fatal(err)
	}
	if err := small.Wait(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if cpu, peak := small.Usage(); cpu < 0 || peak <= 0 || peak > 16<<20 {
		t.Errorf("sleep's usage: cpu %v, peak RSS %d", cpu, peak)
	}
	if !strings.Contains(small.Command(), "sleep 0.3") {
		t.Errorf("command %q", small.Command())
	}
}
