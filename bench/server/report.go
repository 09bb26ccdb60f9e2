package server

import (
	"fmt"
	"github.com/lanchat/lanchat/internal/testbed"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/sysinfo"
)

// report prints the run's Markdown report: machine, command lines, the
// table and the notes.
func (b *bench) report(w io.Writer, args []string) {
	fmt.Fprintf(w, "## rendezvous server benchmark\n\n")
	fmt.Fprintf(w, "- date: %s (run took %v)\n", b.start.UTC().Format(time.RFC3339), b.elapsed.Round(time.Second))
	fmt.Fprintf(w, "- machine: %s\n", sysinfo.Machine())
	if b.loadavg != "" {
		fmt.Fprintf(w, "- load average at the start: %s (anything but 0 means other work shared the CPUs)\n", b.loadavg)
	}
	fmt.Fprintf(w, "- Go: %s (rvload; built with the same toolchain as the server by bench/run.sh)\n", runtime.Version())
	fmt.Fprintf(w, "- load generator: `%s`\n", testbed.ShellQuote(args))
	if pid := b.cfg.serverPID; pid > 0 {
		fmt.Fprintf(w, "- server (pid %d): `%s`\n", pid, processCommand(pid))
		if lim := openFileLimit(pid); lim != "" {
			fmt.Fprintf(w, "- server descriptor limit: %s\n", lim)
		}
	}
	if b.hello != "" {
		fmt.Fprintf(w, "- server hello: %s\n", b.hello)
	}
	fmt.Fprintf(w, "- load generator and server share this machine's CPUs; CPU figures are in percent of one core (%d cores = %d%%)\n\n", runtime.NumCPU(), 100*runtime.NumCPU())
	fmt.Fprint(w, b.tab.markdown())
	if len(b.notes) > 0 {
		fmt.Fprintf(w, "\nNotes:\n\n")
		for _, n := range b.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

func cpuModel() string { return sysinfo.ProcField("/proc/cpuinfo", "model name") }

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
