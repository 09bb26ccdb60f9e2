package server

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/lanchat/lanchat/internal/testbed"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/sysinfo"
)

// report prints the run's Markdown report: machine, command lines, the
// table and the notes.
func (b *bench) report(w io.Writer, args []string) {
	r := cli.NewReport("rendezvous server benchmark", b.start, b.elapsed, b.loadavg, "rvload; built with the same toolchain as the server by bench/run.sh")
	r.Fact("load generator: `%s`", testbed.ShellQuote(args))
	if pid := b.cfg.serverPID; pid > 0 {
		r.Fact("server (pid %d): `%s`", pid, processCommand(pid))
		if lim := openFileLimit(pid); lim != "" {
			r.Fact("server descriptor limit: %s", lim)
		}
	}
	if b.hello != "" {
		r.Fact("server hello: %s", b.hello)
	}
	r.Fact("load generator and server share this machine's CPUs; CPU figures are in percent of one core (%d cores = %d%%)\n", runtime.NumCPU(), 100*runtime.NumCPU())
	r.WriteString(b.tab.markdown())
	r.List("Notes:", b.notes)
	io.WriteString(w, r.String())
}

// processCommand returns the command line of process pid.
func processCommand(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return "unknown"
	}
	return testbed.ShellQuote(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"))
}

// openFileLimit returns process pid's soft descriptor limit.
func openFileLimit(pid int) string {
	f := strings.Fields(sysinfo.ProcField(fmt.Sprintf("/proc/%d/limits", pid), "Max open files"))
	if len(f) < 2 {
		return ""
	}
	return f[0] + " (soft), " + f[1] + " (hard)"
}
