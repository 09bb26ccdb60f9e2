package cli

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/sysinfo"
	"github.com/lanchat/lanchat/internal/testbed"
)

// Run is what every subcommand's run keeps beside its measurements: its
// command line, when it started and under what load, where progress goes
// and the notes its report ends with.
type Run struct {
	Name     string   // the subcommand: "messaging"
	Args     []string // its arguments
	Start    time.Time
	Elapsed  time.Duration // set by the subcommand when the measuring ends
	Loadavg  string        // at the start
	Progress io.Writer
	Notes    []string
}

// NewRun starts the account of a run of subcommand name.
func NewRun(name string, args []string, progress io.Writer) Run {
	return Run{Name: name, Args: args, Start: time.Now(), Loadavg: sysinfo.LoadAverage(), Progress: progress}
}

// Say prints a progress line.
func (r *Run) Say(format string, args ...any) {
	fmt.Fprintf(r.Progress, "== "+format+"\n", args...)
}

// Note adds a line to the report's notes, once.
func (r *Run) Note(format string, args ...any) {
	if n := fmt.Sprintf(format, args...); !slices.Contains(r.Notes, n) {
		r.Notes = append(r.Notes, n)
	}
}

// Commands are the first lines of a report's list of commands: make
// bench (what part of it this is) and the run's own command line.
func (r *Run) Commands(part string) []string {
	return []string{
		fmt.Sprintf("`make bench` (its %s: `bench/run.sh` runs `bench %s`)", part, r.Name),
		"`" + testbed.ShellQuote(append([]string{os.Args[0], r.Name}, r.Args...)) + "`",
	}
}

// Report is the Markdown report every subcommand prints and writes to
// --out: a title, facts about the run as a list, then tables and lists.
type Report struct {
	strings.Builder
}

// NewReport starts a report with its title and the facts every report
// gives: when it ran, for how long, on what machine, under what load
// (the load average at the start; "" leaves it to the caller) and with
// which Go (goNote says what was built with it).
func NewReport(title string, start time.Time, elapsed time.Duration, loadavg, goNote string) *Report {
	r := &Report{}
	fmt.Fprintf(r, "## %s\n\n", title)
	r.Fact("date: %s (run took %v)", start.UTC().Format(time.RFC3339), elapsed.Round(time.Second))
	r.Fact("machine: %s", sysinfo.Machine())
	if loadavg != "" {
		r.Fact("load average at the start: %s (anything but 0 means other work shared the CPUs)", loadavg)
	}
	r.Fact("Go: %s (%s)", runtime.Version(), goNote)
	return r
}

// Fact adds one line to the current list.
func (r *Report) Fact(format string, args ...any) {
	fmt.Fprintf(r, "- "+format+"\n", args...)
}

// List adds a list under heading (a line such as "Notes:" or "### Notes"),
// or nothing when items is empty.
func (r *Report) List(heading string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(r, "\n%s\n\n", heading)
	for _, it := range items {
		r.Fact("%s", it)
	}
}

// Table renders a Markdown table: head, then rows. A head cell that ends
// in ":" is a right-aligned column (the colon is not shown); a row with
// fewer cells than head is filled with "—".
func Table(head []string, rows [][]string) string {
	var b strings.Builder
	sep := make([]string, len(head))
	names := make([]string, len(head))
	for i, h := range head {
		name, right := strings.CutSuffix(h, ":")
		names[i], sep[i] = name, "---"
		if right {
			sep[i] = "---:"
		}
	}
	line := func(cells []string) { b.WriteString("| " + strings.Join(cells, " | ") + " |\n") }
	line(names)
	b.WriteString("|" + strings.Join(sep, "|") + "|\n")
	for _, row := range rows {
		for len(row) < len(head) {
			row = append(row, "—")
		}
		line(row)
	}
	return b.String()
}
