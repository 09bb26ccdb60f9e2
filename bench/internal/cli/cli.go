// Package cli is what the bench command's subcommands share: flag sets
// that print an example on --help, usage errors (exit code 2), the exit
// code of a run, the context a run is cancelled by, the account of a run
// (progress, notes, its command line) and the Markdown report every
// subcommand prints and writes to --out, and the machine it ran on.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lanchat/lanchat/internal/testbed"
)

// ErrUsage marks errors caused by a bad command line (exit code 2).
var ErrUsage = errors.New("usage")

// Flags makes a flag set for the subcommand name ("bench messaging")
// that prints what it does, its flags and examples on --help.
func Flags(name, what string, stderr io.Writer, examples ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage of %s (%s):\n", name, what)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nExamples:\n  %s\n", strings.Join(examples, "\n  "))
	}
	return fs
}

// Parse parses flags, wrapping failures as usage errors, and refuses
// positional arguments.
func Parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		return fmt.Errorf("%w: %v", ErrUsage, err)
	case fs.NArg() != 0:
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	return nil
}

// Context is cancelled by SIGINT, SIGTERM or SIGHUP.
func Context() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
}

// Exit prints err, if any, and returns the exit code: 0 for none or
// --help, 2 for a usage error, 1 for anything else.
func Exit(name string, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	if errors.Is(err, ErrUsage) {
		return 2
	}
	return 1
}

// Main is a subcommand's whole run: parse the flags into a
// configuration, run the benchmark under Context, and return the exit
// code as Exit does.
func Main[C any](name string, args []string, stdout, stderr io.Writer,
	parse func(args []string, stderr io.Writer) (C, error),
	run func(ctx context.Context, cfg C, args []string, stdout, stderr io.Writer) error) int {
	cfg, err := parse(args, stderr)
	if err == nil {
		ctx, stop := Context()
		defer stop()
		err = run(ctx, cfg, args, stdout, stderr)
	}
	return Exit(name, err, stderr)
}

// Common are the flags of the subcommands that start processes of their
// own: where the binaries are, where the report goes, and whether the
// temporary directory is kept.
type Common struct {
	Bin  string // --bin
	Out  string // --out
	Keep bool   // --keep
}

// AddFlags adds --bin, --out and --keep to fs; binHelp says which
// binaries --bin holds, keepHelp what --keep keeps.
func (c *Common) AddFlags(fs *flag.FlagSet, binHelp, keepHelp string) {
	fs.StringVar(&c.Bin, "bin", "bin", "`DIR` holding "+binHelp)
	fs.StringVar(&c.Out, "out", "", "also write the report to `FILE` (e.g. bench/results/NAME-latest.md)")
	fs.BoolVar(&c.Keep, "keep", false, "keep "+keepHelp+" for a post-mortem")
}

// Publish prints report to stdout and, with --out, writes it there too,
// making its directory, and says so on progress.
func (c *Common) Publish(stdout, progress io.Writer, report string) error {
	fmt.Fprint(stdout, report)
	if c.Out == "" {
		return nil
	}
	err := os.MkdirAll(filepath.Dir(c.Out), 0o755)
	if err == nil {
		err = os.WriteFile(c.Out, []byte(report), 0o644)
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintf(progress, "== written to %s\n", c.Out)
	return nil
}

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
	return Run{Name: name, Args: args, Start: time.Now(), Loadavg: LoadAverage(), Progress: progress}
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
	r.Fact("machine: %s", Machine())
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
	if len(items) > 0 {
		fmt.Fprintf(r, "\n%s\n\n- %s\n", heading, strings.Join(items, "\n- "))
	}
}

// Table renders a Markdown table: head, then rows. A head cell that ends
// in ":" is a right-aligned column (the colon is not shown); a row with
// fewer cells than head is filled with "—".
func Table(head []string, rows [][]string) string {
	names, sep := make([]string, len(head)), make([]string, len(head))
	for i, h := range head {
		name, right := strings.CutSuffix(h, ":")
		names[i], sep[i] = name, map[bool]string{false: "---", true: "---:"}[right]
	}
	b := "| " + strings.Join(names, " | ") + " |\n|" + strings.Join(sep, "|") + "|\n"
	for _, row := range rows {
		for len(row) < len(head) {
			row = append(row, "—")
		}
		b += "| " + strings.Join(row, " | ") + " |\n"
	}
	return b
}

// Machine describes this machine: CPUs, memory, kernel.
func Machine() string {
	s := fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if m := ProcField("/proc/cpuinfo", "model name"); m != "" {
		s += ", " + m
	}
	var kb int64
	if _, err := fmt.Sscan(ProcField("/proc/meminfo", "MemTotal"), &kb); err == nil {
		s += fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
	}
	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(s + ", " + runtime.GOOS + " " + strings.TrimSpace(string(rel)))
}

// ProcField returns the value of the first line of a /proc file that
// starts with key, or "".
func ProcField(path, key string) string {
	b, _ := os.ReadFile(path)
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
		}
	}
	return ""
}

// LoadAverage returns the 1, 5 and 15 minute load averages, or "".
func LoadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}
