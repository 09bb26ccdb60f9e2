package cli

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/sysinfo"
)

// Report is the Markdown report every subcommand prints and writes to
// --out: a title, facts about the run as a list, then tables and lists.
type Report struct {
	strings.Builder
}

// NewReport starts a report with its title and the facts every report
// gives: when it ran, for how long, on what machine, under what load
// (loadavg, the load average at the start; "" leaves it to the caller)
// and with which Go (goNote says what was built with it).
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
