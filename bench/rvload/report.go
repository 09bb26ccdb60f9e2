package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// report prints the run's Markdown report: machine, command lines, the
// table and the notes.
func (b *bench) report(w io.Writer, args []string) {
	fmt.Fprintf(w, "## rendezvous server benchmark\n\n")
	fmt.Fprintf(w, "- date: %s (run took %v)\n", b.start.UTC().Format(time.RFC3339), b.elapsed.Round(time.Second))
	fmt.Fprintf(w, "- machine: %s\n", machine())
	if b.loadavg != "" {
		fmt.Fprintf(w, "- load average at the start: %s (anything but 0 means other work shared the CPUs)\n", b.loadavg)
	}
	fmt.Fprintf(w, "- Go: %s (rvload; built with the same toolchain as the server by bench/run.sh)\n", runtime.Version())
	fmt.Fprintf(w, "- load generator: `%s`\n", shellQuote(args))
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

// machine describes this machine: CPUs, memory, kernel.
func machine() string {
	parts := []string{fmt.Sprintf("%d CPUs (nproc)", runtime.NumCPU())}
	if m := cpuModel(); m != "" {
		parts[0] += ", " + m
	}
	if kb := memTotalKB(); kb > 0 {
		parts = append(parts, fmt.Sprintf("%.1f GiB RAM", float64(kb)/(1<<20)))
	}
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		parts = append(parts, runtime.GOOS+" "+strings.TrimSpace(string(rel)))
	} else {
		parts = append(parts, runtime.GOOS)
	}
	return strings.Join(parts, ", ")
}

// procField returns the value of the first line of a /proc file that
// starts with key, or "".
func procField(path, key string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			return strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(rest), ":"))
		}
	}
	return ""
}

// loadAverage returns the 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string { return procField("/proc/cpuinfo", "model name") }

func memTotalKB() int64 {
	f := strings.Fields(procField("/proc/meminfo", "MemTotal"))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}

// processCommand returns the command line of process pid.
func processCommand(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return "unknown"
	}
	return shellQuote(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"))
}

// openFileLimit returns process pid's soft descriptor limit.
func openFileLimit(pid int) string {
	f := strings.Fields(procField(fmt.Sprintf("/proc/%d/limits", pid), "Max open files"))
	if len(f) < 2 {
		return ""
	}
	return f[0] + " (soft), " + f[1] + " (hard)"
}

// shellQuote joins args as a shell would need them typed.
func shellQuote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,+@%", r))
		}) < 0 {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}
